import { describe, expect, it } from 'vitest';
import { Defragmenter, type DroppedDatagram, type OverlapPolicy } from '../../../host/flow/defrag.js';
import { FlowTable } from '../../../host/flow/table.js';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { finishChecksum, sumWords } from '../../../host/packet/checksum.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { SecuxflowError } from '../../../host/errors.js';
import { rng, shuffle } from './helpers.js';

const T0 = 1_700_000_000;
const ETH = 14;

function payload(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function dec(frame: Uint8Array, t = T0): DecodedPacket {
  return decodePacket(frame, LinkType.ETHERNET, t, 0);
}

function hex(b: Uint8Array): string { return Buffer.from(b).toString('hex'); }

/** Pushes frames in order; returns every non-null result. */
function feed(d: Defragmenter, frames: Uint8Array[], t = T0): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  for (const f of frames) {
    const r = d.push(dec(f, t));
    if (r !== null) out.push(r);
  }
  return out;
}

/** Rewrites an IPv4 fragment's offset / MF / data length (Ethernet, no VLAN) with a valid header checksum. */
function patchV4(frag: Uint8Array, opts: { offset?: number; more?: boolean; dataLen?: number }): Uint8Array {
  const ihl = (frag[ETH]! & 0x0f) << 2;
  const oldField = (frag[ETH + 6]! << 8) | frag[ETH + 7]!;
  const dataLen = opts.dataLen ?? frag.length - ETH - ihl;
  const out = new Uint8Array(ETH + ihl + dataLen);
  out.set(frag.subarray(0, Math.min(frag.length, out.length)));
  const offset = opts.offset ?? (oldField & 0x1fff) << 3;
  const more = opts.more ?? (oldField & 0x2000) !== 0;
  const field = (more ? 0x2000 : 0) | (offset >> 3);
  out[ETH + 6] = field >> 8; out[ETH + 7] = field & 0xff;
  const total = ihl + dataLen;
  out[ETH + 2] = total >> 8; out[ETH + 3] = total & 0xff;
  out[ETH + 10] = 0; out[ETH + 11] = 0;
  const sum = finishChecksum(sumWords(out, ETH, ETH + ihl));
  out[ETH + 10] = sum >> 8; out[ETH + 11] = sum & 0xff;
  return out;
}

const V4_UDP: PacketSpec = { src: '198.18.1.1', dst: '198.18.1.2', proto: 'udp', srcPort: 5000, dstPort: 5001, ipId: 0x1234 };
const V6_UDP: PacketSpec = { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 5000, dstPort: 5001 };

describe('Defragmenter reassembles', () => {
  it('passes non-fragments through untouched', () => {
    const d = new Defragmenter();
    const p = dec(buildPacket({ ...V4_UDP, payload: 'x' }));
    expect(d.push(p)).toBe(p);
    expect(d.stats.fragments).toBe(0);
  });

  for (const [name, spec] of [['IPv4', V4_UDP], ['IPv6', V6_UDP]] as const) {
    it(`${name}: in order, reversed, shuffled and duplicated fragments give back the original frame`, () => {
      const original = buildPacket({ ...spec, payload: payload(1400, 1) });
      const frags = fragmentIp(original, 128);
      expect(frags.length).toBeGreaterThan(5);
      const orders: Uint8Array[][] = [frags, frags.slice().reverse()];
      for (let seed = 1; seed <= 10; seed++) orders.push(shuffle(frags, rng(seed)));
      const r = rng(42);
      orders.push(shuffle([...frags, ...frags.filter(() => r() < 0.5)], rng(43)));
      for (const order of orders) {
        const d = new Defragmenter();
        let done: DecodedPacket | null = null;
        let doneAt = -1;
        order.forEach((f, i) => {
          const res = d.push(dec(f));
          if (res !== null && done === null) { done = res; doneAt = i; }
        });
        // The datagram completes exactly when the last missing fragment arrives.
        const firstComplete = order.findIndex((_, i) => new Set(order.slice(0, i + 1).map(hex)).size === frags.length);
        expect(doneAt).toBe(firstComplete);
        const out = done as unknown as DecodedPacket;
        expect(out.malformed).toBeNull();
        expect(out.fragment).toBeNull();
        expect(hex(out.data)).toBe(hex(original));
        expect([out.srcPort, out.dstPort]).toEqual([5000, 5001]);
        expect(out.payloadLength).toBe(1400);
        // Duplicates after completion start a new datagram, which only a timeout clears.
        if (order.length === frags.length) {
          expect(d.pending).toBe(0);
          expect(d.bytesHeld).toBe(0);
        }
      }
    });
  }

  it('IPv6: keeps fragmentable extension headers and fixes the next-header chain', () => {
    const original = buildPacket({ ...V6_UDP, ipv6ExtHeaders: [{ type: 0 }, { type: 60, length: 16 }], payload: payload(300, 2) });
    const frags = fragmentIp(original, 64);
    const out = feed(new Defragmenter(), shuffle(frags, rng(5)));
    expect(out).toHaveLength(1);
    expect(hex(out[0]!.data)).toBe(hex(original));
    expect(out[0]!.proto).toBe(17);
    expect(out[0]!.dstPort).toBe(5001);
  });

  it('keeps the first fragment\'s VLAN tags and link header, and does not mix VLANs', () => {
    const a = buildPacket({ ...V4_UDP, vlans: [100, 7], payload: payload(200, 3) });
    const b = buildPacket({ ...V4_UDP, vlans: [200], payload: payload(200, 4) });
    const fa = fragmentIp(a, 64), fb = fragmentIp(b, 64);
    const mixed: Uint8Array[] = [];
    for (let i = 0; i < fa.length; i++) mixed.push(fa[i]!, fb[i]!);
    const d = new Defragmenter();
    const out = feed(d, mixed);
    expect(out.map((p) => hex(p.data)).sort()).toEqual([hex(a), hex(b)].sort());
    expect(out.find((p) => p.vlans[0] === 100)!.vlans).toEqual([100, 7]);
    expect(d.stats.overlaps).toBe(0);
  });

  it('keeps apart datagrams behind two inner VLANs of one outer VLAN (QinQ), with the same addresses and id', () => {
    // Carriers reuse private addresses across customers: two networks, one datagram id.
    const a = buildPacket({ ...V4_UDP, vlans: [100, 7], payload: payload(200, 7) });
    const b = buildPacket({ ...V4_UDP, vlans: [100, 8], payload: payload(200, 8) });
    const fa = fragmentIp(a, 64), fb = fragmentIp(b, 64);
    const mixed: Uint8Array[] = [];
    for (let i = 0; i < fa.length; i++) mixed.push(fa[i]!, fb[i]!);
    const d = new Defragmenter();
    expect(feed(d, mixed).map((p) => hex(p.data)).sort()).toEqual([hex(a), hex(b)].sort());
    expect(d.stats.overlaps).toBe(0);
  });

  it('keeps apart datagrams that share the id and all but one address bit, v4 and v6, source and destination', () => {
    // The key takes every word of both addresses: datagrams one bit apart in any of them never merge.
    for (const [spec, other] of [
      [V4_UDP, { ...V4_UDP, src: '198.18.1.3' }], [V4_UDP, { ...V4_UDP, dst: '198.18.1.3' }],
      [V6_UDP, { ...V6_UDP, src: '2001:db8::3' }], [V6_UDP, { ...V6_UDP, dst: '2001:db8::3' }],
      [{ ...V6_UDP, src: '2001:db8:1::1' }, { ...V6_UDP, src: '2001:db8:2::1' }],
    ] as [PacketSpec, PacketSpec][]) {
      const a = buildPacket({ ...spec, payload: payload(200, 5) });
      const b = buildPacket({ ...other, payload: payload(200, 6) });
      // IPv4 takes both ids from the headers (V4_UDP's ipId); IPv6 gets the same one given.
      const id = spec.src.includes(':') ? 0x4242 : undefined;
      const fa = fragmentIp(a, 64, id), fb = fragmentIp(b, 64, id);
      const mixed: Uint8Array[] = [];
      for (let i = 0; i < fa.length; i++) mixed.push(fa[i]!, fb[i]!);
      const d = new Defragmenter();
      expect(feed(d, mixed).map((p) => hex(p.data)).sort(), `${other.src} -> ${other.dst}`).toEqual([hex(a), hex(b)].sort());
      expect(d.stats.overlaps).toBe(0);
    }
  });

  for (const [family, src, dst] of [['IPv4', '198.18.2.1', '198.18.2.2'], ['IPv6', '2001:db8::21', '2001:db8::22']] as const) it(`${family}: yields the right ports and flow when the TCP header is split across fragments`, () => {
    const spec: PacketSpec = { src, dst, proto: 'tcp', srcPort: 43210, dstPort: 443, tcpFlags: 0x18, seq: 77, payload: 'ClientHello...' };
    const frags = fragmentIp(buildPacket(spec), 8);
    const first = dec(frags[0]!);
    expect(first.l4Offset).toBe(-1); // only 8 of the 20 TCP header bytes
    const d = new Defragmenter();
    const table = new FlowTable();
    let flowId = -1;
    for (const f of shuffle(frags, rng(9))) {
      const r = d.push(dec(f));
      if (r === null) continue;
      expect([r.srcPort, r.dstPort, r.tcpFlags, r.tcpSeq]).toEqual([43210, 443, 0x18, 77]);
      expect(new TextDecoder().decode(r.data.subarray(r.payloadOffset, r.payloadOffset + r.payloadLength))).toBe('ClientHello...');
      const tr = table.track(r)!;
      expect([tr.flow.clientPort, tr.flow.serverPort]).toEqual([43210, 443]);
      flowId = tr.flow.id;
    }
    expect(flowId).toBeGreaterThan(0);
    const unfragmented = table.track(dec(buildPacket(spec)))!;
    expect(unfragmented.flow.id).toBe(flowId);
  });
});

describe('Defragmenter overlaps', () => {
  // A: 16-byte fragments; B: the same datagram header with other payload bytes, 8-byte fragments.
  const a = buildPacket({ ...V4_UDP, payload: payload(56, 10) });
  const b = buildPacket({ ...V4_UDP, payload: payload(56, 11) });
  const fa = fragmentIp(a, 16);
  const fb = fragmentIp(b, 8);
  const overlapB = fb[1]!; // data [8,16): overlaps the second half of fa[0]
  const ipData = ETH + 20;
  const aWithB = a.slice();
  aWithB.set(b.subarray(ipData + 8, ipData + 16), ipData + 8);

  const cases: { policy: OverlapPolicy; order: Uint8Array[]; want: Uint8Array; label: string }[] = [
    { policy: 'first', order: [fa[0]!, overlapB, ...fa.slice(1)], want: a, label: 'held bytes win' },
    { policy: 'first', order: [overlapB, ...fa], want: aWithB, label: 'the earlier overlapping copy wins' },
    { policy: 'last', order: [fa[0]!, overlapB, ...fa.slice(1)], want: aWithB, label: 'the later copy overwrites' },
    { policy: 'last', order: [overlapB, ...fa], want: a, label: 'the later full fragment overwrites' },
  ];
  for (const c of cases) {
    it(`policy ${c.policy}: ${c.label}, and the conflict is counted`, () => {
      const d = new Defragmenter({ policy: c.policy });
      const out = feed(d, c.order);
      expect(out).toHaveLength(1);
      expect(hex(out[0]!.data)).toBe(hex(c.want));
      expect(d.stats.overlapsConflicting).toBe(1);
      expect(d.stats.overlaps).toBe(1);
    });
  }

  it('counts an overlap with identical bytes as an overlap but not a conflict', () => {
    const d = new Defragmenter();
    const same = fragmentIp(a, 8)[1]!;
    const out = feed(d, [fa[0]!, same, fa[0]!, ...fa.slice(1)]);
    expect(hex(out[0]!.data)).toBe(hex(a));
    expect(d.stats.overlapsConflicting).toBe(0);
    expect(d.stats.duplicates).toBe(2);
  });

  it('counts a fragment straddling two held ones as one overlap', () => {
    const d = new Defragmenter();
    const straddle = patchV4(fragmentIp(a, 8)[1]!, { dataLen: 16 });
    // straddle now claims data [8,24) but its last 8 bytes are the UDP bytes of a's [16,24) only if copied right:
    straddle.set(a.subarray(ipData + 8, ipData + 24), ipData);
    const out = feed(d, [fa[0]!, fa[1]!, straddle, ...fa.slice(2)]);
    expect(hex(out[0]!.data)).toBe(hex(a));
    expect(d.stats.duplicates).toBe(1);
    expect(d.stats.overlapsConflicting).toBe(0);
  });
});

describe('Defragmenter limits', () => {
  it('drops an incomplete datagram after the timeout, by expire() or by time advancing in push()', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(100, 20) }), 32);
    const d = new Defragmenter({ timeoutSec: 30 });
    expect(d.push(dec(frags[0]!, T0))).toBeNull();
    expect(d.expire(T0 + 29)).toBe(0);
    expect(d.pending).toBe(1);
    expect(d.expire(T0 + 30)).toBe(1);
    expect(d.pending).toBe(0);
    expect(d.bytesHeld).toBe(0);
    // The rest alone cannot complete the datagram.
    for (const f of frags.slice(1)) expect(d.push(dec(f, T0 + 31))).toBeNull();
    expect(d.pending).toBe(1);
    // A later unrelated packet's time expires it too.
    const other = fragmentIp(buildPacket({ ...V4_UDP, ipId: 9, payload: payload(100, 21) }), 32);
    d.push(dec(other[0]!, T0 + 100));
    expect(d.stats.timedOut).toBe(2);
    expect(d.pending).toBe(1);
  });

  it('evicts the oldest datagram when over the byte budget', () => {
    const mk = (id: number) => fragmentIp(buildPacket({ ...V4_UDP, ipId: id, payload: payload(2000, id) }), 1024);
    const dgs = [mk(1), mk(2), mk(3)];
    const d = new Defragmenter({ maxBytes: 3000 });
    for (const g of dgs) expect(d.push(dec(g[0]!))).toBeNull();
    expect(d.stats.evicted).toBe(1);
    expect(d.pending).toBe(2);
    expect(d.bytesHeld).toBeLessThanOrEqual(3000);
    const done = d.push(dec(dgs[2]![1]!));
    expect(hex(done!.data)).toBe(hex(buildPacket({ ...V4_UDP, ipId: 3, payload: payload(2000, 3) })));
    // Datagram 1 was evicted: its last fragment starts a fresh one, which is kept while
    // the older datagram 2 makes room.
    expect(d.push(dec(dgs[0]![1]!))).toBeNull();
    expect(d.stats.evicted).toBe(2);
    expect(d.pending).toBe(1);
    expect(d.bytesHeld).toBeLessThanOrEqual(3000);
    expect(d.push(dec(dgs[1]![1]!))).toBeNull();
  });

  it('evicts the oldest datagram when over the datagram count', () => {
    const d = new Defragmenter({ maxDatagrams: 2 });
    const mk = (id: number) => fragmentIp(buildPacket({ ...V4_UDP, ipId: id, payload: payload(64, id) }), 32);
    const g = [mk(1), mk(2), mk(3)];
    for (const x of g) d.push(dec(x[0]!));
    expect(d.pending).toBe(2);
    expect(d.stats.evicted).toBe(1);
    expect(d.push(dec(g[1]![1]!))).toBeNull();
    expect(d.push(dec(g[1]![2]!))).not.toBeNull();
    // Datagram 1 is gone: its remaining fragments cannot complete it.
    expect(feed(d, g[0]!.slice(1))).toEqual([]);
  });

  it('rejects a datagram that would exceed 65535 bytes, without throwing', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 30) }), 32);
    const d = new Defragmenter();
    d.push(dec(frags[0]!));
    const huge = patchV4(frags[1]!, { offset: 65528 - 8, dataLen: 32, more: false });
    const r = d.push(dec(huge))!;
    expect(r.malformed).toMatch(/65535/);
    expect(d.stats.oversized).toBe(1);
    expect(d.pending).toBe(0);
  });

  it('rejects a datagram that only exceeds 65535 bytes with the first fragment\'s longer header', () => {
    const withOptions = buildPacket({ ...V4_UDP, ipv4Options: new Uint8Array(40).fill(1), payload: payload(64, 34) });
    const plain = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 35) }), 32);
    const first = fragmentIp(withOptions, 16)[0]!;
    const middle = patchV4(plain[1]!, { offset: 16, dataLen: 65464, more: true });
    const last = patchV4(plain[1]!, { offset: 65480, dataLen: 16, more: false });
    const d = new Defragmenter();
    expect(d.push(dec(first))).toBeNull();
    expect(d.push(dec(middle))).toBeNull();
    const r = d.push(dec(last))!;
    expect(r.malformed).toMatch(/65535/);
    expect(d.stats.oversized).toBe(1);
    expect(d.stats.reassembled).toBe(0);
    expect(d.pending).toBe(0);
  });

  it('rejects data after the last fragment and a second, different end', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 31) }), 32);
    const d = new Defragmenter();
    const last = frags[frags.length - 1]!;
    expect(d.push(dec(last))).toBeNull();
    const after = patchV4(frags[0]!, { offset: 200, more: true });
    expect(d.push(dec(after))!.malformed).toMatch(/after the last/);
    expect(d.stats.beyondLast).toBe(1);
    expect(d.pending).toBe(0);
    d.push(dec(last));
    const otherEnd = patchV4(last, { offset: 80 });
    expect(d.push(dec(otherEnd))!.malformed).toMatch(/last fragment/);
    expect(d.stats.beyondLast).toBe(2);
  });

  it('rejects an empty or misaligned non-last fragment and keeps the datagram', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 32) }), 32);
    const d = new Defragmenter();
    d.push(dec(frags[0]!));
    expect(d.push(dec(patchV4(frags[1]!, { dataLen: 0, more: true })))!.malformed).toMatch(/empty/);
    expect(d.push(dec(patchV4(frags[1]!, { dataLen: 12, more: true })))!.malformed).toMatch(/multiple of 8/);
    expect([d.stats.emptyFragment, d.stats.misaligned]).toEqual([1, 1]);
    const rest = feed(d, frags.slice(1));
    expect(rest).toHaveLength(1);
    expect(rest[0]!.malformed).toBeNull();
  });

  it('rejects a fragment cut short by the capture', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 33) }), 32);
    const d = new Defragmenter();
    const r = d.push(dec(frags[0]!.subarray(0, frags[0]!.length - 4)))!;
    expect(r.malformed).not.toBeNull();
    expect(d.stats.truncated).toBe(1);
    expect(d.pending).toBe(0);
  });

  it('returns a rejected fragment itself, so the caller decides it on its own', () => {
    const frags = fragmentIp(buildPacket({ ...V4_UDP, payload: payload(64, 36) }), 32);
    const d = new Defragmenter();
    const empty = dec(patchV4(frags[1]!, { dataLen: 0, more: true }));
    expect(d.push(empty)).toBe(empty);
    expect(empty.malformed).toMatch(/empty/);
  });

  it('reports every given-up datagram to onDrop with the fragments\' identity', () => {
    const dropped: DroppedDatagram[] = [];
    const d = new Defragmenter({ maxDatagrams: 2, timeoutSec: 10, onDrop: (x) => dropped.push(x) });
    const mk = (id: number, vlans: number[] = []) => fragmentIp(buildPacket({ ...V4_UDP, ipId: id, vlans, payload: payload(64, id) }), 32);
    d.push(dec(mk(1)[0]!, T0));
    d.push(dec(mk(2, [33])[0]!, T0 + 1));
    d.push(dec(mk(3)[0]!, T0 + 2));                 // evicts 1
    const g3 = mk(3);
    d.push(dec(patchV4(g3[2]!, { offset: 200, more: false }), T0 + 2)); // a last fragment: the datagram ends at 208
    d.push(dec(patchV4(g3[1]!, { offset: 240 }), T0 + 2));            // data past 208: drops 3
    d.push(dec(mk(4)[0]!, T0 + 20));                // time advanced: 2 times out
    const bigLast = patchV4(mk(4)[2]!, { offset: 65528, dataLen: 16, more: false });
    d.push(dec(bigLast, T0 + 20));                  // oversized: drops 4
    expect(dropped.map((x) => [x.id, x.reason, x.vlan])).toEqual([
      [1, 'evicted', 0], [3, 'beyondLast', 0], [2, 'timeout', 33], [4, 'oversized', 0],
    ]);
    expect(Array.from(dropped[0]!.src)).toEqual([198, 18, 1, 1]);
    expect(dropped.every((x) => x.ipVersion === 4)).toBe(true);
    expect(d.pending).toBe(0);
  });

  it('rejects bad options with a coded error', () => {
    expect(() => new Defragmenter({ maxBytes: 0 })).toThrow(SecuxflowError);
    expect(() => new Defragmenter({ policy: 'bsd' as OverlapPolicy })).toThrow(/policy/);
  });
});
