/*
 * xsk_receiver: the minimal C AF_XDP receiver that bench/live-bench.ts sets
 * beside our Node receive path. It does the same work per frame as
 * XskSocket.receive (copy the frame once into a contiguous buffer, give the
 * UMEM frame back to the fill ring, kick only when need_wakeup says so) and
 * nothing more, so the ratio of the two is the cost of our Node path.
 *
 * Steps: open the pinned XSKMAP, create the UMEM and a copy-mode socket on
 * IFACE queue Q with libxdp (our XDP program is already attached: program
 * load inhibited), put the socket into the map, print "ready", wait in
 * poll() and drain batches until COUNT frames arrived, IDLE ms passed with
 * nothing after the first frame, or SECONDS of wall time ran out.
 *
 * Prints one JSON line with the frames, bytes, elapsed time, the process's
 * CPU time since "ready" (user + system, from getrusage: the counters of
 * /proc/self/stat at microsecond resolution) and the kernel's XDP_STATISTICS.
 *
 * With -V SF_FLOWS_PIN -P PORT it is also the floor of the verdict latency:
 * each IPv4 UDP frame to PORT gets a BLOCK entry in sf_flows at once, the
 * least work any user-space verdict can take, so flow_probe timing it gives
 * what this machine's wake-ups and syscalls cost before any inspection.
 *
 * With -T TAP or -X PEER it also passes every frame on, as the daemon does
 * with a passed packet, so the daemon can be set beside a C program doing
 * the same delivery as well as beside one that delivers nothing:
 *   -T TAP   host mode: creates the TAP as host-mode delivery does
 *            (host/native/tap_frame.h) and writes each frame into it with
 *            its virtio-net header, one writev per frame;
 *   -X PEER  inline mode: copies each frame into a second socket's UMEM on
 *            PEER queue 0 and sends it from the TX ring, kicking as the
 *            daemon's transmit() does.
 *
 * usage: xsk_receiver -i IFACE -m XSKMAP_PIN [-q QUEUE] [-c COUNT] [-I IDLE_MS] [-t SECONDS] [-R RING] [-V SF_FLOWS_PIN -P PORT] [-T TAP | -X PEER]
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "secuxflow.h"
#include "bench_util.h"
#include "udp4_flow_key.h"
#include "tap_frame.h"
#include "xsk_tx.h"

#define FRAME_SIZE 2048
#define DEFAULT_RING 2048 /* -R: ring size; the UMEM has twice as many frames, as XskSocket's */
#define BATCH 64

/* SIGINT/SIGTERM end the receive loop, so the summary line and the cleanup still run. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int verdict_fd = -1;
static uint16_t verdict_port;
static struct sf_flow_meta *verdict_value; /* one per possible CPU: sf_flows is per-CPU */

/* Writes BLOCK for an IPv4 UDP frame to verdict_port, keyed as the daemon keys it. */
static void write_verdict(const uint8_t *f, uint32_t len)
{
	if (len < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || f[23] != IPPROTO_UDP)
		return;
	const uint8_t *l4 = f + 14 + (f[14] & 0x0f) * 4;
	if (l4 + 8 > f + len || ((l4[2] << 8) | l4[3]) != verdict_port)
		return;
	struct sf_flow_key k;
	udp4_flow_key(&k, f + 26, f + 30, (uint16_t)((l4[0] << 8) | l4[1]), verdict_port);
	bpf_map_update_elem(verdict_fd, &k, verdict_value, BPF_ANY);
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "xsk_receiver: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* -T: the TAP, set up as host-mode delivery sets up its own; exits on failure. */
static int open_tap(const char *ifname, const char *tap_name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("/dev/net/tun", errno);
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	req.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(req.ifr_name, IFNAMSIZ, "%s", tap_name);
	if (ioctl(fd, TUNSETIFF, &req) < 0)
		fail("creating the TAP", errno);
	int hdr_size = sizeof(struct virtio_net_hdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0)
		fail("TUNSETVNETHDRSZ", errno);
	const char *step = "";
	int err = tap_configure(ifname, req.ifr_name, &step);
	if (err)
		fail(step, err);
	return fd;
}

/* -X: a TX-only socket on the peer, with its own UMEM, sending as inline mode's transmit() does (host/native/xsk_tx.h). */
struct forward {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	struct xsk_ring_prod tx, fill;
	struct xsk_ring_cons comp;
	void *area;
	size_t area_size;
	__u32 ring;
	struct xsk_tx_frames frames;
	uint64_t kicks;
};

static void open_forward(struct forward *fw, const char *peer, __u32 ring)
{
	fw->ring = ring;
	fw->area_size = (size_t)ring * FRAME_SIZE;
	fw->area = mmap(NULL, fw->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fw->area == MAP_FAILED)
		fail("mmap (peer)", errno);
	struct xsk_umem_config ucfg = { .fill_size = ring, .comp_size = ring, .frame_size = FRAME_SIZE };
	int err = xsk_umem__create(&fw->umem, fw->area, fw->area_size, &fw->fill, &fw->comp, &ucfg);
	if (err)
		fail("xsk_umem__create (peer)", err);
	struct xsk_socket_config scfg = {
		.tx_size = ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	for (int tries = 0; tries < 50; tries++) { /* EBUSY: as for the receive socket below */
		err = xsk_socket__create(&fw->xsk, peer, 0, fw->umem, NULL, &fw->tx, &scfg);
		if (err != -EBUSY)
			break;
		usleep(10000);
	}
	if (err)
		fail("xsk_socket__create (peer)", err);
	fw->frames.free = malloc(sizeof(__u64) * ring);
	fw->frames.frame_size = FRAME_SIZE;
	for (__u32 i = 0; i < ring; i++)
		fw->frames.free[fw->frames.n_free++] = (__u64)i * FRAME_SIZE;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *pin = NULL;
	uint32_t queue = 0, ring = DEFAULT_RING;
	uint64_t count = 0, idle_ms = 1000;
	double seconds = 30;
	const char *verdict_pin = NULL, *tap_name = NULL, *peer = NULL;
	int c;
	while ((c = getopt(argc, argv, "i:m:q:c:I:t:R:V:P:T:X:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'm': pin = optarg; break;
		case 'q': queue = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'c': count = strtoull(optarg, NULL, 10); break;
		case 'I': idle_ms = strtoull(optarg, NULL, 10); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'R': ring = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'V': verdict_pin = optarg; break;
		case 'P': verdict_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'T': tap_name = optarg; break;
		case 'X': peer = optarg; break;
		default:
			fprintf(stderr, "usage: xsk_receiver -i IFACE -m XSKMAP_PIN [-q QUEUE] [-c COUNT] [-I IDLE_MS] [-t SECONDS] [-R RING] [-V PIN -P PORT] [-T TAP | -X PEER]\n");
			return 2;
		}
	}
	if (!ifname || !pin || ring < 64 || (ring & (ring - 1)) || (tap_name && peer)) {
		fprintf(stderr, "xsk_receiver: -i and -m are required; -R must be a power of two >= 64; -T and -X exclude each other\n");
		return 2;
	}
	int tap_fd = tap_name ? open_tap(ifname, tap_name) : -1;
	struct forward fw = { 0 };
	if (peer)
		open_forward(&fw, peer, ring);

	if (verdict_pin) {
		verdict_fd = bpf_obj_get(verdict_pin);
		if (verdict_fd < 0)
			fail(verdict_pin, errno);
		int ncpu = libbpf_num_possible_cpus();
		verdict_value = calloc(ncpu > 0 ? ncpu : 1, sizeof(*verdict_value));
		for (int i = 0; i < ncpu; i++)
			verdict_value[i].verdict = SF_FLOW_BLOCK;
	}

	/* 1. the XSKMAP our XDP program redirects into */
	int map_fd = bpf_obj_get(pin);
	if (map_fd < 0)
		fail(pin, errno);

	/* 2. UMEM: the lower half of the frames feeds the fill ring */
	size_t area_size = (size_t)ring * 2 * FRAME_SIZE;
	void *area = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		fail("mmap", errno);
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	struct xsk_umem *umem;
	struct xsk_umem_config ucfg = { .fill_size = ring, .comp_size = ring, .frame_size = FRAME_SIZE };
	int err = xsk_umem__create(&umem, area, area_size, &fill, &comp, &ucfg);
	if (err)
		fail("xsk_umem__create", err);

	/* 3. the socket, copy mode, our program left in place */
	struct xsk_socket *xsk;
	struct xsk_socket_config scfg = {
		.rx_size = ring,
		.tx_size = ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	/* the previous run's socket releases the queue from deferred work: retry EBUSY briefly */
	for (int tries = 0; tries < 50; tries++) {
		err = xsk_socket__create(&xsk, ifname, queue, umem, &rx, &tx, &scfg);
		if (err != -EBUSY)
			break;
		usleep(10000);
	}
	if (err)
		fail("xsk_socket__create", err);
	int fd = xsk_socket__fd(xsk);
	__u32 idx;
	__u32 n = xsk_ring_prod__reserve(&fill, ring, &idx);
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&fill, idx + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&fill, n);

	/* 4. into the map: from now on inspect packets of this queue come here */
	if (bpf_map_update_elem(map_fd, &queue, &fd, BPF_ANY))
		fail("updating the XSKMAP", errno);
	printf("ready\n");
	fflush(stdout);
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0); /* CPU is counted from here: setup is not per-packet work */

	/* 5. receive: the same copy-once work as XskSocket.receive */
	static uint8_t into[BATCH * FRAME_SIZE];
	uint32_t descs[2 * BATCH]; /* offset and length of each frame in `into` */
	uint64_t delivered = 0;
	uint64_t got = 0, bytes = 0, wakeups = 0, first = 0, last = 0, checksum = 0;
	uint64_t start = now_ns(), deadline = start + (uint64_t)(seconds * 1e9);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while ((!count || got < count) && !stopping) {
		uint64_t t = now_ns();
		if (t > deadline || (first && t - last > idle_ms * 1000000ull))
			break;
		__u32 idx_rx;
		__u32 k = xsk_ring_cons__peek(&rx, BATCH, &idx_rx);
		if (!k) {
			if (xsk_ring_prod__needs_wakeup(&fill)) {
				recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
				wakeups++;
			}
			poll(&pfd, 1, 100);
			continue;
		}
		__u32 idx_fill;
		while (xsk_ring_prod__reserve(&fill, k, &idx_fill) != k)
			;
		size_t pos = 0;
		for (__u32 i = 0; i < k; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx_rx + i);
			memcpy(into + pos, xsk_umem__get_data(area, xsk_umem__add_offset_to_addr(d->addr)), d->len);
			checksum += into[pos + d->len - 1];
			if (verdict_fd >= 0)
				write_verdict(into + pos, d->len);
			descs[2 * i] = (uint32_t)pos;
			descs[2 * i + 1] = d->len;
			pos = (pos + d->len + 7) & ~(size_t)7;
			bytes += d->len;
			*xsk_ring_prod__fill_addr(&fill, idx_fill + i) = d->addr & ~(__u64)(FRAME_SIZE - 1);
		}
		xsk_ring_prod__submit(&fill, k);
		xsk_ring_cons__release(&rx, k);
		got += k;
		/* passed on from the copy, after the refill, as the daemon does after receive() */
		if (tap_fd >= 0) {
			for (__u32 i = 0; i < k; i++) {
				struct virtio_net_hdr h;
				uint8_t *frame = into + descs[2 * i];
				uint32_t len = descs[2 * i + 1];
				tap_vnet_hdr(frame, len, &h);
				struct iovec iov[2] = { { &h, sizeof(h) }, { frame, len } };
				if (writev(tap_fd, iov, 2) == (ssize_t)(sizeof(h) + len))
					delivered++;
			}
		} else if (peer) {
			delivered += xsk_tx_send(&fw.frames, &fw.tx, &fw.comp, fw.ring, xsk_socket__fd(fw.xsk), fw.area, into, descs, k, &fw.kicks);
		}
		last = now_ns();
		if (!first)
			first = last;
		if (xsk_ring_prod__needs_wakeup(&fill)) {
			recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			wakeups++;
		}
	}

	/* -X: what the kernel has sent, once the last kick's frames are through (at most 100 ms) */
	for (int i = 0; peer && fw.frames.completed < fw.frames.queued && i < 100; i++) {
		xsk_tx_reclaim(&fw.frames, &fw.comp, fw.ring);
		if (fw.frames.completed < fw.frames.queued)
			usleep(1000);
	}
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);
	getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &len);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	uint64_t cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0.ru_utime.tv_sec - ru0.ru_stime.tv_sec) * 1000000000ull +
			  (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0.ru_utime.tv_usec - ru0.ru_stime.tv_usec) * 1000ull;
	printf("{\"received\":%llu,\"bytes\":%llu,\"active_ns\":%llu,\"elapsed_ns\":%llu,\"cpu_ns\":%llu,\"wakeups\":%llu,"
	       "\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"fill_ring_empty\":%llu,\"checksum\":%llu,\"delivered\":%llu,\"sent_by_peer\":%llu}\n",
	       (unsigned long long)got, (unsigned long long)bytes, (unsigned long long)(last - first),
	       (unsigned long long)(now_ns() - start), (unsigned long long)cpu_ns, (unsigned long long)wakeups,
	       (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full,
	       (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)checksum, (unsigned long long)delivered,
	       (unsigned long long)fw.frames.completed);

	/* 6. out of the map first, so the punt fallback applies again */
	bpf_map_delete_elem(map_fd, &queue);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, area_size);
	close(map_fd);
	if (tap_fd >= 0)
		close(tap_fd); /* not persistent: the TAP goes with its fd */
	if (peer) {
		xsk_socket__delete(fw.xsk);
		xsk_umem__delete(fw.umem);
		munmap(fw.area, fw.area_size);
		free(fw.frames.free);
	}
	return 0;
}
