import { beforeAll, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, enc } from './support.js';
import { fuzz, scribble } from './fuzz-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

// Pieces a mutation splices in, so the detectors' deeper paths are reached.
const PIECES = ['4111 1111 1111 1111', '4111-1111-1111-1111', '378282246310005', '123-45-6789', '000-00-0000', 'AKIAIOSFODNN7EXAMPLE', 'ASIA',
  'aws_secret_access_key=', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '-----BEGIN ', 'PRIVATE KEY-----', 'eyJhbGciOiJIUzI1NiJ9', 'eyJ', '.', '-', ' ', '9', '=='].map(enc);

it('1,000,000 mutated payloads and streams: no trap, memory flat, detectors still fire', async () => {
  const inst = await instance('dlp', { max_alerts_per_flow: 4 });
  const templates: InspectItem[] = [];
  for (let i = 0; i < 256; i++) {
    const size = [0, 1, 16, 64, 200, 600, 1400][i % 7]!;
    const p = packet({ proto: i % 3 === 0 ? 'udp' : 'tcp', srcPort: 1000 + i, dstPort: 80, payload: new Uint8Array(size) });
    templates.push(item(p, { flowId: i + 1 }));
  }
  const stats = fuzz(inst, templates, (it, rnd, noise) => {
    const p = it.pkt;
    if (p.payloadLength === 0) return;
    const payload = p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    const mode = rnd() % 4;
    if (mode === 0) scribble(payload, 0, payload.length, rnd, noise);
    else {
      // digits, separators and anchors in random order
      let at = 0;
      while (at < payload.length) {
        const piece = PIECES[rnd() % PIECES.length]!;
        payload.set(piece.subarray(0, payload.length - at), at);
        at += piece.length;
      }
    }
    if (p.proto === 6 && rnd() % 2 === 0) {
      const keep = rnd() % (payload.length + 1);
      it.stream = payload.subarray(0, keep);
      it.streamNew = keep === 0 ? 0 : 1 + (rnd() % keep);
      it.flags = rnd() % 8 === 0 ? 0x08 : 0;
    } else {
      it.stream = null;
      it.streamNew = 0;
    }
  });
  expect(stats.alerts).toBeGreaterThan(1000);
}, 300_000);
