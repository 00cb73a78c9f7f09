/*
 * What the bench's C tools (sender, flow_probe, xsk_receiver, udp_sink)
 * share: the monotonic clock in ns, the IPv4 header checksum of the frames
 * they build, and how they give up on a failed call. Include after
 * _GNU_SOURCE (program_invocation_short_name).
 */
#ifndef SECUXFLOW_BENCH_UTIL_H
#define SECUXFLOW_BENCH_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint16_t ip_checksum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;
	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* "tool: what: strerror(errno)" on stderr, then exit 1. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

#endif
