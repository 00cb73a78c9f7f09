/*
 * udp_sink: the service behind the bench's load. It binds UDP ports in the
 * receiver namespace and drains them every few milliseconds, counting what it
 * read.
 *
 * Why it exists: packets that host mode delivers go up the local stack in the
 * thread that writes them to the TAP. With no socket on the port, the kernel
 * answers each one with an ICMP port unreachable, and the route lookup that
 * takes cost the daemon's thread about a sixth of its time. A protected host
 * runs a service on the ports it is sent, so the bench gives it one.
 *
 * Why it drains on a timer rather than blocking in recv: a reader asleep on the
 * socket would be woken by every packet, and that wake-up would be charged to
 * the writer (the daemon). Sleeping on a timer with a large receive buffer
 * leaves the daemon the cost of one socket enqueue per packet, and no more.
 *
 * Prints {"received":N,"dropped_by_socket":D} on SIGINT or SIGTERM, or when
 * the time limit runs out. D is what the kernel counted as dropped on the
 * sockets (receive buffer full), read from SO_MEMINFO's drop counter.
 *
 * usage: udp_sink -p PORT [-p PORT ...] [-t SECONDS] [-b RCVBUF_BYTES] [-i MS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_PORTS 8
#define VLEN 256
#define BUF 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_port(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	/* FORCE: the bench runs as root, and the default limit holds a few ms of load at most. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		die("SO_RCVBUFFORCE");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	return fd;
}

static uint64_t socket_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len < sizeof(mem))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

int main(int argc, char **argv)
{
	int ports[MAX_PORTS], nports = 0, rcvbuf = 64 << 20, interval_ms = 5;
	double seconds = 600;
	int c;
	while ((c = getopt(argc, argv, "p:t:b:i:")) != -1) {
		switch (c) {
		case 'p':
			if (nports == MAX_PORTS) {
				fprintf(stderr, "udp_sink: at most %d ports\n", MAX_PORTS);
				return 2;
			}
			ports[nports++] = atoi(optarg);
			break;
		case 't': seconds = atof(optarg); break;
		case 'b': rcvbuf = atoi(optarg); break;
		case 'i': interval_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: udp_sink -p PORT [-p PORT ...] [-t SECONDS] [-b RCVBUF_BYTES] [-i MS]\n");
			return 2;
		}
	}
	if (nports == 0 || interval_ms < 1) {
		fprintf(stderr, "usage: udp_sink -p PORT [-p PORT ...] [-t SECONDS] [-b RCVBUF_BYTES] [-i MS]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int fds[MAX_PORTS];
	for (int i = 0; i < nports; i++)
		fds[i] = open_port(ports[i], rcvbuf);

	static char bufs[VLEN][BUF];
	struct iovec iov[VLEN];
	struct mmsghdr msgs[VLEN];
	for (int i = 0; i < VLEN; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = BUF };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	printf("ready\n");
	fflush(stdout);

	uint64_t received = 0;
	const uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = (long)interval_ms * 1000000L };
	for (;;) {
		/* One last drain after the signal, so nothing already queued goes uncounted. */
		int last = stop || now_ns() >= deadline;
		for (int i = 0; i < nports; i++) {
			int n;
			while ((n = recvmmsg(fds[i], msgs, VLEN, MSG_DONTWAIT, NULL)) > 0)
				received += (uint64_t)n;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				die("recvmmsg");
		}
		if (last)
			break;
		nanosleep(&nap, NULL);
	}
	uint64_t drops = 0;
	for (int i = 0; i < nports; i++)
		drops += socket_drops(fds[i]);
	printf("{\"received\":%llu,\"dropped_by_socket\":%llu}\n", (unsigned long long)received, (unsigned long long)drops);
	return 0;
}
