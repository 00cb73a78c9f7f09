// Encoders and decoders of host/kernel/codec.ts invert each other, and the
// bytes land where LAYOUT says (the layout itself is checked against the C
// header in codec-layout.test.ts). No root needed.
import { describe, it, expect } from 'vitest';
import {
  LAYOUT, SLOT_OFFSET, decodeFlowKey, encodeExactKey, decodeLpmKey, decodeLpmMeta, decodeRule, decodeRulesetMeta, encodeFlowKey, encodeLpmKey,
  encodeLpmMeta, encodePortKey, encodeRule, encodeRulesetMeta, flowKeyVersion, reverseFlowKey, sumCounters, encodePenaltyKey,
  SfOutcome, SfStage, SfStat, perCpuStride, statCell, sumStatsRecord, type KernelRuleEntry,
} from '../../host/kernel/codec.js';
import { parseIp } from '../../host/packet/addr.js';

describe('kernel codecs', () => {
  it('sf_rule round-trips and writes addresses as network-order words', () => {
    const e: KernelRuleEntry = {
      id: 123456, priority: 65535, action: 3, proto: 58, sportLo: 1, sportHi: 2, dportLo: 1024, dportHi: 65535, vlan: 4095, flags: 0x3f, slot: 32767,
      srcNet: [0xc6120000, 0, 0, 0], srcMask: [0xfffe0000, 0, 0, 0], dstNet: [0x20010db8, 1, 2, 3], dstMask: [0xffffffff, 0xffffffff, 0, 0],
    };
    const b = encodeRule(e);
    expect(b.length).toBe(LAYOUT.sf_rule.size);
    expect(decodeRule(b)).toEqual(e);
    expect([...b.subarray(LAYOUT.sf_rule.fields.src_net, LAYOUT.sf_rule.fields.src_net + 4)]).toEqual([198, 18, 0, 0]);
  });

  it('LPM keys carry the generation and 32 extra prefix bits; they hold IPv6 only (IPv4 has the prefix table)', () => {
    const k6 = encodeLpmKey(1, parseIp('2001:db8::'), 32);
    expect(k6.length).toBe(LAYOUT.sf_lpm_v6_key.size);
    expect(new DataView(k6.buffer).getUint32(0, true)).toBe(64);
    expect(decodeLpmKey(k6)).toEqual({ gen: 1, prefixLen: 32, addr: parseIp('2001:db8::') });
    expect(() => encodeLpmKey(0, Uint8Array.of(198, 18, 1, 0), 24)).toThrow(/IPv6 address, got 4 bytes/);
    expect(decodeLpmMeta(encodeLpmMeta({ ruleId: 7, priority: 300, action: 2, slot: 4097 }))).toEqual({ ruleId: 7, priority: 300, action: 2, slot: 4097 });
    // A value encoded before staging carries slot 0 until the stage writes the slot in.
    expect(decodeLpmMeta(encodeLpmMeta({ ruleId: 7, priority: 300, action: 2 })).slot).toBe(0);
  });

  it('slots sit where staging patches them: right after the id-led fields', () => {
    const meta = encodeLpmMeta({ ruleId: 9, priority: 1, action: 1, slot: 0x01020304 });
    expect([...meta.subarray(SLOT_OFFSET.sf_lpm_meta, SLOT_OFFSET.sf_lpm_meta + 4)]).toEqual([4, 3, 2, 1]);
    const rule = encodeRule({
      id: 9, priority: 1, action: 1, proto: 0, sportLo: 0, sportHi: 65535, dportLo: 0, dportHi: 65535, vlan: 0, flags: 0, slot: 0x0a0b,
      srcNet: [0, 0, 0, 0], srcMask: [0, 0, 0, 0], dstNet: [0, 0, 0, 0], dstMask: [0, 0, 0, 0],
    });
    expect(new DataView(rule.buffer).getUint32(SLOT_OFFSET.sf_rule, true)).toBe(0x0a0b);
  });

  it('exact-address keys: generation, direction, then the address bytes', () => {
    expect([...encodeExactKey(1, 1, parseIp('198.18.0.9'))]).toEqual([1, 1, 0, 0, 198, 18, 0, 9]);
    const k6 = encodeExactKey(0, 0, parseIp('2001:db8::1'));
    expect(k6.length).toBe(LAYOUT.sf_exact_v6_key.size);
    expect([...k6.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...k6.subarray(4)]).toEqual([...parseIp('2001:db8::1')]);
    expect(encodeExactKey(0, 1, parseIp('198.18.0.9')).length).toBe(LAYOUT.sf_exact_v4_key.size);
  });

  it('flow keys: v4-mapped IPv4 with its version byte, reverse swaps the ends', () => {
    const key = { src: parseIp('198.18.0.1'), dst: parseIp('198.18.0.2'), sport: 1234, dport: 80, vlanOuter: 10, vlanInner: 20, proto: 6 };
    const b = encodeFlowKey(key);
    expect([...b.subarray(0, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1]);
    expect(flowKeyVersion(b)).toBe(4);
    expect(decodeFlowKey(b)).toEqual(key);
    const mapped = encodeFlowKey({ ...key, src: parseIp('::ffff:198.18.0.1'), dst: parseIp('::ffff:198.18.0.2') });
    expect(flowKeyVersion(mapped)).toBe(6);
    expect(mapped).not.toEqual(b);
    expect(decodeFlowKey(encodeFlowKey(reverseFlowKey(key)))).toEqual({ ...key, src: key.dst, dst: key.src, sport: 80, dport: 1234 });
  });

  it('ruleset header, port keys, penalty keys and per-CPU counter sums', () => {
    const m = { v4Count: 4096, v6Count: 1, defaultAction: 2, lpmMask: 0x3f };
    expect(decodeRulesetMeta(encodeRulesetMeta(m))).toEqual(m);
    expect([...encodePortKey(1, 17, 0, 0x0102)]).toEqual([1, 17, 0, 0, 0x02, 0x01, 0, 0]);
    expect([...encodePenaltyKey(parseIp('2001:db8::1'))]).toEqual([...parseIp('2001:db8::1')]);
    const two = new Uint8Array(32);
    const v = new DataView(two.buffer);
    v.setBigUint64(0, 5n, true); v.setBigUint64(8, 500n, true); v.setBigUint64(16, 7n, true); v.setBigUint64(24, 700n, true);
    expect(sumCounters(two, 2)).toEqual({ packets: 12, bytes: 1200 });
  });

  it('stats: the SF_STAT_* counters are sums of (stage, outcome) cells over CPUs', () => {
    const cpus = 2;
    const stride = perCpuStride(LAYOUT.sf_stats_record.size);
    const b = new Uint8Array(stride * cpus);
    const v = new DataView(b.buffer);
    const put = (cpu: number, stage: number, outcome: number, packets: number): void => {
      const at = cpu * stride + statCell(stage, outcome) * LAYOUT.sf_counter.size;
      v.setBigUint64(at, BigInt(packets), true);
      v.setBigUint64(at + 8, BigInt(packets * 100), true);
    };
    put(0, SfStage.DEFAULT, SfOutcome.PASS, 3);
    put(1, SfStage.DEFAULT, SfOutcome.PASS, 4);
    put(0, SfStage.LPM, SfOutcome.DROP, 5);
    put(1, SfStage.SCAN, SfOutcome.PUNT, 6);
    put(0, SfStage.PORT, SfOutcome.FALLBACK_PASS, 1);
    put(1, SfStage.PORT, SfOutcome.FALLBACK_DROP, 2);
    const s = sumStatsRecord(b, cpus);
    expect(s[SfStat.RX]).toEqual({ packets: 21, bytes: 2100 });
    expect(s[SfStat.PASS]!.packets).toBe(3 + 4 + 1);
    expect(s[SfStat.DROP]!.packets).toBe(5 + 2);
    expect(s[SfStat.PUNT]!.packets).toBe(6);
    expect(s[SfStat.PUNT_FALLBACK]).toEqual({ packets: 3, bytes: 300 });
    expect(s[SfStat.STAGE_BASE + SfStage.DEFAULT]!.packets).toBe(7);
    expect(s[SfStat.STAGE_BASE + SfStage.PORT]!.packets).toBe(3);
    expect(s[SfStat.STAGE_BASE + SfStage.FLOW]!.packets).toBe(0);
    expect(s).toHaveLength(SfStat.MAX);
  });
});
