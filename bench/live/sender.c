/*
 * sender: offers a fixed number of Ethernet frames on one interface through
 * an AF_PACKET socket and sendmmsg, paced to a target rate. Used by
 * bench/live-bench.ts and the AF_XDP tests, from inside a namespace on one
 * end of a veth pair. Bounded by its frame count and a wall-clock limit.
 *
 * Generated frames are IPv4/UDP: source port cycles over `flows` values so
 * the load has that many 5-tuples; the payload starts with the frame's
 * sequence number (u32, network order) followed by a fixed pattern, so a
 * receiver can check every frame it got. With -f the frames are instead read
 * from a file of records (u16 length, little-endian, then the bytes) and
 * sent as they are.
 *
 * Prints one JSON line: {"sent":N,"elapsed_ns":T,"pps":R,"errors":E}.
 *
 * usage: sender -i IFACE -c COUNT [-s SIZE] [-F FLOWS] [-r PPS] [-t SECONDS]
 *               [-d DSTMAC] [-S SRCIP] [-D DSTIP] [-p DPORT] [-f FILE]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define BATCH 64
#define MAX_FRAME 2048
#define MAX_FILE_FRAMES 65536

struct opts {
	const char *ifname;
	const char *file;
	uint64_t count;
	uint32_t size;
	uint32_t flows;
	uint64_t rate; /* frames per second; 0 = as fast as possible */
	double seconds;
	uint8_t dst_mac[6];
	struct in_addr src, dst;
	uint16_t dport;
};

static void usage(void)
{
	fprintf(stderr, "usage: sender -i IFACE -c COUNT [-s SIZE] [-F FLOWS] [-r PPS] [-t SECONDS] [-d DSTMAC] [-S SRCIP] [-D DSTIP] "
			"[-p DPORT] [-f FILE]\n");
	exit(2);
}

/* One IPv4/UDP frame of o->size bytes for sequence number seq. */
static void build_frame(const struct opts *o, const uint8_t src_mac[6], uint64_t seq, uint8_t *f)
{
	struct ether_header *eth = (struct ether_header *)f;
	memcpy(eth->ether_dhost, o->dst_mac, 6);
	memcpy(eth->ether_shost, src_mac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	struct iphdr *ip = (struct iphdr *)(f + sizeof(*eth));
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(o->size - sizeof(*eth)));
	ip->id = htons((uint16_t)seq);
	ip->saddr = o->src.s_addr;
	ip->daddr = o->dst.s_addr;
	ip->check = ip_checksum(ip, sizeof(*ip));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	udp->source = htons((uint16_t)(10000 + seq % o->flows));
	udp->dest = htons(o->dport);
	udp->len = htons((uint16_t)(o->size - sizeof(*eth) - sizeof(*ip)));
	udp->check = 0; /* optional in IPv4 */
	uint8_t *payload = (uint8_t *)(udp + 1);
	size_t plen = o->size - (size_t)(payload - f);
	uint32_t nseq = htonl((uint32_t)seq);
	memcpy(payload, &nseq, 4);
	for (size_t i = 4; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* Frames from -f: returns how many were loaded into frames/lens. */
static size_t load_file(const char *path, uint8_t **frames, uint16_t *lens)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		die(path);
	size_t n = 0;
	uint8_t hdr[2];
	while (n < MAX_FILE_FRAMES && fread(hdr, 1, 2, fp) == 2) {
		uint16_t len = (uint16_t)(hdr[0] | hdr[1] << 8);
		if (len < 14 || len > MAX_FRAME) {
			fprintf(stderr, "sender: %s: frame %zu has bad length %u\n", path, n, len);
			exit(1);
		}
		frames[n] = malloc(len);
		if (!frames[n] || fread(frames[n], 1, len, fp) != len) {
			fprintf(stderr, "sender: %s: truncated at frame %zu\n", path, n);
			exit(1);
		}
		lens[n++] = len;
	}
	/* A longer file would be cycled through its first frames only: say so rather than send another load. */
	if (n == MAX_FILE_FRAMES && fread(hdr, 1, 1, fp) == 1) {
		fprintf(stderr, "sender: %s holds more than %d frames; split it into files of at most %d\n", path, MAX_FILE_FRAMES, MAX_FILE_FRAMES);
		exit(1);
	}
	fclose(fp);
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 0, .size = 64, .flows = 1, .rate = 0, .seconds = 30, .dport = 9 };
	memset(o.dst_mac, 0xff, 6);
	inet_pton(AF_INET, "198.18.0.1", &o.src);
	inet_pton(AF_INET, "198.18.0.2", &o.dst);
	int c;
	while ((c = getopt(argc, argv, "i:c:s:F:r:t:d:S:D:p:f:")) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'c': o.count = strtoull(optarg, NULL, 10); break;
		case 's': o.size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'F': o.flows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': o.rate = strtoull(optarg, NULL, 10); break;
		case 't': o.seconds = strtod(optarg, NULL); break;
		case 'd': if (parse_mac(optarg, o.dst_mac)) usage(); break;
		case 'S': if (inet_pton(AF_INET, optarg, &o.src) != 1) usage(); break;
		case 'D': if (inet_pton(AF_INET, optarg, &o.dst) != 1) usage(); break;
		case 'p': o.dport = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'f': o.file = optarg; break;
		default: usage();
		}
	}
	if (!o.ifname || (!o.file && !o.count) || o.flows == 0 || o.seconds <= 0)
		usage();
	if (o.size < 60 || o.size > 1514) {
		fprintf(stderr, "sender: size must be 60..1514\n");
		return 2;
	}

	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only, never receive */
	if (fd < 0)
		die("socket(AF_PACKET)");
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, IFNAMSIZ, "%s", o.ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &req) < 0)
		die(o.ifname);
	uint8_t src_mac[6];
	memcpy(src_mac, req.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(o.ifname), .sll_halen = 6 };
	if (!sll.sll_ifindex)
		die(o.ifname);
	memcpy(sll.sll_addr, o.dst_mac, 6);

	static uint8_t *file_frames[MAX_FILE_FRAMES];
	static uint16_t file_lens[MAX_FILE_FRAMES];
	size_t nfile = 0;
	if (o.file) {
		nfile = load_file(o.file, file_frames, file_lens);
		if (!o.count)
			o.count = nfile;
		if (!nfile) {
			fprintf(stderr, "sender: %s holds no frames\n", o.file);
			return 1;
		}
	}

	static uint8_t buf[BATCH][MAX_FRAME];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
	}

	uint64_t start = now_ns(), deadline = start + (uint64_t)(o.seconds * 1e9);
	uint64_t sent = 0, errors = 0;
	while (sent < o.count) {
		uint64_t t = now_ns();
		if (t > deadline)
			break;
		uint64_t want = o.count - sent;
		if (o.rate) {
			/* Paced: only what the schedule allows by now, at most one batch. */
			uint64_t due = (uint64_t)((double)(t - start) * (double)o.rate / 1e9) + 1;
			if (due > o.count)
				due = o.count;
			want = due > sent ? due - sent : 0;
			if (!want) {
				struct timespec nap = { 0, 2000 };
				nanosleep(&nap, NULL);
				continue;
			}
		}
		int n = want < BATCH ? (int)want : BATCH;
		for (int i = 0; i < n; i++) {
			uint64_t seq = sent + (uint64_t)i;
			if (o.file) {
				iov[i].iov_base = file_frames[seq % nfile];
				iov[i].iov_len = file_lens[seq % nfile];
			} else {
				build_frame(&o, src_mac, seq, buf[i]);
				iov[i].iov_base = buf[i];
				iov[i].iov_len = o.size;
			}
		}
		int r = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				errors++;
				continue;
			}
			die("sendmmsg");
		}
		sent += (uint64_t)r;
	}
	uint64_t elapsed = now_ns() - start;
	printf("{\"sent\":%llu,\"elapsed_ns\":%llu,\"pps\":%.0f,\"errors\":%llu}\n", (unsigned long long)sent,
	       (unsigned long long)elapsed, elapsed ? (double)sent * 1e9 / (double)elapsed : 0.0, (unsigned long long)errors);
	close(fd);
	return sent == o.count ? 0 : 3;
}
