/*
 * flow_probe: times the daemon's verdict path from the outside. It sends
 * frames of new UDP flows from the sender namespace (AF_PACKET) and watches
 * the pinned flow-verdict map (sf_flows) for each flow's forward key, so the
 * time measured runs from the moment a packet is on the wire to the moment
 * its verdict is in the kernel map: XDP punt, AF_XDP, the worker's batch,
 * the module, and the map write.
 *
 *   latency mode (default): N probes, one new flow each, GAP µs apart; each
 *     probe waits for its key (up to 100 ms). Prints p50/p90/p99/max in µs.
 *   burst mode (-B): N new flows sent at RATE per second (-r, 0 = back to
 *     back), then waits for their forward keys. Prints how many got a
 *     verdict and the end-to-end new flows per second.
 *
 * Flow i is SRC:(BASE+i) -> DST:DPORT (BASE from -s, default 1024), so BASE+N <= 65536. The key layout is
 * struct sf_flow_key from xdp/secuxflow.h (the same header the kernel uses).
 *
 * -R PRIO runs the probe itself at SCHED_FIFO PRIO. The observer must not
 * queue behind what it observes: the daemon's queue threads run SCHED_FIFO,
 * and a normal-policy probe woke late after its nap, adding its own
 * scheduling delay to the sample. The floor run uses the same setting.
 *
 * usage: flow_probe -i IFACE -m SF_FLOWS_PIN -d DSTMAC -S SRC -D DST -p DPORT -n N [-s BASE] [-g GAP_US] [-B [-r RATE]] [-t SECONDS] [-R PRIO]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <bpf/bpf.h>
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "secuxflow.h"
#include "bench_util.h"
#include "udp4_flow_key.h"

#define FRAME 64
#define MAX_PROBES 64000
#define PROBE_WAIT_NS 100000000ull
/* Between map polls the probe sleeps instead of spinning: on 2 CPUs a spinning
 * probe takes the CPU the daemon needs and measures the scheduler, not the
 * daemon. The nap bounds the upward error of each sample (timer slack is set
 * to 1 ns so the nap is what it says). */
#define POLL_NAP_NS 5000L

static void nap_between_polls(void)
{
	struct timespec t = { 0, POLL_NAP_NS };
	nanosleep(&t, NULL);
}

struct probe_cfg {
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr src, dst;
	uint16_t dport;
};

static void build(const struct probe_cfg *c, uint16_t sport, uint8_t *f)
{
	memset(f, 0, FRAME);
	struct ether_header *eth = (struct ether_header *)f;
	memcpy(eth->ether_dhost, c->dst_mac, 6);
	memcpy(eth->ether_shost, c->src_mac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(FRAME - sizeof(*eth));
	ip->saddr = c->src.s_addr;
	ip->daddr = c->dst.s_addr;
	ip->check = ip_checksum(ip, sizeof(*ip));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	udp->source = htons(sport);
	udp->dest = htons(c->dport);
	udp->len = htons(FRAME - sizeof(*eth) - sizeof(*ip));
	memcpy(udp + 1, "secuxflow-probe", 15);
}

/* The forward key the daemon writes for flow sport. */
static void key_of(const struct probe_cfg *c, uint16_t sport, struct sf_flow_key *k)
{
	udp4_flow_key(k, &c->src.s_addr, &c->dst.s_addr, sport, c->dport);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	const char *ifname = NULL, *pin = NULL;
	struct probe_cfg c = { .dport = 9 };
	unsigned n = 0, gap_us = 1000, base = 1024, rate = 0;
	int burst = 0, have_mac = 0, rt_prio = 0;
	double seconds = 60;
	int opt;
	inet_pton(AF_INET, "198.18.0.1", &c.src);
	inet_pton(AF_INET, "198.18.0.2", &c.dst);
	while ((opt = getopt(argc, argv, "i:m:d:S:D:p:n:s:g:r:Bt:R:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm': pin = optarg; break;
		case 'd': {
			unsigned v[6];
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
				return 2;
			for (int i = 0; i < 6; i++)
				c.dst_mac[i] = (uint8_t)v[i];
			have_mac = 1;
			break;
		}
		case 'S': inet_pton(AF_INET, optarg, &c.src); break;
		case 'D': inet_pton(AF_INET, optarg, &c.dst); break;
		case 'p': c.dport = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': base = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'g': gap_us = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'B': burst = 1; break;
		case 'r': rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'R': rt_prio = (int)strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!ifname || !pin || !have_mac || n == 0 || n > MAX_PROBES || base + n > 65536) {
		fprintf(stderr, "usage: flow_probe -i IFACE -m SF_FLOWS_PIN -d DSTMAC -S SRC -D DST -p DPORT -n N(<=%d) [-s BASE] [-g GAP_US] [-B] [-t SECONDS] [-R PRIO]\n",
			MAX_PROBES);
		return 2;
	}
	if (rt_prio) {
		struct sched_param sp = { .sched_priority = rt_prio };
		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			die("sched_setscheduler (-R)");
	}
	int map = bpf_obj_get(pin);
	if (map < 0)
		die(pin);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket(AF_PACKET)");
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &req) < 0)
		die(ifname);
	memcpy(c.src_mac, req.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
	memcpy(sll.sll_addr, c.dst_mac, 6);

	uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
	uint8_t frame[FRAME];
	struct sf_flow_key key;
	static struct sf_flow_meta meta[1024]; /* per-CPU value: room for any CPU count we run on */

	if (burst) {
		/* Paced at RATE new flows/s (0: back to back), then passes over the
		 * keys not seen yet until all are there or none appeared for 500 ms
		 * (a flow whose packet was dropped on the way never gets a verdict). */
		uint64_t t0 = now_ns();
		for (unsigned i = 0; i < n; i++) {
			if (rate) {
				uint64_t due = t0 + (uint64_t)((double)i * 1e9 / (double)rate);
				while (now_ns() < due)
					;
			}
			build(&c, (uint16_t)(base + i), frame);
			while (sendto(fd, frame, FRAME, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN)
					die("sendto");
				nap_between_polls();
			}
		}
		uint64_t sent = now_ns();
		uint8_t *seen = calloc(n, 1);
		unsigned found = 0;
		uint64_t last = sent, last_new = sent;
		while (found < n && now_ns() < deadline && now_ns() - last_new < 500000000ull) {
			unsigned before = found;
			for (unsigned i = 0; i < n; i++) {
				if (seen[i])
					continue;
				key_of(&c, (uint16_t)(base + i), &key);
				if (bpf_map_lookup_elem(map, &key, meta) == 0) {
					seen[i] = 1;
					found++;
					last = now_ns();
				}
			}
			if (found > before)
				last_new = now_ns();
			else
				nap_between_polls();
		}
		double all = (double)(last - t0);
		printf("{\"flows\":%u,\"found\":%u,\"offered_per_sec\":%.0f,\"send_ns\":%llu,\"all_ns\":%llu,\"flows_per_sec\":%.0f}\n", n,
		       found, (double)n * 1e9 / (double)(sent - t0), (unsigned long long)(sent - t0), (unsigned long long)(last - t0),
		       all > 0 ? found * 1e9 / all : 0.0);
		return 0;
	}

	uint64_t *lat = calloc(n, sizeof(uint64_t));
	unsigned found = 0, missed = 0;
	for (unsigned i = 0; i < n && now_ns() < deadline; i++) {
		build(&c, (uint16_t)(base + i), frame);
		key_of(&c, (uint16_t)(base + i), &key);
		uint64_t t0 = now_ns();
		if (sendto(fd, frame, FRAME, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			die("sendto");
		for (;;) {
			if (bpf_map_lookup_elem(map, &key, meta) == 0) {
				lat[found++] = now_ns() - t0;
				break;
			}
			if (now_ns() - t0 > PROBE_WAIT_NS) {
				missed++;
				break;
			}
			nap_between_polls();
		}
		struct timespec nap = { 0, (long)gap_us * 1000 };
		nanosleep(&nap, NULL);
	}
	qsort(lat, found, sizeof(uint64_t), cmp_u64);
#define PCT(p) (found ? lat[(size_t)((found - 1) * (p))] / 1000.0 : 0.0)
	printf("{\"probes\":%u,\"found\":%u,\"missed\":%u,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n", n, found,
	       missed, PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0));
	return missed ? 3 : 0;
}
