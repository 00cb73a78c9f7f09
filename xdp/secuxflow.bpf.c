// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * secuxflow's XDP program. Decision order for every frame:
 *   pass-all switch -> non-IP pass -> penalty box -> flow verdicts ->
 *   rules (LPM tries for CIDR-only rules, bpf_loop scan for the rest) ->
 *   default policy.
 * Parsing reproduces host/packet/decode.ts decision for decision and the
 * rule semantics are docs/rules.md; test/kernel/differential.test.ts holds
 * the three together. Every exit goes through finish(), which records stats.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "secuxflow.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- maps (names are the SF_MAP_* strings of secuxflow.h) ---- */

/*
 * Every setting and both rule-set headers, as global data: libbpf makes the
 * section a one-value mmapable array (the host stores single words into it)
 * and the program reads it at a fixed address, with no lookup and no
 * register held for a pointer to it.
 */
struct sf_config sf_config SEC(SF_CONFIG_SECTION);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_MAX_RULES * SF_GENERATIONS);
	__type(key, __u32);
	__type(value, struct sf_rule);
} sf_rules_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_MAX_RULES * SF_GENERATIONS);
	__type(key, __u32);
	__type(value, struct sf_rule);
} sf_rules_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_CIDR4_CELLS);
	__type(key, __u32);
	__type(value, __u32);
} sf_cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_CIDR4_METAS * SF_GENERATIONS);
	__type(key, __u32);
	__type(value, struct sf_lpm_meta);
} sf_cidr4_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_CIDR6_CELLS);
	__type(key, __u32);
	__type(value, __u32);
} sf_cidr6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_CIDR6_METAS * SF_GENERATIONS);
	__type(key, __u32);
	__type(value, struct sf_lpm_meta);
} sf_cidr6_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SF_MAX_RULES * SF_GENERATIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_lpm_v6_key);
	__type(value, struct sf_lpm_meta);
} sf_lpm_src_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SF_MAX_RULES * SF_GENERATIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_lpm_v6_key);
	__type(value, struct sf_lpm_meta);
} sf_lpm_dst_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_MAX_PORT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_port_key);
	__type(value, struct sf_lpm_meta);
} sf_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_DPORT_ENTRIES);
	__type(key, __u32);
	__type(value, struct sf_lpm_meta);
} sf_dports SEC(".maps");

/* CIDR-only /32 and /128 entries: one hash lookup instead of a trie walk. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_MAX_EXACT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_exact_v4_key);
	__type(value, struct sf_lpm_meta);
} sf_exact_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_MAX_EXACT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sf_exact_v6_key);
	__type(value, struct sf_lpm_meta);
} sf_exact_v6 SEC(".maps");

/* Rule hit counters by slot: an array lookup the verifier inlines, where a
 * hash keyed by rule id cost a hash walk on every hit. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SF_MAX_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct sf_counter);
} sf_rule_counters SEC(".maps");

/* slot -> rule id: the host's slot allocation, kept here so every process sees it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SF_MAX_RULE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sf_rule_slots SEC(".maps");

/* rule id -> slot, written on a rule's first counted packet (per CPU): which
 * rules have hits, without a dump of every slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_MAX_RULE_COUNTERS);
	__type(key, __u32);
	__type(value, __u32);
} sf_rule_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SF_MAX_FLOWS);
	__type(key, struct sf_flow_key);
	__type(value, struct sf_flow_meta);
} sf_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SF_MAX_PENALTY);
	__type(key, struct sf_penalty_key);
	__type(value, struct sf_penalty_meta);
} sf_penalty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_stats_record);
} sf_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SF_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} sf_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_decision);
} sf_last SEC(".maps");

/* ---- parsed packet ---- */

/* Only the fields rules, flows and the penalty box look at. */
struct sf_pkt {
	__u32 src[4];     /* network order words; v4 in word 3 (v4-mapped) */
	__u32 dst[4];
	__u16 sport;      /* host order */
	__u16 dport;
	__u16 vlan_outer;
	__u16 vlan_inner;
	__u8 nvlans;
	__u8 version;     /* 0 = not IP */
	__u8 proto;
	__u8 has_ports;
	__u8 invalid;     /* drop before the rules: see parse_ipv4 / parse_ipv6 */
};

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define ETH_P_QINQ_LEGACY_ 0x9100 /* pre-802.1ad QinQ: a tag, as the engine reads it */
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_MPLS_UC_ 0x8847
#define ETH_P_MPLS_MC_ 0x8848
#define ETH_P_PPP_SES_ 0x8864
#define PPP_IP_ 0x0021
#define PPP_IPV6_ 0x0057
/* Frames are at most a page here; offsets are masked with this so the
 * verifier sees bounded packet pointers (no-op for every real offset). */
#define SF_OFF_MASK 0x3fff
/* No destination-port lookup (above every SF_DPORT_INDEX; an immediate). */
#define SF_DPORT_NONE SF_DPORT_ENTRIES
/* Bytes 12..14 of a frame, loaded little-endian: EtherType 0x0800, then 0x45. */
#define SF_IPV4_PLAIN 0x450008

/*
 * Multi-byte fields are read with one load each (x86-64 and arm64 allow
 * unaligned packet loads) instead of byte by byte; each bound is checked
 * once, as a pointer comparison where the verifier needs one anyway.
 */
static __always_inline int parse_ipv4(struct sf_pkt *p, void *data, void *data_end, __u32 off)
{
	__u8 *ip = data + off;
	if ((void *)(ip + 20) > data_end)
		return 0;
	__u8 vihl = ip[0];
	if ((vihl >> 4) != 4)
		return 0;
	__u32 len = data_end - data;
	__u32 ihl = (vihl & 0x0f) << 2;
	if (ihl < 20 || off + ihl > len)
		return 0;
	__u32 total = bpf_ntohs(*(__u16 *)(ip + 2));
	if (total < ihl)
		return 0;
	p->version = 4;
	p->src[2] = bpf_htonl(0xffff);
	p->dst[2] = bpf_htonl(0xffff);
	p->src[3] = *(__u32 *)(ip + 12);
	p->dst[3] = *(__u32 *)(ip + 16);
	__u8 proto = ip[9];
	p->proto = proto;
	__u16 frag = *(__u16 *)(ip + 6);
	if (frag & bpf_htons(0x1fff))
		return 1; /* non-first fragment: no L4 */
	__u32 need = proto == 6 ? 20 : (proto == 17 ? 8 : 0);
	if (!need)
		return 1;
	__u32 l4 = off + ihl;
	/* A first fragment too short for the TCP/UDP header (RFC 1858) would
	 * pass every port rule, then be reassembled by the receiver. */
	if ((frag & bpf_htons(0x2000)) && l4 + need > off + total) {
		p->invalid = 1;
		return 1;
	}
	__u32 end = off + total;
	if (end > len)
		end = len;
	if (l4 + need > end)
		return 1;
	__u8 *ports = data + (l4 & SF_OFF_MASK);
	if ((void *)(ports + 4) > data_end)
		return 1;
	p->sport = bpf_ntohs(*(__u16 *)ports);
	p->dport = bpf_ntohs(*(__u16 *)(ports + 2));
	p->has_ports = 1;
	return 1;
}

static __always_inline int is_ipv6_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static __always_inline int parse_ipv6(struct sf_pkt *p, void *data, void *data_end, __u32 off)
{
	__u32 len = data_end - data;
	if (off + 40 > len)
		return 0;
	__u8 *ip = data + off;
	if ((void *)(ip + 40) > data_end)
		return 0;
	if ((ip[0] >> 4) != 6)
		return 0;
	p->version = 6;
	__builtin_memcpy(p->src, ip + 8, 16);
	__builtin_memcpy(p->dst, ip + 24, 16);
	__u32 payload_end = off + 40 + (((__u32)ip[4] << 8) | ip[5]);
	__u32 end = payload_end;
	if (end > len)
		end = len;
	__u8 next = ip[6];
	__u32 pos = off + 40;
	/* Set by a fragment header with offset 0 and M: a first fragment. */
	__u8 first_frag = 0;
	int i;
	/* proto stays 0 for every extension-header fault, as the decoder does. */
#pragma unroll
	for (i = 0; i < SF_MAX_IPV6_EXT + 1; i++) {
		if (!is_ipv6_ext(next))
			break;
		if (i == SF_MAX_IPV6_EXT) {
			/* A longer chain hides the upper layer from the rules while the
			 * receiver walks it to the end. */
			p->invalid = 1;
			return 1;
		}
		pos &= SF_OFF_MASK;
		if (next == 44) {
			if (pos + 8 > end)
				return 1;
			__u8 *fh = data + pos;
			if ((void *)(fh + 8) > data_end)
				return 1;
			__u16 fo = (((__u16)fh[2] << 8) | fh[3]) & 0xfff8;
			next = fh[0];
			pos += 8;
			if (fo) {
				p->proto = next;
				return 1;
			}
			first_frag = fh[3] & 1;
			continue;
		}
		/* In a first fragment, a header running past the fragment leaves the
		 * rest of the chain, and the upper layer the receiver reassembles, in
		 * a later fragment no rule can read (RFC 7112). */
		if (pos + 2 > end) {
			p->invalid = first_frag && pos + 2 > payload_end;
			return 1;
		}
		__u8 *eh = data + pos;
		if ((void *)(eh + 2) > data_end)
			return 1;
		__u32 hlen = next == 51 ? ((__u32)eh[1] + 2) << 2 : ((__u32)eh[1] + 1) << 3;
		if (pos + hlen > end) {
			p->invalid = first_frag && pos + hlen > payload_end;
			return 1;
		}
		next = eh[0];
		pos += hlen;
	}
	p->proto = next;
	__u32 need = next == 6 ? 20 : (next == 17 ? 8 : 0);
	if (!need)
		return 1;
	/* The first fragment must hold the whole header chain (RFC 7112). */
	if (first_frag && pos + need > payload_end) {
		p->invalid = 1;
		return 1;
	}
	if (pos + need > end)
		return 1;
	__u8 *ports = data + (pos & SF_OFF_MASK);
	if ((void *)(ports + 4) > data_end)
		return 1;
	p->sport = ((__u16)ports[0] << 8) | ports[1];
	p->dport = ((__u16)ports[2] << 8) | ports[3];
	p->has_ports = 1;
	return 1;
}

static __always_inline void parse(struct sf_pkt *p, void *data, void *data_end)
{
	__u8 *eth = data;
	if ((void *)(eth + 14) > data_end)
		return;
	__u16 type = bpf_ntohs(*(__u16 *)(eth + 12));
	__u32 off = 14;
	int i;
#pragma unroll
	for (i = 0; i < SF_MAX_VLANS + 1; i++) {
		if (type != ETH_P_8021Q_ && type != ETH_P_8021AD_ && type != ETH_P_QINQ_LEGACY_)
			break;
		if (i == SF_MAX_VLANS) {
			/* A third tag: what it carries no rule can see, while a
			 * receiver (or a bridge in front of one) may read it. */
			p->invalid = 1;
			return;
		}
		__u8 *tag = data + off;
		if ((void *)(tag + 4) > data_end)
			return;
		__u16 vid = bpf_ntohs(*(__u16 *)tag) & 0x0fff;
		if (i == 0)
			p->vlan_outer = vid;
		else
			p->vlan_inner = vid;
		p->nvlans = i + 1;
		type = bpf_ntohs(*(__u16 *)(tag + 2));
		off += 4;
	}
	if (type == ETH_P_MPLS_UC_ || type == ETH_P_MPLS_MC_) {
		/* Walk to the bottom-of-stack entry; the nibble after it names the
		 * payload. A stack without a bottom within the bound, or with
		 * nothing after it, is not IP (the decoder calls it malformed). */
		__u32 lse;
#pragma unroll
		for (i = 0; i < SF_MAX_MPLS_LABELS; i++) {
			__u8 *at = data + off;
			if ((void *)(at + 4) > data_end)
				return;
			lse = bpf_ntohl(*(__u32 *)at);
			off += 4;
			if (lse & 0x100)
				goto mpls_bottom;
		}
		return;
mpls_bottom:;
		/* GAL (label 13) at the bottom: an associated channel, never IP */
		if ((lse >> 12) == 13)
			return;
		__u8 *inner = data + off;
		if ((void *)(inner + 1) > data_end)
			return;
		if ((inner[0] >> 4) == 4)
			type = ETH_P_IP_;
		else if ((inner[0] >> 4) == 6)
			type = ETH_P_IPV6_;
		else
			return; /* control word, Ethernet over MPLS: not opened */
	} else if (type == ETH_P_PPP_SES_) {
		/* version/type 0x11, code 0, session id, length (not read), PPP protocol */
		__u8 *ph = data + off;
		if ((void *)(ph + 8) > data_end)
			return;
		if (ph[0] != 0x11 || ph[1] != 0)
			return;
		__u16 ppp = bpf_ntohs(*(__u16 *)(ph + 6));
		if (ppp == PPP_IP_)
			type = ETH_P_IP_;
		else if (ppp == PPP_IPV6_)
			type = ETH_P_IPV6_;
		else
			return;
		off += 8;
	}
	if (type == ETH_P_IP_)
		parse_ipv4(p, data, data_end, off);
	else if (type == ETH_P_IPV6_)
		parse_ipv6(p, data, data_end, off);
}

/* ---- rules ---- */

/* (prio, id) ordering key: lower wins. */
static __always_inline __u64 rank(__u32 priority, __u32 id)
{
	return ((__u64)priority << 32) | id;
}

/*
 * The index candidate is kept as a pointer to the winning entry (every
 * index holds struct sf_lpm_meta) instead of copies of its fields: fewer
 * values live across the lookup calls, which only have four callee-saved
 * registers. Entries of the active generation are not rewritten while
 * packets read them, so reading the fields at the end is the same.
 */
static __always_inline const struct sf_lpm_meta *better(const struct sf_lpm_meta *m, const struct sf_lpm_meta *best)
{
	if (!best || rank(m->priority, m->rule_id) < rank(best->priority, best->rule_id))
		return m;
	return best;
}

/*
 * Lookup keys are built with whole-word stores. The hash and trie code
 * reads keys in 4- or 8-byte words, and a word assembled from narrower
 * stores cannot be forwarded from the store buffer: building the 8-byte
 * exact-address key from four stores cost several ns per lookup. These
 * are the header's key structs in words (little-endian, as the header's
 * byte order says; the generation byte is followed by zero padding).
 */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the key words below assume little-endian"
#endif
struct sf_exact_v6_words {
	__u32 head; /* gen | dir << 8 */
	__u32 addr[4];
};
struct sf_lpm_v6_words {
	__u32 prefixlen;
	__u32 gen;
	__u32 addr[4];
};
_Static_assert(sizeof(struct sf_exact_v6_words) == sizeof(struct sf_exact_v6_key), "v6 exact key words");
_Static_assert(sizeof(struct sf_lpm_v6_words) == sizeof(struct sf_lpm_v6_key), "v6 trie key words");

static __always_inline const struct sf_lpm_meta *src_port_lookup(__u32 gen, __u8 proto, __u16 port)
{
	/* struct sf_port_key {gen, proto, dir, pad, port, pad} */
	__u64 k = gen | ((__u32)proto << 8) | (SF_PORT_DIR_SRC << 16) | ((__u64)port << 32);
	return bpf_map_lookup_elem(&sf_ports, &k);
}

/*
 * The meta of the deepest cell a prefix-table lookup reached (SF_CIDR_*): a
 * leaf's, or none for an empty cell or one that still points below.
 * (Each step down stays written out in the lookups: a shared step that read
 * a refused index as an empty cell made the IPv6 loop 15 ns slower.)
 */
static __always_inline const struct sf_lpm_meta *cidr_leaf(void *metas, __u32 v)
{
	if (!v || (v & SF_CIDR_CHILD))
		return NULL;
	__u32 i = v - 1;
	return bpf_map_lookup_elem(metas, &i);
}

/*
 * The IPv4 prefix table (SF_CIDR_*): the root cell of the address's top 16
 * bits, then at most two blocks below it. `addr` is in network order.
 */
static __always_inline const struct sf_lpm_meta *cidr4_table(__u32 gen, __u32 dir, __u32 addr)
{
	__u32 a = bpf_ntohl(addr);
	__u32 i = SF_CIDR_ROOT_INDEX(gen, dir, a >> 16);
	__u32 *c = bpf_map_lookup_elem(&sf_cidr4, &i);
	if (!c)
		return NULL;
	__u32 v = *c;
	if (v & SF_CIDR_CHILD) {
		i = (v & ~SF_CIDR_CHILD) + ((a >> 8) & 0xff);
		c = bpf_map_lookup_elem(&sf_cidr4, &i);
		if (!c)
			return NULL;
		v = *c;
		if (v & SF_CIDR_CHILD) {
			i = (v & ~SF_CIDR_CHILD) + (a & 0xff);
			c = bpf_map_lookup_elem(&sf_cidr4, &i);
			if (!c)
				return NULL;
			v = *c;
		}
	}
	return cidr_leaf(&sf_cidr4_meta, v);
}

/*
 * One direction's CIDR-only rules: the exact hash first when it has entries
 * (a hit holds the best covering rule, so the table cannot do better), then
 * the prefix table when it has entries. Both report as SF_STAGE_LPM.
 */
static __always_inline const struct sf_lpm_meta *cidr_v4(__u32 gen, __u32 dir, __u32 addr, __u32 mask,
							  __u32 has_exact, __u32 has_table)
{
	struct sf_lpm_meta *m;
	if (mask & has_exact) {
		__u64 e = gen | (dir << 8) | ((__u64)addr << 32); /* struct sf_exact_v4_key */
		m = bpf_map_lookup_elem(&sf_exact_v4, &e);
		if (m)
			return m;
	}
	if (!(mask & has_table))
		return NULL;
	return cidr4_table(gen, dir, addr);
}

/*
 * The IPv6 prefix table: the root cell of the address's first 16 bits, then
 * one block per further byte for as long as cells point below, at most 14.
 */
static __always_inline const struct sf_lpm_meta *cidr6_table(__u32 gen, __u32 dir, const __u32 *addr)
{
	const __u8 *b = (const __u8 *)addr;
	__u32 i = SF_CIDR_ROOT_INDEX(gen, dir, ((__u32)b[0] << 8) | b[1]);
	__u32 *c = bpf_map_lookup_elem(&sf_cidr6, &i);
	if (!c)
		return NULL;
	__u32 v = *c;
	for (int k = 2; k < 16; k++) {
		if (!(v & SF_CIDR_CHILD))
			break;
		i = (v & ~SF_CIDR_CHILD) + b[k];
		c = bpf_map_lookup_elem(&sf_cidr6, &i);
		if (!c)
			return NULL;
		v = *c;
	}
	return cidr_leaf(&sf_cidr6_meta, v);
}

static __always_inline const struct sf_lpm_meta *cidr_v6(void *trie, __u32 gen, __u32 dir, __u32 *addr, __u32 mask,
							  __u32 has_exact, __u32 has_table, __u32 has_trie)
{
	struct sf_lpm_meta *m;
	if (mask & has_exact) {
		struct sf_exact_v6_words e = { .head = gen | (dir << 8) };
		__builtin_memcpy(e.addr, addr, 16);
		m = bpf_map_lookup_elem(&sf_exact_v6, &e);
		if (m)
			return m;
	}
	if (mask & has_table)
		return cidr6_table(gen, dir, addr);
	if (!(mask & has_trie))
		return NULL;
	struct sf_lpm_v6_words k = { .prefixlen = 32 + 128, .gen = gen };
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(trie, &k);
}

struct scan_ctx {
	struct sf_pkt *p;
	__u32 base;      /* gen * SF_MAX_RULES */
	__u64 bound;     /* rank of the best index candidate: stop at or past it */
	__u32 found_id;
	__u32 found_action;
	__u32 found_slot;
};

static __always_inline int rule_matches(const struct sf_rule *r, const struct sf_pkt *p)
{
	__u8 f = r->flags;
	if ((f & SF_RULE_VLAN) && (p->nvlans == 0 || p->vlan_outer != r->vlan))
		return 0;
	if ((f & SF_RULE_PROTO) && p->proto != r->proto)
		return 0;
	if (f & (SF_RULE_SPORT | SF_RULE_DPORT)) {
		if (!p->has_ports)
			return 0;
		if (p->sport < r->sport_lo || p->sport > r->sport_hi)
			return 0;
		if (p->dport < r->dport_lo || p->dport > r->dport_hi)
			return 0;
	}
	if (p->version == 4) {
		if ((f & SF_RULE_SRC) && (p->src[3] & r->src_mask[0]) != r->src_net[0])
			return 0;
		if ((f & SF_RULE_DST) && (p->dst[3] & r->dst_mask[0]) != r->dst_net[0])
			return 0;
		return 1;
	}
	if (f & SF_RULE_SRC) {
		if ((p->src[0] & r->src_mask[0]) != r->src_net[0] || (p->src[1] & r->src_mask[1]) != r->src_net[1] ||
		    (p->src[2] & r->src_mask[2]) != r->src_net[2] || (p->src[3] & r->src_mask[3]) != r->src_net[3])
			return 0;
	}
	if (f & SF_RULE_DST) {
		if ((p->dst[0] & r->dst_mask[0]) != r->dst_net[0] || (p->dst[1] & r->dst_mask[1]) != r->dst_net[1] ||
		    (p->dst[2] & r->dst_mask[2]) != r->dst_net[2] || (p->dst[3] & r->dst_mask[3]) != r->dst_net[3])
			return 0;
	}
	return 1;
}

/* One callback per family so the array is known statically and its lookup
 * is inlined by the verifier. */
static __always_inline long scan_step(struct sf_rule *r, struct scan_ctx *c)
{
	if (!r)
		return 1;
	/* Sorted by (priority, id): nothing further can beat the index candidate. */
	if (rank(r->priority, r->id) >= c->bound)
		return 1;
	if (!rule_matches(r, c->p))
		return 0;
	c->found_id = r->id;
	c->found_action = r->action;
	c->found_slot = r->slot;
	return 1;
}

static long scan_v4(__u32 i, void *arg)
{
	struct scan_ctx *c = arg;
	__u32 idx = c->base + i;
	return scan_step(bpf_map_lookup_elem(&sf_rules_v4, &idx), c);
}

static long scan_v6(__u32 i, void *arg)
{
	struct scan_ctx *c = arg;
	__u32 idx = c->base + i;
	return scan_step(bpf_map_lookup_elem(&sf_rules_v6, &idx), c);
}

/* ---- counters ---- */

/* In 64 bits: the program sees both as whole pointers, and a 32-bit
 * difference cost a zero-extension (two shifts) at every use. */
static __always_inline __u64 frame_bytes(struct xdp_md *ctx)
{
	return (__u64)ctx->data_end - (__u64)ctx->data;
}

/*
 * The frame length is read after the lookup and the id is stored for the
 * update only on the cold branch: as arguments, both were computed and
 * spilled to the stack ahead of the lookup on every counted packet.
 */
static __always_inline void count_rule(struct xdp_md *ctx, __u32 id, __u32 slot)
{
	struct sf_counter *c = bpf_map_lookup_elem(&sf_rule_counters, &slot);
	if (!c)
		return;
	/* The first packet this CPU counts for the slot also records the rule
	 * in sf_rule_hits (a no-op when another CPU already did). */
	if (!c->packets) {
		__u32 key = id;
		bpf_map_update_elem(&sf_rule_hits, &key, &slot, BPF_NOEXIST);
	}
	c->packets++;
	c->bytes += frame_bytes(ctx);
}

/*
 * The one exit: a single per-CPU counter cell for (stage, outcome) and,
 * when the test bench asks, the decision record. Inlined at each exit
 * with that exit's own values, so no exit's constants are materialised on
 * the others' paths: a shared label made the compiler set
 * stage/outcome/xdp registers before every parse check.
 */
static __always_inline int finish(struct xdp_md *ctx, const struct sf_config *cf, __u32 stage, __u32 outcome, int xdp,
				  __u32 rule_id, __u32 action)
{
	__u32 zero = 0;
	struct sf_stats_record *st = bpf_map_lookup_elem(&sf_stats, &zero);
	__u32 cell = SF_STAT_CELL(stage, outcome);
	if (st && cell < SF_STAT_CELLS) {
		st->c[cell].packets++;
		st->c[cell].bytes += frame_bytes(ctx);
	}
	if (cf->word[SF_CFG_RECORD_LAST]) {
		struct sf_decision *d = bpf_map_lookup_elem(&sf_last, &zero);
		if (d) {
			d->rule_id = rule_id;
			d->stage = stage;
			d->action = action;
			d->xdp_action = xdp;
			d->seq++;
		}
	}
	return xdp;
}

/* The action's XDP verdict (inspect: the XSK socket, or the fail-open/closed
 * fallback when none is bound or the frame is longer than a socket frame
 * takes: a jumbo MTU, or a GSO super-frame from a local sender in skb mode),
 * then the exit. */
static __always_inline int verdict(struct xdp_md *ctx, const struct sf_config *cf, __u32 stage, __u32 action, __u32 rule_id)
{
	if (action == SF_ACTION_DROP)
		return finish(ctx, cf, stage, SF_OUT_DROP, XDP_DROP, rule_id, action);
	if (action == SF_ACTION_INSPECT) {
		__u64 fallback = cf->word[SF_CFG_PUNT_FALLBACK] == SF_ACTION_DROP ? XDP_DROP : XDP_PASS;
		int xdp = frame_bytes(ctx) <= SF_PUNT_MAX_FRAME ? bpf_redirect_map(&sf_xsks, ctx->rx_queue_index, fallback) : (int)fallback;
		__u32 outcome = xdp == XDP_REDIRECT ? SF_OUT_PUNT : (xdp == XDP_DROP ? SF_OUT_FALLBACK_DROP : SF_OUT_FALLBACK_PASS);
		return finish(ctx, cf, stage, outcome, xdp, rule_id, action);
	}
	return finish(ctx, cf, stage, SF_OUT_PASS, XDP_PASS, rule_id, action);
}

/* ---- fast paths of a single index (the fast path's conditions hold) ---- */

/* The fixed header a TCP (6) or UDP (17) port read needs; 0 for other protocols. */
static __always_inline __u32 l4_need(__u8 proto)
{
	return proto == 6 ? 20 : (proto == 17 ? 8 : 0);
}

/*
 * Only destination-port entries: the packet's TCP or UDP destination port,
 * when it carries one (not a later fragment, the fixed L4 header inside
 * the IP total length and the frame), decides through sf_dports; anything
 * else gets the default policy.
 */
static __always_inline int dports_only(struct xdp_md *ctx, const struct sf_config *cf, __u32 gen, __u8 *ip, __u32 total,
				       void *data_end)
{
	__u8 proto = ip[9];
	__u32 need = l4_need(proto);
	if (!need || (*(__u16 *)(ip + 6) & bpf_htons(0x1fff)) || total < 20 + need || (void *)(ip + 20 + need) > data_end)
		goto none;
	/* SF_DPORT_INDEX(gen, proto == 17, port): bit 4 tells UDP (17) from TCP (6). */
	_Static_assert(SF_DPORT_INDEX(0, 1, 0) == ((17 & 0x10) << 12) && !(6 & 0x10), "the UDP bit");
	__u32 di = (gen << 17) | ((__u32)(proto & 0x10) << 12) | bpf_ntohs(*(__u16 *)(ip + 22));
	const struct sf_lpm_meta *m = bpf_map_lookup_elem(&sf_dports, &di);
	if (m && m->rule_id) {
		count_rule(ctx, m->rule_id, m->slot);
		return verdict(ctx, cf, SF_STAGE_PORT, m->action, m->rule_id);
	}
none:
	return verdict(ctx, cf, SF_STAGE_DEFAULT, cf->ruleset[gen].default_action, 0);
}

/* Only one direction's exact-address entries: that address decides. */
static __always_inline int exact_only(struct xdp_md *ctx, const struct sf_config *cf, __u32 gen, __u32 dir, __u32 addr)
{
	__u64 e = gen | (dir << 8) | ((__u64)addr << 32); /* struct sf_exact_v4_key */
	const struct sf_lpm_meta *m = bpf_map_lookup_elem(&sf_exact_v4, &e);
	if (m) {
		count_rule(ctx, m->rule_id, m->slot);
		return verdict(ctx, cf, SF_STAGE_LPM, m->action, m->rule_id);
	}
	return verdict(ctx, cf, SF_STAGE_DEFAULT, cf->ruleset[gen].default_action, 0);
}

/* ---- program ---- */

SEC("xdp")
int sf_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 stage;
	__u32 action = SF_ACTION_PASS;
	__u32 rule_id = 0;

	const struct sf_config *cf = &sf_config;
	/*
	 * The generation and the pass-all switch are words 0 and 1: one load
	 * reads both (the host still stores each word on its own), and reads
	 * the generation once, since the host flips it while packets run. A
	 * map value starts 8-byte aligned, so the load need not be split.
	 */
	_Static_assert(SF_CFG_ACTIVE_GEN == 0 && SF_CFG_PASS_ALL == 1, "words 0 and 1");
	const volatile __u64 *gp = __builtin_assume_aligned(&cf->word[SF_CFG_ACTIVE_GEN], 8);
	__u64 gen_pass = *gp;
	if (gen_pass >> 32)
		return finish(ctx, cf, SF_STAGE_PASS_ALL, SF_OUT_PASS, XDP_PASS, 0, SF_ACTION_PASS);
	__u32 gen = gen_pass & 1;
	const struct sf_ruleset_meta *rs = &cf->ruleset[gen];
	__u32 mask = rs->lpm_mask;
	const struct sf_lpm_meta *best = NULL;
	__u32 best_stage = SF_STAGE_LPM;
	__u32 slot = 0;

	/*
	 * Fast path: an untagged IPv4 frame with a plain 20-byte header while
	 * no verdict map is in use and the generation scans no IPv4 rule, so
	 * only the indexes can decide (the rule shapes xdp-filter has). It
	 * makes exactly the general path's decisions, with the packet's fields
	 * in registers instead of a zeroed struct sf_pkt that the scan and the
	 * flow key need. Anything else falls through to the general path.
	 *
	 * Few values stay live across the lookups (the compiler cannot know
	 * that array lookups are inlined, so each is a call that costs spills
	 * of whatever lives across it): the source-port key carries the
	 * generation too, and the destination-port index is computed before.
	 */
	__u8 *ip = data + 14;
	/* EtherType IPv4 and version 4 with a 20-byte header, in one load. */
	if ((void *)(ip + 20) > data_end || (*(__u32 *)(data + 12) & 0xffffff) != SF_IPV4_PLAIN ||
	    cf->word[SF_CFG_VERDICTS_ACTIVE] || rs->v4_count)
		goto general;
	__u32 total = bpf_ntohs(*(__u16 *)(ip + 2));
	/* A first fragment may be too short for its ports: the general path judges it. */
	if (total < 20 || (*(__u16 *)(ip + 6) & bpf_htons(0x2000)))
		goto general; /* total < 20: not IP to the decoder */

	/*
	 * A generation with one index alone (destination ports only, or one
	 * direction's single addresses only: block lists, the shapes
	 * xdp-filter has) takes a path of its own, with the same decisions as
	 * the combined one below: one lookup, and the winner needs no
	 * comparison with the other indexes.
	 */
	if (mask == SF_PORTS_HAS_DST)
		return dports_only(ctx, cf, gen, ip, total, data_end);
	if (mask == SF_EXACT_HAS_DST_V4)
		return exact_only(ctx, cf, gen, SF_PORT_DIR_DST, *(__u32 *)(ip + 16));
	if (mask == SF_EXACT_HAS_SRC_V4)
		return exact_only(ctx, cf, gen, SF_PORT_DIR_SRC, *(__u32 *)(ip + 12));
	/* struct sf_port_key {gen, proto, dir, pad, port, pad}; only gen when no source-port lookup */
	__u64 sk = gen;
	__u32 di = SF_DPORT_NONE;
	__u8 proto = ip[9];
	if ((mask & (SF_PORTS_HAS_DST | SF_PORTS_HAS_SRC)) && !(*(__u16 *)(ip + 6) & bpf_htons(0x1fff))) {
		/* The fixed L4 header must fit in both the IP total length and the
		 * frame; the frame check is also the verifier's bound for the ports. */
		__u8 *l4 = ip + 20;
		__u32 need = l4_need(proto);
		if (!need || total < 20 + need || (void *)(l4 + need) > data_end)
			goto ports_done;
		if (mask & SF_PORTS_HAS_SRC)
			sk |= ((__u32)proto << 8) | (SF_PORT_DIR_SRC << 16) | ((__u64)bpf_ntohs(*(__u16 *)l4) << 32);
		if (mask & SF_PORTS_HAS_DST)
			di = SF_DPORT_INDEX(gen, proto == 17, bpf_ntohs(*(__u16 *)(l4 + 2)));
	}
ports_done:
	/* One test for port-only sets instead of four. */
	if (mask & (SF_EXACT_HAS_SRC_V4 | SF_LPM_HAS_SRC_V4 | SF_EXACT_HAS_DST_V4 | SF_LPM_HAS_DST_V4)) {
		__u32 daddr = *(__u32 *)(ip + 16);
		best = cidr_v4(gen, SF_PORT_DIR_SRC, *(__u32 *)(ip + 12), mask, SF_EXACT_HAS_SRC_V4, SF_LPM_HAS_SRC_V4);
		const struct sf_lpm_meta *m = cidr_v4(sk & 1, SF_PORT_DIR_DST, daddr, cf->ruleset[sk & 1].lpm_mask,
						      SF_EXACT_HAS_DST_V4, SF_LPM_HAS_DST_V4);
		if (m)
			best = better(m, best);
	}
	if (di != SF_DPORT_NONE) {
		const struct sf_lpm_meta *m = bpf_map_lookup_elem(&sf_dports, &di);
		if (m && m->rule_id && better(m, best) == m) {
			best = m;
			best_stage = SF_STAGE_PORT;
		}
	}
	if (sk >> 8) {
		const struct sf_lpm_meta *m = bpf_map_lookup_elem(&sf_ports, &sk);
		if (m && better(m, best) == m) {
			best = m;
			best_stage = SF_STAGE_PORT;
		}
	}
	if (!best)
		return verdict(ctx, cf, SF_STAGE_DEFAULT, cf->ruleset[sk & 1].default_action, 0);
	count_rule(ctx, best->rule_id, best->slot);
	/* A constant stage each, so each exit's stats cell is a constant. */
	if (best_stage == SF_STAGE_PORT)
		return verdict(ctx, cf, SF_STAGE_PORT, best->action, best->rule_id);
	return verdict(ctx, cf, SF_STAGE_LPM, best->action, best->rule_id);

general:;
	struct sf_pkt p = {};
	parse(&p, data, data_end);
	/* Invalid first: a frame with too many tags is invalid before any IP layer. */
	if (p.invalid)
		return finish(ctx, cf, SF_STAGE_INVALID, SF_OUT_DROP, XDP_DROP, 0, SF_ACTION_DROP);
	if (!p.version)
		return finish(ctx, cf, SF_STAGE_NON_IP, SF_OUT_PASS, XDP_PASS, 0, SF_ACTION_PASS);

	/* 1. penalty box: the source, then an IPv6 source's /64 (sf_penalty_key) */
	__u32 active = cf->word[SF_CFG_VERDICTS_ACTIVE];
	struct sf_penalty_meta *pen = NULL;
	if (active & SF_ACTIVE_PENALTY) {
		__u64 now = bpf_ktime_get_ns();
		pen = bpf_map_lookup_elem(&sf_penalty, p.src);
		if (pen && pen->expires_ns <= now)
			pen = NULL;
		if (!pen && p.version == 6 && !(p.src[0] == 0 && p.src[1] == 0 && p.src[2] == bpf_htonl(0xffff))) {
			__u32 net[4] = { p.src[0], p.src[1], 0, 0 };
			pen = bpf_map_lookup_elem(&sf_penalty, net);
			if (pen && pen->expires_ns <= now)
				pen = NULL;
		}
	}
	if (pen) {
		__sync_fetch_and_add(&pen->hits, 1);
		stage = SF_STAGE_PENALTY;
		action = SF_ACTION_DROP;
		goto decided;
	}

	/* 2. flow verdicts, keyed in wire order */
	if (!(active & SF_ACTIVE_FLOWS))
		goto rules;
	struct sf_flow_key fk = {};
	__builtin_memcpy(fk.src, p.src, 16);
	__builtin_memcpy(fk.dst, p.dst, 16);
	fk.sport = p.sport;
	fk.dport = p.dport;
	fk.vlan_outer = p.vlan_outer;
	fk.vlan_inner = p.vlan_inner;
	fk.proto = p.proto;
	fk.version = p.version;
	struct sf_flow_meta *fm = bpf_map_lookup_elem(&sf_flows, &fk);
	if (fm && (fm->verdict == SF_FLOW_ALLOW || fm->verdict == SF_FLOW_BLOCK)) {
		fm->packets++;
		fm->bytes += frame_bytes(ctx);
		stage = SF_STAGE_FLOW;
		action = fm->verdict == SF_FLOW_BLOCK ? SF_ACTION_DROP : SF_ACTION_PASS;
		goto decided;
	}

	/* 3. rules of the active generation: its header is in the same value */
rules:;
	__u32 nrules;
	if (p.version == 4) {
		best = cidr_v4(gen, SF_PORT_DIR_SRC, p.src[3], mask, SF_EXACT_HAS_SRC_V4, SF_LPM_HAS_SRC_V4);
		const struct sf_lpm_meta *m = cidr_v4(gen, SF_PORT_DIR_DST, p.dst[3], mask, SF_EXACT_HAS_DST_V4, SF_LPM_HAS_DST_V4);
		if (m)
			best = better(m, best);
		nrules = rs->v4_count;
	} else {
		best = cidr_v6(&sf_lpm_src_v6, gen, SF_PORT_DIR_SRC, p.src, mask, SF_EXACT_HAS_SRC_V6, SF_TABLE_HAS_SRC_V6,
			       SF_LPM_HAS_SRC_V6);
		const struct sf_lpm_meta *m = cidr_v6(&sf_lpm_dst_v6, gen, SF_PORT_DIR_DST, p.dst, mask, SF_EXACT_HAS_DST_V6,
						      SF_TABLE_HAS_DST_V6, SF_LPM_HAS_DST_V6);
		if (m)
			best = better(m, best);
		nrules = rs->v6_count;
	}
	if (p.has_ports && (mask & SF_PORTS_HAS_DST)) {
		/* has_ports: the protocol is TCP or UDP */
		__u32 di = SF_DPORT_INDEX(gen, p.proto == 17, p.dport);
		const struct sf_lpm_meta *m = bpf_map_lookup_elem(&sf_dports, &di);
		if (m && m->rule_id && better(m, best) == m) {
			best = m;
			best_stage = SF_STAGE_PORT;
		}
	}
	if (p.has_ports && (mask & SF_PORTS_HAS_SRC)) {
		const struct sf_lpm_meta *m = src_port_lookup(gen, p.proto, p.sport);
		if (m && better(m, best) == m) {
			best = m;
			best_stage = SF_STAGE_PORT;
		}
	}
	if (nrules > SF_MAX_RULES)
		nrules = SF_MAX_RULES;
	/* The scan context is only built when there is something to scan:
	 * index-only rule sets (the common fast case) skip it entirely. */
	if (nrules) {
		struct scan_ctx sc = {
			.p = &p,
			.base = gen * SF_MAX_RULES,
			.bound = best ? rank(best->priority, best->rule_id) : rank(0x10000, 0),
			.found_id = 0,
			.found_slot = 0,
		};
		bpf_loop(nrules, p.version == 4 ? scan_v4 : scan_v6, &sc, 0);
		if (sc.found_id) {
			stage = SF_STAGE_SCAN;
			rule_id = sc.found_id;
			action = sc.found_action;
			slot = sc.found_slot;
			goto matched;
		}
	}
	if (best) {
		stage = best_stage;
		rule_id = best->rule_id;
		action = best->action;
		slot = best->slot;
	} else {
		/* 4. default policy */
		stage = SF_STAGE_DEFAULT;
		action = rs->default_action;
	}
matched:
	if (rule_id)
		count_rule(ctx, rule_id, slot);
decided:
	return verdict(ctx, cf, stage, action, rule_id);
}
