// Cut, garbage and non-IP frames through the engine into each of dlp,
// scan_flood, ratelimit and threat_intel: a decision for every frame, no
// module failure, no memory growth.
import { beforeAll, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { compiledModule, engineRun, enc } from './support.js';
import { malformedFrames } from './fuzz-support.js';
import { withLuhn } from './luhn.js';

const MODULES = [
  { name: 'dlp' },
  { name: 'scan_flood' },
  { name: 'ratelimit', config: { rules: [{ rate: 1, burst: 2 }] } },
  { name: 'threat_intel', config: 'evil.example\n198.18.0.0/16\n2001:db8::/32\n' },
];

beforeAll(async () => { for (const m of MODULES) await compiledModule(m.name); }, 600_000);

it('every cut or garbage frame gets a decision and no module fails', async () => {
  const real = [
    buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, payload: `GET / HTTP/1.1\r\nHost: evil.example\r\n\r\ncard=${withLuhn('411111111111111')}` }),
    buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 5353, dstPort: 53, payload: Uint8Array.from([1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]) }),
    buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'icmp', icmpType: 8, payload: enc('ping') }),
    buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40001, dstPort: 443, tcpFlags: 0x29 }),
  ];
  const frames: RawFrame[] = malformedFrames(real).map((data, i) => ({ data, linkType: LinkType.ETHERNET, wireLen: data.length + (i % 5 === 0 ? 40 : 0), tsSec: 1_700_000_000 + Math.floor(i / 100), tsNsec: (i % 100) * 1000, iface: 0 }));
  const { decisions, instances } = await engineRun(frames, MODULES);
  expect(decisions.length).toBe(frames.length);
  expect(decisions.some((d) => d.pkt.malformed !== null)).toBe(true);
  expect(decisions.filter((d) => d.modules.some((m) => m.failure !== null)).map((d) => d.modules.map((m) => m.failure))).toEqual([]);
  for (const inst of instances) {
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(12 * 1048576);
  }
}, 120_000);

it('adversarial streams (endless digit groups, anchors every 3 bytes, a 256 KiB header line) stay fast and bounded', async () => {
  const { tcpSession } = await import('./support.js');
  const chunk = (s: string) => { const out: string[] = []; for (let i = 0; i < s.length; i += 1400) out.push(s.slice(i, i + 1400)); return out; };
  const bodies = ['1 '.repeat(60_000), 'eyJ'.repeat(40_000), 'AKIA'.repeat(30_000), '-----BEGIN '.repeat(10_000), `GET / HTTP/1.1\r\nX-Long: ${'a'.repeat(256 * 1024)}\r\nHost: evil.example\r\n\r\n`];
  const frames = bodies.flatMap((b, i) => tcpSession({ client: '198.18.0.1', server: '198.18.0.2', clientPort: 41000 + i, toServer: chunk(b), at: i * 10 }));
  const t0 = performance.now();
  const { decisions, instances } = await engineRun(frames, MODULES);
  const ms = performance.now() - t0;
  console.log(`adversarial streams: ${frames.length} frames in ${ms.toFixed(0)} ms`);
  expect(decisions.length).toBe(frames.length);
  expect(decisions.filter((d) => d.modules.some((m) => m.failure !== null))).toEqual([]);
  for (const inst of instances) expect(inst.stats.traps).toBe(0);
  expect(ms).toBeLessThan(30_000);
}, 120_000);
