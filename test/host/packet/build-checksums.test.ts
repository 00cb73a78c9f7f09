// Built frames carry valid checksums: verified by an independent one's-
// complement sum here and by tshark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { PcapWriter } from '../../../host/capture/writer.js';
import { CHECKSUM_PREFS, SKIP_TSHARK, tsharkFields } from '../capture/tshark.js';

/** Sum of 16-bit words with end-around carry; a correct checksum makes it 0xffff. */
function onesSum(words: number[]): number {
  let s = 0;
  for (const w of words) { s += w; s = (s & 0xffff) + (s >>> 16); }
  return s;
}
function wordsOf(b: Uint8Array): number[] {
  const w: number[] = [];
  for (let i = 0; i < b.length; i += 2) w.push((b[i]! << 8) | (b[i + 1] ?? 0));
  return w;
}

const specs: PacketSpec[] = [
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 1000, dstPort: 80, payload: 'odd length!' },
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 1000, dstPort: 9999, payload: 'even' },
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'icmp', payload: 'ping!' },
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', ipv4Options: Uint8Array.of(1, 1, 1, 0), vlans: [5, 6] },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', srcPort: 1, dstPort: 443, payload: 'v6 tcp' },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 2, dstPort: 9998, payload: 'v6 udp!' },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp', payload: 'v6 ping' },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', dstPort: 9997, ipv6ExtHeaders: [{ type: 0 }, { type: 60, length: 16 }], payload: 'ext' },
];

describe('buildPacket checksums', () => {
  it('IPv4 headers and L4 checksums verify with an independent sum', () => {
    for (const spec of specs) {
      const f = buildPacket(spec);
      const l3 = 14 + (spec.vlans?.length ?? 0) * 4;
      const v6 = spec.src.includes(':');
      if (!v6) {
        const ihl = (f[l3]! & 15) * 4;
        expect(onesSum(wordsOf(f.subarray(l3, l3 + ihl))), JSON.stringify(spec)).toBe(0xffff);
      }
      // Walk to L4 the long way (ext headers are 8-byte multiples in these specs).
      let next = v6 ? f[l3 + 6]! : f[l3 + 9]!;
      let l4 = v6 ? l3 + 40 : l3 + (f[l3]! & 15) * 4;
      while (v6 && (next === 0 || next === 60)) { const n = f[l4]!; l4 += (f[l4 + 1]! + 1) * 8; next = n; }
      const seg = f.subarray(l4);
      const src = v6 ? f.subarray(l3 + 8, l3 + 24) : f.subarray(l3 + 12, l3 + 16);
      const dst = v6 ? f.subarray(l3 + 24, l3 + 40) : f.subarray(l3 + 16, l3 + 20);
      const pseudo = next === 1 ? [] : [...wordsOf(src), ...wordsOf(dst), next, seg.length >>> 16, seg.length & 0xffff];
      expect(onesSum([...pseudo, ...wordsOf(seg)]), JSON.stringify(spec)).toBe(0xffff);
    }
  });

  describe.skipIf(SKIP_TSHARK)('tshark', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-build-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports every checksum good and reads the same ports', () => {
      const path = join(dir, 'built.pcap');
      const w = new PcapWriter({ path });
      const frames = specs.map(buildPacket);
      frames.push(...fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', dstPort: 9996, payload: 'q'.repeat(100) }), 40));
      for (const data of frames) w.write({ data, tsSec: 1767225600, tsNsec: 0 });
      w.close();
      const rows = tsharkFields(path, ['frame.number', 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status',
        'icmp.checksum.status', 'icmpv6.checksum.status', 'tcp.srcport', 'udp.dstport', '_ws.malformed'], CHECKSUM_PREFS);
      expect(rows.length).toBe(frames.length);
      for (const [i, row] of rows.entries()) {
        const statuses = row.slice(1, 6).filter((s) => s !== '');
        // 1 = good; UDP of a reassembled datagram is checked too.
        for (const s of statuses) expect(s, `frame ${i + 1}: ${row.join('|')}`).toBe('1');
        expect(row[8], `frame ${i + 1} malformed`).toBe('');
      }
      // Every non-fragment frame has at least its L4 checksum checked.
      for (let i = 0; i < specs.length; i++) expect(rows[i]!.slice(2, 6).some((s) => s === '1'), `frame ${i + 1}`).toBe(true);
      expect(rows[0]![6]).toBe('1000');
      expect(rows[1]![7]).toBe('9999');
    });
  });
});
