// tshark (Wireshark's dissector) as an independent oracle for JA3 and SNI:
// random ClientHellos (GREASE included) are written to a pcap, tshark
// computes tls.handshake.ja3/ja3_full, and the module must agree on each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { PcapWriter } from '../../../host/capture/writer.js';
import { item } from '../../host/wasm/helpers.js';
import { SKIP_TSHARK, tsharkFields } from '../../host/capture/tshark.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';
import { clientHello, records, type ClientHelloSpec } from './tls-wire.js';

const dir = mkdtempSync(join(tmpdir(), 'sfx-tls-tshark-'));
afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });
beforeAll(async () => { await compiledModule('tls_inspect'); }, 180_000);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

const KNOWN_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a, 0x00ff];
const EXT_POOL = [0x0000, 0x0005, 0x000a, 0x000b, 0x000d, 0x0010, 0x0012, 0x0015, 0x0017, 0x001b, 0x0023, 0x002b, 0x002d, 0x0033, 0x4469, 0xff01];

// Bodies that make each pooled extension well formed, so tshark dissects it fully.
const WELL_FORMED: Record<number, Uint8Array> = {
  0x0005: Uint8Array.from([1, 0, 0, 0, 0]), 0x001b: Uint8Array.from([2, 0, 2]), 0x002d: Uint8Array.from([1, 1]),
  0x0033: Uint8Array.from([0, 0]), 0x4469: Uint8Array.from([0, 3, 2, 0x68, 0x32]), 0xff01: Uint8Array.from([0]),
  0x0015: new Uint8Array(7),
};

function randomHello(r: () => number, i: number): ClientHelloSpec {
  const pick = <T>(xs: T[], n: number) => [...xs].sort(() => r() - 0.5).slice(0, n);
  const grease = () => { const g = Math.floor(r() * 16); return (g << 12) | 0x0a00 | (g << 4) | 0x0a; };
  const ciphers = pick(KNOWN_CIPHERS, 1 + Math.floor(r() * KNOWN_CIPHERS.length));
  if (r() < 0.5) ciphers.unshift(grease());
  const extensions = pick(EXT_POOL, Math.floor(r() * EXT_POOL.length));
  if (r() < 0.5) extensions.unshift(grease());
  if (r() < 0.3) extensions.push(grease());
  return {
    version: r() < 0.9 ? 0x0303 : 0x0301,
    ciphers, extensions,
    sni: `host${i}.example`,
    alpn: r() < 0.5 ? ['h2', 'http/1.1'] : ['http/1.1'],
    groups: r() < 0.5 ? [grease(), 0x001d, 0x0017] : [0x0017, 0x0018],
    points: r() < 0.5 ? [0] : [0, 1, 2],
    sigAlgs: [0x0403, 0x0804],
    versions: [0x0304, 0x0303],
    raw: WELL_FORMED,
  };
}

describe.skipIf(SKIP_TSHARK)('tls_inspect JA3 agrees with tshark', () => {
  it('on 300 random ClientHellos', async () => {
    const r = rng(20261122);
    const file = join(dir, 'hellos.pcap');
    const w = new PcapWriter({ path: file });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const data = records(clientHello(randomHello(r, i)));
      const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 20000 + i, dstPort: 443, payload: data });
      frames.push(frame);
      w.write({ data: frame, tsSec: 1_767_225_600 + i, tsNsec: 0 });
    }
    w.close();
    const rows = tsharkFields(file, ['frame.number', 'tls.handshake.ja3_full', 'tls.handshake.ja3', 'tls.handshake.extensions_server_name']);
    expect(rows).toHaveLength(300);

    const inst = await instance('tls_inspect');
    const items = frames.map((f, i) => {
      const pkt = decodePacket(f, LinkType.ETHERNET, 1_767_225_600 + i, 0);
      const payload = f.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength);
      return { ...item(pkt, { flowId: i + 1 }), stream: payload, streamNew: payload.length };
    });
    const out = run(inst, items);
    expect(out.events).toHaveLength(300);
    for (const ev of out.events) {
      const [num, full, hash, sni] = rows[ev.index]!;
      expect(Number(num)).toBe(ev.index + 1);
      const data = ev.data as { ja3: { hash: string; string: string }; sni: string };
      expect(data.ja3.string).toBe(full);
      expect(data.ja3.hash).toBe(hash);
      expect(data.sni ?? '').toBe(sni); // no server_name extension: tshark prints nothing
    }
  });
});
