// docs/offline.md says how a filter copied from tcpdump reads (and / or left
// to right, `src ADDR`, bare values that take the qualifiers before them, the
// words for layers looked through) and how far past its snap length a frame
// is read: each claim is held to the code here, so the page cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../host/capture/filter.js';
import { openCapture } from '../../host/capture/reader.js';
import { buildPacket } from '../../host/packet/build.js';
import { decodePacket } from '../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../host/packet/types.js';
import { ROOT, tempDir } from './support.js';

const doc = readFileSync(join(ROOT, 'docs', 'offline.md'), 'utf8');
const filters = (doc.split('\n## Filters\n')[1] ?? '').split('\n## ')[0]!.replace(/\s+/g, ' ');

function packets(): DecodedPacket[] {
  const out: DecodedPacket[] = [];
  const hosts = ['10.0.0.1', '10.0.0.2', '10.1.2.3'];
  for (const src of hosts) {
    for (const dst of hosts) {
      if (src === dst) continue;
      out.push(decodePacket(buildPacket({ src, dst, proto: 'icmp' }), LinkType.ETHERNET));
      for (const proto of ['tcp', 'udp'] as const) {
        for (const [sp, dp] of [[40000, 22], [40000, 53], [40000, 80], [40000, 443], [53, 40000], [80, 40000]]) {
          out.push(decodePacket(buildPacket({ src, dst, proto, srcPort: sp, dstPort: dp }), LinkType.ETHERNET));
        }
      }
    }
  }
  return out;
}

const selected = (expr: string): boolean[] => packets().map(compileFilter(expr));

describe('docs/offline.md, Filters', () => {
  const pairs = [...filters.matchAll(/`([^`]+)` is `([^`]+)`/g)].map((m) => [m[1]!, m[2]!] as const);

  it('gives the tcpdump readings: left to right, src ADDR, and bare values after a qualified primitive', () => {
    expect(pairs.map(([a]) => a)).toEqual(expect.arrayContaining(['tcp or udp and port 53', 'src 10.0.0.1', 'port 80 or 443', 'tcp dst port 80 or 22']));
  });

  it('each "`A` is `B`" selects the same packets', () => {
    for (const [a, b] of pairs) expect(selected(a), `${a} vs ${b}`).toEqual(selected(b));
  });

  it('the parentheses it suggests mean something else, as it says', () => {
    expect(filters).toContain('`tcp or (udp and port 53)`');
    expect(selected('tcp or (udp and port 53)')).not.toEqual(selected('tcp or udp and port 53'));
  });

  it('the words for layers it looks through are refused with the advice it gives', () => {
    expect(filters).toMatch(/`vlan`, `mpls` and `pppoes` are refused/);
    for (const word of ['vlan', 'mpls', 'pppoes']) expect(() => compileFilter(`${word} and tcp port 80`)).toThrow(`leave out "${word} and"`);
  });
});

describe('docs/offline.md, frames longer than the snap length', () => {
  /** A little-endian pcap with snaplen 64 holding one record per length (the bytes of the last may be missing). */
  function pcap(lengths: number[]): string {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(64, 16);
    header.writeUInt32LE(1, 20);
    const records = lengths.map((n) => {
      const r = Buffer.alloc(16 + n);
      r.writeUInt32LE(1_700_000_000, 0);
      r.writeUInt32LE(n, 8);
      r.writeUInt32LE(n, 12);
      return r;
    });
    const file = join(tempDir('snaplen-docs'), 'x.pcap');
    writeFileSync(file, Buffer.concat([header, ...records]));
    return file;
  }

  it('reads one whole up to 262,144 bytes, and calls a longer record corrupt', () => {
    const text = doc.replace(/\s+/g, ' ');
    expect(text).toContain('is read whole, as tshark reads it, up to 262,144 bytes');
    expect([...openCapture(pcap([300, 262_144])).frames()].map((f) => f.data.length)).toEqual([300, 262_144]);
    expect(() => [...openCapture(pcap([262_145])).frames()]).toThrow(/record captured length 262145 > 262144/);
  });
});
