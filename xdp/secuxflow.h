/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel/user boundary of secuxflow. Included by the XDP program
 * (xdp/secuxflow.bpf.c) and by the Node-API addon (host/native/); the
 * TypeScript codecs in host/kernel/codec.ts mirror it byte for byte and
 * test/kernel/codec-layout.test.ts compiles this file to prove it.
 *
 * Byte order: numbers inside structs are host order (little-endian on the
 * machines we support); addresses are byte arrays in network order, IPv4
 * stored in the last 4 bytes of a v4-mapped IPv6 address (::ffff:a.b.c.d)
 * wherever one struct holds both families.
 */
#ifndef SECUXFLOW_H
#define SECUXFLOW_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stddef.h>
#endif

/* ---- Limits: sizes of every map, fixed so user space can plan. ---- */
#define SF_MAX_RULES 4096       /* rules per address family and generation */
#define SF_GENERATIONS 2        /* rule sets are double-buffered */
#define SF_MAX_FLOWS 65536      /* flow-verdict entries (one per direction) */
#define SF_MAX_PENALTY 65536    /* penalty-box sources */
#define SF_MAX_RULE_COUNTERS (SF_MAX_RULES * 2 * SF_GENERATIONS)  /* sf_rule_hits entries */
/* Counter slots: one per rule that can decide, stable while the rule lives,
 * shared by both generations (a swap keeps a surviving rule's slot). */
#define SF_MAX_RULE_SLOTS 32768
#define SF_MAX_EXACT (SF_MAX_RULES * 2 * SF_GENERATIONS)  /* exact-address entries per family */
#define SF_MAX_QUEUES 64        /* XSKMAP slots, one per RX queue */
#define SF_MAX_VLANS 2          /* 802.1Q / 802.1ad tags parsed */
#define SF_MAX_IPV6_EXT 8       /* IPv6 extension headers walked */
#define SF_MAX_MPLS_LABELS 8    /* MPLS label stack entries walked */
/* AF_XDP: the daemon's UMEM frames, and the longest frame one can take. In
 * copy mode the kernel keeps XDP_PACKET_HEADROOM (256) of each frame and
 * drops a longer packet on the socket (ENOSPC) where no counter of ours sees
 * it; the program sends such a frame to the punt fallback instead. */
#define SF_XSK_FRAME_SIZE 2048
#define SF_PUNT_MAX_FRAME (SF_XSK_FRAME_SIZE - 256)

/* ---- Map names: the only spelling of each name; pins use the same. ---- */
#define SF_MAP_CONFIG "sf_config"           /* 0 -> struct sf_config: every setting and both rule-set headers */
/* Maps that are global data: libbpf names each after its ELF section, and
 * user space (the addon) knows the map by the section name without this
 * prefix. sf_config is one: the program reads it at a fixed address. */
#define SF_DATA_SECTION_PREFIX ".data."
#define SF_CONFIG_SECTION SF_DATA_SECTION_PREFIX SF_MAP_CONFIG
#define SF_MAP_RULES_V4 "sf_rules_v4"       /* gen*SF_MAX_RULES+slot -> sf_rule, priority order */
#define SF_MAP_RULES_V6 "sf_rules_v6"       /* same for IPv6 */
#define SF_MAP_CIDR4 "sf_cidr4"             /* IPv4 prefix table cell -> 0, leaf or block (SF_CIDR_*) */
#define SF_MAP_CIDR4_META "sf_cidr4_meta"   /* leaf - 1 -> best CIDR-only IPv4 rule covering that prefix */
#define SF_MAP_CIDR6 "sf_cidr6"             /* the same for IPv6, with up to 14 levels of blocks */
#define SF_MAP_CIDR6_META "sf_cidr6_meta"
#define SF_MAP_LPM_SRC_V6 "sf_lpm_src_v6"
#define SF_MAP_LPM_DST_V6 "sf_lpm_dst_v6"
#define SF_MAP_PORTS "sf_ports"             /* (gen, proto, dir, port) -> best port-only rule: every entry, looked up for source ports */
#define SF_MAP_DPORTS "sf_dports"           /* SF_DPORT_INDEX(gen, udp, port) -> the destination entries of sf_ports, as an array */
#define SF_MAP_EXACT_V4 "sf_exact_v4"       /* (gen, dir, /32 address) -> best CIDR-only rule covering it */
#define SF_MAP_EXACT_V6 "sf_exact_v6"       /* (gen, dir, /128 address) -> same */
#define SF_MAP_RULE_HITS "sf_rule_hits"     /* rule id -> its counter slot, for rules that have been counted */
#define SF_MAP_RULE_SLOTS "sf_rule_slots"   /* counter slot -> rule id (0 = free); host-written */
#define SF_MAP_RULE_COUNTERS "sf_rule_counters" /* counter slot -> per-CPU sf_counter */
#define SF_MAP_FLOWS "sf_flows"             /* sf_flow_key -> per-CPU sf_flow_meta */
#define SF_MAP_PENALTY "sf_penalty"         /* sf_penalty_key -> sf_penalty_meta */
#define SF_MAP_STATS "sf_stats"             /* 0 -> per-CPU sf_stats_record (one counter per stage and outcome) */
#define SF_MAP_XSKS "sf_xsks"               /* RX queue -> AF_XDP socket */
#define SF_MAP_LAST "sf_last"               /* 0 -> sf_decision of the last packet (test bench) */

#define SF_PROG_NAME "sf_xdp"               /* the XDP program's function name */
#define SF_PROG_SECTION "xdp"

/* ---- Actions and verdicts: numbers shared with host/verdict.ts. ---- */
#define SF_ACTION_PASS 1     /* RULE_ACTION_CODE.pass */
#define SF_ACTION_DROP 2     /* RULE_ACTION_CODE.drop */
#define SF_ACTION_INSPECT 3  /* RULE_ACTION_CODE.inspect: punt to AF_XDP */

#define SF_FLOW_ALLOW 1      /* pass the rest of the flow in XDP */
#define SF_FLOW_BLOCK 2      /* drop the rest of the flow in XDP */

/* Who set a flow verdict (sf_flow_meta.origin). The program reads only the
 * verdict; the origin lets a later rule change undo what an earlier one did. */
#define SF_ORIGIN_DAEMON 0       /* a module or the daemon's engine decided */
#define SF_ORIGIN_RULE_CHANGE 1  /* blocked by a rule change that drops an allowed flow */

/* Where the decision for a packet came from, in decision order. */
#define SF_STAGE_NONE 0
#define SF_STAGE_NON_IP 1    /* no parseable IP layer: passed, not subject to rules */
#define SF_STAGE_PASS_ALL 2  /* global pass switch (a daemon stopped with on_stop: pass-all) */
#define SF_STAGE_PENALTY 3   /* source in the penalty box */
#define SF_STAGE_FLOW 4      /* flow verdict written by the host */
#define SF_STAGE_LPM 5       /* CIDR-only rule found through an LPM trie */
#define SF_STAGE_SCAN 6      /* rule found by scanning the rule array */
#define SF_STAGE_DEFAULT 7   /* no rule matched: default policy */
#define SF_STAGE_PORT 8      /* port-only rule found through SF_MAP_PORTS */
#define SF_STAGE_INVALID 9   /* dropped before the rules: a receiver would read it as rules cannot (docs/rules.md) */

/*
 * ---- Config: word[SF_CFG_*] of the one struct sf_config value; zero is the safe default. ----
 * The value is the program's global data (section SF_CONFIG_SECTION), so a
 * packet loads every setting and its rule-set header from a fixed address,
 * with no lookup. The map is mmapable and the host stores each word on its
 * own (host/kernel/config.ts), so writers of different words never undo
 * each other's update as a whole-value map update would.
 */
#define SF_CFG_ACTIVE_GEN 0      /* generation (0/1) packets read rules from */
#define SF_CFG_PASS_ALL 1        /* 1: pass every packet, count it, decide nothing */
#define SF_CFG_PUNT_FALLBACK 2   /* action when a packet cannot be punted (no XSK socket bound, or longer than SF_PUNT_MAX_FRAME): SF_ACTION_PASS (fail-open, also 0) or SF_ACTION_DROP */
#define SF_CFG_RECORD_LAST 3     /* 1: write every decision into SF_MAP_LAST */
/* Lookups in a map that is usually empty cost more than the rest of the
 * program; the host sets these while the map may hold entries. */
#define SF_CFG_FLOWS_ACTIVE 4    /* 1: look packets up in SF_MAP_FLOWS */
#define SF_CFG_PENALTY_ACTIVE 5  /* 1: look sources up in SF_MAP_PENALTY */
/* What the program reads: the two switches above as bits of one value, so
 * a packet pays one config load for both. The host writes FLOWS_ACTIVE
 * and PENALTY_ACTIVE (what it reads back) and then this union of them
 * (host/kernel/verdictmaps.ts). */
#define SF_CFG_VERDICTS_ACTIVE 6
#define SF_ACTIVE_FLOWS 0x1      /* SF_CFG_FLOWS_ACTIVE is 1 */
#define SF_ACTIVE_PENALTY 0x2    /* SF_CFG_PENALTY_ACTIVE is 1 */
/* Host-only: a stamp of the rule set the active generation holds (0 while a
 * change is in flight), so a rule command killed between the kernel swap and
 * its state write can be noticed. The program never reads it. */
#define SF_CFG_RULES_STAMP 7
#define SF_CFG_MAX 8

/* ---- Stats ---- */
/*
 * The kernel counts each packet once, in the cell of its (stage, outcome):
 * one per-CPU increment per packet instead of one each for rx, the outcome
 * and the stage. User space derives the SF_STAT_* counters from the cells
 * (host/kernel/codec.ts sumStatsRecord): rx is every cell, pass/drop/punt
 * are an outcome's cells over all stages, punt_fallback both fallback
 * outcomes, and STAGE_BASE + s a stage's cells over all outcomes.
 */
#define SF_OUT_PASS 0             /* XDP_PASS */
#define SF_OUT_DROP 1             /* XDP_DROP */
#define SF_OUT_PUNT 2             /* redirected into an XSK socket */
#define SF_OUT_FALLBACK_PASS 3    /* inspect, not punted (no socket bound, or too long), fail-open: passed */
#define SF_OUT_FALLBACK_DROP 4    /* inspect, not punted, fail-closed: dropped */
#define SF_OUTCOMES 5
#define SF_STAGES (SF_STAGE_INVALID + 1)
#define SF_STAT_CELL(stage, out) ((stage) * SF_OUTCOMES + (out))
#define SF_STAT_CELLS (SF_STAGES * SF_OUTCOMES)

/* Indices of the derived counters readStats() returns (packets and bytes each). */
#define SF_STAT_RX 0
#define SF_STAT_PASS 1
#define SF_STAT_DROP 2
#define SF_STAT_PUNT 3            /* redirected into an XSK socket */
#define SF_STAT_PUNT_FALLBACK 4   /* inspect, but no socket bound: fallback applied */
#define SF_STAT_STAGE_BASE 8      /* + SF_STAGE_*: hits per decision stage */
#define SF_STAT_MAX 24

/* ---- Rule-set header, one per generation: how much of each array is live. ---- */
struct sf_ruleset_meta {
	__u32 v4_count;        /* live entries in SF_MAP_RULES_V4 for this generation */
	__u32 v6_count;
	__u32 default_action;  /* SF_ACTION_* when nothing matches */
	__u32 lpm_mask;        /* SF_LPM_HAS_*: which prefix tables (v4) and tries (v6) hold entries, to skip empty lookups */
};
#define SF_LPM_HAS_SRC_V4 0x1
#define SF_LPM_HAS_DST_V4 0x2
#define SF_LPM_HAS_SRC_V6 0x4
#define SF_LPM_HAS_DST_V6 0x8
#define SF_PORTS_HAS_DST 0x10  /* SF_MAP_DPORTS holds entries for this generation */
#define SF_PORTS_HAS_SRC 0x20
#define SF_EXACT_HAS_SRC_V4 0x40  /* SF_MAP_EXACT_V4 holds source entries for this generation */
#define SF_EXACT_HAS_DST_V4 0x80
#define SF_EXACT_HAS_SRC_V6 0x100
#define SF_EXACT_HAS_DST_V6 0x200
#define SF_TABLE_HAS_SRC_V6 0x400 /* SF_MAP_CIDR6 holds this generation's IPv6 source prefixes (its trie then holds none) */
#define SF_TABLE_HAS_DST_V6 0x800

/* The value of SF_MAP_CONFIG. A swap fills ruleset[g] of the inactive
 * generation g, then stores word[SF_CFG_ACTIVE_GEN] = g. */
struct sf_config {
	__u32 word[SF_CFG_MAX];
	struct sf_ruleset_meta ruleset[SF_GENERATIONS];
};

/* ---- Rule array entries: general rules, sorted by (priority, id). ---- */
#define SF_RULE_SRC 0x01     /* src_net/src_mask apply */
#define SF_RULE_DST 0x02
#define SF_RULE_SPORT 0x04   /* sport range applies (packet must carry ports) */
#define SF_RULE_DPORT 0x08
#define SF_RULE_VLAN 0x10    /* outermost VLAN id must equal vlan */
#define SF_RULE_PROTO 0x20   /* L4 protocol must equal proto */

struct sf_rule {
	__u32 id;
	__u16 priority;
	__u8 action;          /* SF_ACTION_* */
	__u8 proto;           /* IP protocol number (ICMPv6 = 58 in the v6 array) */
	__u16 sport_lo;       /* inclusive ranges, host order */
	__u16 sport_hi;
	__u16 dport_lo;
	__u16 dport_hi;
	__u16 vlan;
	__u8 flags;           /* SF_RULE_* */
	__u8 pad0;
	__u32 slot;           /* index into SF_MAP_RULE_COUNTERS */
	__u32 src_net[4];     /* network order words; v4 uses word 0 only */
	__u32 src_mask[4];
	__u32 dst_net[4];
	__u32 dst_mask[4];
};

/* ---- LPM tries: CIDR-only IPv6 rules (one src or dst CIDR, nothing else). ---- */
/*
 * The generation is part of the key so one trie holds both rule sets: the
 * stored prefix length is 32 + CIDR length (gen byte and 3 zero bytes first).
 * The prefix tables (SF_CIDR_* below) take them first; a trie holds an IPv6
 * direction whose prefixes do not fit its table.
 */
struct sf_lpm_v6_key {
	__u32 prefixlen;
	__u8 gen;
	__u8 pad[3];
	__u8 addr[16];
};

/*
 * ---- Prefix tables: CIDR-only prefixes (IPv4, and IPv6 sets that fit). ----
 * A trie of fixed strides (16 bits, then 8 bits a level) in one array of
 * u32 cells: a lookup reads at most 3 cells for IPv4 (15 for IPv6) and one
 * sf_lpm_meta, however many prefixes there are and however deeply they
 * nest. (An LPM trie walk grew with the nesting on the address's path:
 * 1.5x from 10 to 4096 IPv4 rules, 5.5x for IPv6.)
 * - The first SF_CIDR_ROOT_CELLS cells are the roots, one per
 *   (generation, direction), indexed by the address's first 16 bits.
 * - Then each generation's pool of 256-cell blocks, one for each further
 *   byte a prefix reaches, shared by the prefixes that agree up to it.
 * A cell is 0 (no rule), a leaf (1 + an index into the table's meta map), or
 * SF_CIDR_CHILD | the index of the first cell of the block below it. Each
 * meta holds the best rule covering its prefix, so the deepest cell decides.
 */
#define SF_CIDR_ROOT_INDEX(gen, dir, top16) ((((__u32)(gen) * 2 + (dir)) << 16) | (top16))
#define SF_CIDR_ROOT_CELLS (SF_GENERATIONS * 2 * 65536)
#define SF_CIDR_BLOCK_CELLS 256
#define SF_CIDR_CHILD 0x80000000u
#define SF_CIDR4_BLOCKS 4096    /* per generation */
#define SF_CIDR4_POOL_START(gen) (SF_CIDR_ROOT_CELLS + (__u32)(gen) * SF_CIDR4_BLOCKS * SF_CIDR_BLOCK_CELLS)
#define SF_CIDR4_CELLS (SF_CIDR_ROOT_CELLS + SF_GENERATIONS * SF_CIDR4_BLOCKS * SF_CIDR_BLOCK_CELLS)
#define SF_CIDR4_METAS (SF_MAX_RULES * 2) /* per generation: one per prefix, both directions */
/* IPv6: a direction whose prefixes need more blocks than are left stays in
 * its LPM trie (SF_LPM_HAS_*_V6); one in the table has SF_TABLE_HAS_*_V6. */
#define SF_CIDR6_BLOCKS 4096    /* per generation */
#define SF_CIDR6_POOL_START(gen) (SF_CIDR_ROOT_CELLS + (__u32)(gen) * SF_CIDR6_BLOCKS * SF_CIDR_BLOCK_CELLS)
#define SF_CIDR6_CELLS (SF_CIDR_ROOT_CELLS + SF_GENERATIONS * SF_CIDR6_BLOCKS * SF_CIDR_BLOCK_CELLS)
#define SF_CIDR6_METAS (SF_MAX_RULES * 2)

/* Value: the best (lowest priority, then id) CIDR-only rule covering the prefix. */
struct sf_lpm_meta {
	__u32 rule_id;
	__u16 priority;
	__u8 action;
	__u8 pad0;
	__u32 slot;           /* the rule's counter slot */
};

/* ---- Exact addresses: CIDR-only /32 and /128 entries, a hash before the trie. ---- */
/*
 * A full-length CIDR-only prefix is stored here instead of in its trie, with
 * the same value the trie would hold (the best rule among every CIDR-only
 * prefix of that direction covering the address). A hit therefore decides
 * the direction; only a miss goes on to the trie, which then holds only
 * the shorter prefixes.
 */
struct sf_exact_v4_key {
	__u8 gen;
	__u8 dir;             /* SF_PORT_DIR_* (0 dst, 1 src) */
	__u8 pad[2];
	__u8 addr[4];
};

struct sf_exact_v6_key {
	__u8 gen;
	__u8 dir;
	__u8 pad[2];
	__u8 addr[16];
};

/* ---- Port index: port-only rules (proto tcp/udp/any, one single port, nothing else). ---- */
struct sf_port_key {
	__u8 gen;
	__u8 proto;           /* 6 or 17; a proto-any rule has one entry for each */
	__u8 dir;             /* SF_PORT_DIR_* */
	__u8 pad0;
	__u16 port;           /* host order */
	__u16 pad1;
};
#define SF_PORT_DIR_DST 0
#define SF_PORT_DIR_SRC 1
#define SF_MAX_PORT_ENTRIES (SF_MAX_RULES * 2 * SF_GENERATIONS)
/*
 * Destination ports are an array, as xdp-filter's port map is: one slot per
 * (generation, tcp/udp, port), rule_id 0 meaning none. A lookup is an
 * inlined index instead of a hash walk; it costs 4 MiB per interface.
 */
#define SF_DPORT_INDEX(gen, is_udp, port) ((((__u32)(gen) * 2 + (is_udp)) << 16) | (port))
#define SF_DPORT_ENTRIES (SF_GENERATIONS * 2 * 65536)
/* Value: struct sf_lpm_meta, the best port-only rule for that key. */

/* ---- Counters: rule hits and stats share one shape. ---- */
struct sf_counter {
	__u64 packets;
	__u64 bytes;
};

/* One record per CPU so the exit path pays a single lookup and a single
 * increment: c[SF_STAT_CELL(stage, outcome)]. */
struct sf_stats_record {
	struct sf_counter c[SF_STAT_CELLS];
};

/* ---- Flow verdicts: one entry per direction, addresses in wire order. ---- */
struct sf_flow_key {
	__u8 src[16];         /* v4-mapped for IPv4 */
	__u8 dst[16];
	__u16 sport;          /* host order; 0 when the packet carries no ports */
	__u16 dport;
	__u16 vlan_outer;     /* 0 when untagged */
	__u16 vlan_inner;     /* 0 when single-tagged or untagged */
	__u8 proto;
	__u8 version;         /* 4 or 6: keeps IPv4 apart from v4-mapped IPv6 */
	__u8 pad[2];
};

struct sf_flow_meta {
	__u32 verdict;        /* SF_FLOW_ALLOW / SF_FLOW_BLOCK */
	__u32 origin;         /* SF_ORIGIN_*: the same on every CPU */
	__u64 packets;        /* per-CPU; the host expires entries whose sums stop moving */
	__u64 bytes;
};

/* ---- Penalty box: sources dropped until a monotonic deadline. ---- */
/* An IPv6 source's /64 is keyed as its prefix with an all-zero interface
 * id, the subnet-router anycast address, which sends no packets: the program
 * looks an IPv6 source up by its address, then by that key
 * (host/kernel/penalty-entry.ts). */
#define SF_PENALTY_NET6_PREFIX 64
struct sf_penalty_key {
	__u8 addr[16];        /* v4-mapped for IPv4 */
};

struct sf_penalty_meta {
	__u64 expires_ns;     /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns); past = ignored */
	__u64 hits;           /* packets dropped by this entry (racy across CPUs, advisory) */
};

/* ---- Last decision, written when SF_CFG_RECORD_LAST is set (test bench). ---- */
struct sf_decision {
	__u32 rule_id;        /* 0 when no rule decided */
	__u8 stage;           /* SF_STAGE_* */
	__u8 action;          /* SF_ACTION_* decided (before punt fallback) */
	__u8 xdp_action;      /* XDP_* returned */
	__u8 pad0;
	__u64 seq;            /* increments on every recorded packet */
};

_Static_assert(sizeof(struct sf_ruleset_meta) == 16, "sf_ruleset_meta size");
_Static_assert(sizeof(struct sf_config) == 64, "sf_config size");
_Static_assert(sizeof(struct sf_rule) == 88, "sf_rule size");
_Static_assert(sizeof(struct sf_lpm_v6_key) == 24, "sf_lpm_v6_key size");
_Static_assert(sizeof(struct sf_lpm_meta) == 12, "sf_lpm_meta size");
_Static_assert(sizeof(struct sf_exact_v4_key) == 8, "sf_exact_v4_key size");
_Static_assert(sizeof(struct sf_exact_v6_key) == 20, "sf_exact_v6_key size");
_Static_assert(sizeof(struct sf_port_key) == 8, "sf_port_key size");
_Static_assert(sizeof(struct sf_counter) == 16, "sf_counter size");
_Static_assert(sizeof(struct sf_stats_record) == 800, "sf_stats_record size");
_Static_assert(sizeof(struct sf_flow_key) == 44, "sf_flow_key size");
_Static_assert(sizeof(struct sf_flow_meta) == 24, "sf_flow_meta size");
_Static_assert(sizeof(struct sf_penalty_key) == 16, "sf_penalty_key size");
_Static_assert(sizeof(struct sf_penalty_meta) == 16, "sf_penalty_meta size");
_Static_assert(sizeof(struct sf_decision) == 16, "sf_decision size");

#endif /* SECUXFLOW_H */
