/*
 * The sf_flows key of an IPv4 UDP flow in wire order, as the daemon writes it
 * (addresses v4-mapped, ports in host order): shared by the bench's probe,
 * which looks entries up, and its C receiver, which writes them.
 */
#ifndef SECUXFLOW_BENCH_UDP4_FLOW_KEY_H
#define SECUXFLOW_BENCH_UDP4_FLOW_KEY_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "secuxflow.h"

/* saddr, daddr: 4 bytes each, network order. */
static inline void udp4_flow_key(struct sf_flow_key *k, const void *saddr, const void *daddr, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->src[10] = k->src[11] = 0xff;
	memcpy(&k->src[12], saddr, 4);
	k->dst[10] = k->dst[11] = 0xff;
	memcpy(&k->dst[12], daddr, 4);
	k->sport = sport;
	k->dport = dport;
	k->proto = IPPROTO_UDP;
	k->version = 4;
}

#endif
