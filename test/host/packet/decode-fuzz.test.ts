// A million random and mutated frames through decodePacket: nothing escapes,
// and every offset it returns stays inside the frame. The seeds include IP
// under MPLS label stacks and in PPPoE sessions, so mutations reach the
// label walk and the PPPoE checks. Seeded, so a failure
// reproduces with SECUXFLOW_FUZZ_SEED=<printed seed>.
import { describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp, toLinkType, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { xorshift32 as prng } from '../../support/random.js';

const ITERATIONS = 1_000_000;
const TIME_LIMIT_MS = 50_000;
const LINK_TYPES = [LinkType.ETHERNET, LinkType.RAW, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP];


function corpus(): { data: Uint8Array; linkType: LinkType }[] {
  const specs: PacketSpec[] = [
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', payload: 'GET /a HTTP/1.1\r\n\r\n' },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', payload: 'dns', vlans: [10] },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'icmp', vlans: [1, 2] },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', ipv4Options: new Uint8Array(12).fill(1) },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 99, payload: 'raw' },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', payload: 'x'.repeat(40) },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', ipv6ExtHeaders: [{ type: 0 }, { type: 43, length: 16 }, { type: 60 }] },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp', vlans: [7] },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', payload: 'm', mplsLabels: [16, 17] },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', vlans: [3], mplsLabels: [1, 2, 3, 4, 5, 6, 7, 8] },
    { src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', payload: 'p', pppoeSession: 1 },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', vlans: [4, 5], pppoeSession: 0xffff },
  ];
  const eth: Uint8Array[] = specs.map(buildPacket);
  eth.push(...fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', payload: 'f'.repeat(60) }), 24));
  eth.push(...fragmentIp(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', ipv6ExtHeaders: [{ type: 0 }], payload: 'g'.repeat(60) }), 32));
  eth.push(...fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', payload: 'h'.repeat(60), pppoeSession: 2 }), 24));
  const out: { data: Uint8Array; linkType: LinkType }[] = [];
  for (const f of eth) {
    out.push({ data: f, linkType: LinkType.ETHERNET });
    const v6 = decodePacket(f, LinkType.ETHERNET).ipVersion === 6;
    for (const lt of [LinkType.RAW, v6 ? LinkType.IPV6 : LinkType.IPV4, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP]) {
      out.push({ data: toLinkType(f, lt), linkType: lt });
    }
  }
  return out;
}

/** MPLS (0x8847/0x8848) or PPPoE session (0x8864) after the VLAN tags of an Ethernet frame. */
function encapsulated(data: Uint8Array): boolean {
  for (let at = 12; at + 2 <= data.length; at += 4) {
    const t = (data[at]! << 8) | data[at + 1]!;
    if (t === 0x8847 || t === 0x8848 || t === 0x8864) return true;
    if (t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) return false;
  }
  return false;
}

function violation(p: DecodedPacket): string | null {
  const n = p.data.length;
  if (p.l3Offset < -1 || p.l3Offset >= n) return `l3Offset ${p.l3Offset}`;
  if (p.l4Offset < -1 || p.l4Offset >= n) return `l4Offset ${p.l4Offset}`;
  if (p.l4Offset >= 0 && p.l4Offset <= p.l3Offset) return `l4Offset ${p.l4Offset} <= l3Offset ${p.l3Offset}`;
  if (p.payloadOffset < -1 || p.payloadLength < 0 || p.payloadOffset + p.payloadLength > n) return `payload ${p.payloadOffset}+${p.payloadLength}`;
  if (p.payloadOffset === -1 && p.payloadLength !== 0) return 'payload length without offset';
  if (p.src.length !== p.dst.length || (p.src.length !== 0 && p.src.length !== 4 && p.src.length !== 16)) return `address lengths ${p.src.length}/${p.dst.length}`;
  if ((p.ipVersion === 0) !== (p.src.length === 0)) return `ipVersion ${p.ipVersion} with ${p.src.length}-byte address`;
  if (p.fragment && (p.fragment.dataOffset > n || p.fragment.dataOffset < 0)) return `fragment dataOffset ${p.fragment.dataOffset}`;
  if (p.srcPort < 0 || p.srcPort > 0xffff || p.dstPort < 0 || p.dstPort > 0xffff) return 'port out of range';
  if (p.tcpSeq < 0 || p.tcpSeq > 0xffffffff || p.tcpAck < 0 || p.tcpAck > 0xffffffff) return 'seq/ack out of u32';
  if (p.vlans.length > 2) return `${p.vlans.length} vlans`;
  return null;
}

describe('decodePacket fuzz', () => {
  it(`survives ${ITERATIONS} random and mutated frames with offsets in bounds`, () => {
    const seed = Number(process.env.SECUXFLOW_FUZZ_SEED ?? 0x5ec0f10) >>> 0;
    const rand = prng(seed);
    const seeds = corpus();
    const scratch = new Uint8Array(2048);
    const started = Date.now();
    let failure: string | null = null;
    let done = 0;
    let malformed = 0;
    // Encapsulated Ethernet frames that still decode to IP, and those that do not.
    const encap = { ip: 0, other: 0 };
    for (; done < ITERATIONS && failure === null; done++) {
      if ((done & 0xffff) === 0 && Date.now() - started > TIME_LIMIT_MS) break;
      const r = rand();
      let len: number;
      let linkType: LinkType;
      if ((r & 7) === 0) {
        // Pure random bytes under a random (sometimes unknown) link type.
        len = rand() % 200;
        for (let i = 0; i < len; i++) scratch[i] = rand() & 0xff;
        linkType = (r & 0x100 ? LINK_TYPES[(r >>> 9) % LINK_TYPES.length]! : (r >>> 9) & 0x1ff) as LinkType;
      } else {
        const base = seeds[(r >>> 3) % seeds.length]!;
        linkType = base.linkType;
        len = base.data.length;
        scratch.set(base.data.subarray(0, len));
        const flips = 1 + (rand() & 3);
        for (let k = 0; k < flips; k++) {
          const m = rand();
          const at = (m >>> 8) % Math.max(len, 1);
          switch (m & 3) {
            case 0: scratch[at] = m >>> 24; break;
            case 1: scratch[at] = (m & 4) ? 0 : 0xff; break;
            case 2: len = (m >>> 8) % (len + 1); break; // truncate
            default: {
              const extra = (m >>> 20) & 63; // grow with random tail
              for (let i = 0; i < extra && len < scratch.length; i++) scratch[len++] = rand() & 0xff;
            }
          }
        }
      }
      const data = scratch.subarray(0, len);
      try {
        // A quarter of the frames claim a longer wire length, as snaplen-cut captures do.
        const p = (r & 0x600) === 0 ? decodePacket(data, linkType, 0, 0, len + 1 + (r >>> 24)) : decodePacket(data, linkType);
        if (p.malformed !== null) malformed++;
        if (linkType === LinkType.ETHERNET && encapsulated(data)) encap[p.ipVersion === 0 ? 'other' : 'ip']++;
        const bad = violation(p);
        if (bad) failure = `iteration ${done}: ${bad} (link ${linkType}, bytes ${Buffer.from(data).toString('hex')})`;
      } catch (e) {
        failure = `iteration ${done}: threw ${(e as Error).stack} (link ${linkType}, bytes ${Buffer.from(data).toString('hex')})`;
      }
    }
    if (failure !== null) console.error(`decode fuzz failed with SECUXFLOW_FUZZ_SEED=${seed}: ${failure}`);
    expect(failure, `seed ${seed}`).toBeNull();
    expect(done, `only ${done} iterations within ${TIME_LIMIT_MS} ms (seed ${seed})`).toBe(ITERATIONS);
    // The mutations must actually exercise the fault paths, not only clean frames.
    expect(malformed).toBeGreaterThan(ITERATIONS / 10);
    expect(malformed).toBeLessThan(ITERATIONS);
    // The MPLS and PPPoE paths were walked, to the IP inside and to their faults.
    expect(encap.ip).toBeGreaterThan(ITERATIONS / 50);
    expect(encap.other).toBeGreaterThan(ITERATIONS / 500);
  });
});
