// Fuzzes http_waf's parsers with over a million inputs: requests and
// responses from the corpora mutated (bit flips, truncation, duplicated
// slices, inserted CR/LF, '%', quotes, "${", chunk sizes...) plus pure noise,
// each as a fresh flow through on_batch. Nothing may trap, and memory must
// not keep growing.
import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { rng } from '../sdk-lib/harness.js';
import { readCorpus, wire } from './corpus.js';
import { bytesOf, streamItem, waf } from './waf.js';

beforeAll(async () => { await waf(); }, 180_000);

const INPUTS = 1_000_000;
const BATCH = 256;
const MAX_LEN = 1536;
const TOKENS = ['\r\n', '\r\n\r\n', '\n', '%', '%25', '%u', '%c0%af', "'", '"', '${', '}', '<', '>', 'chunked', 'Transfer-Encoding: chunked\r\n',
  'Content-Length: 99999999999999999999\r\n', 'Content-Length: 5\r\n', '\r\n ', '0\r\n\r\n', 'FFFFFFFF\r\n', ' HTTP/1.1', '?', '&', '=', ';', '`', '$(',
  '${jndi:', '${${lower:j}', '/*', '--', '../', 'HTTP/1.1 200 OK\r\n', ':', '\0', '\xff'].map((t) => Uint8Array.from(t, (c) => c.charCodeAt(0) & 0xff));

describe('http_waf fuzz', () => {
  it(`parses ${INPUTS.toLocaleString('en')} mutated and random inputs without a trap, in bounded memory and time`, async () => {
    const r = rng(424242);
    const seedsReq = [...readCorpus('attacks'), ...readCorpus('benign')].map((q) => bytesOf(wire(q)).subarray(0, MAX_LEN));
    const seedsResp = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.0 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n', 'HTTP/1.1 500 Oops\r\n\r\nbody until close',
    ].map(bytesOf);
    const inst = await waf({ allow_after: 1 }, undefined, { batchCapacity: BATCH });
    const bufs = Array.from({ length: BATCH }, () => new Uint8Array(MAX_LEN * 2));
    const items: InspectItem[] = Array.from({ length: BATCH }, (_, i) => streamItem(1, 0, bufs[i]!));
    const out = { verdicts: new Uint8Array(BATCH), verdictArgs: new Uint16Array(BATCH), alerts: [], events: [] };
    const t0 = Date.now();
    let memAtTenth = 0;
    let flow = 1;
    let done = 0;
    while (done < INPUTS) {
      for (let k = 0; k < BATCH; k++) {
        const buf = bufs[k]!;
        const dir: 0 | 1 = r() < 0.15 ? 1 : 0;
        let n: number;
        if (r() < 0.05) {
          n = Math.floor(r() * 400);
          for (let i = 0; i < n; i++) buf[i] = Math.floor(r() * 256);
        } else {
          const seed = dir === 1 ? seedsResp[Math.floor(r() * seedsResp.length)]! : seedsReq[Math.floor(r() * seedsReq.length)]!;
          buf.set(seed);
          n = seed.length;
          const edits = 1 + Math.floor(r() * 4);
          for (let e = 0; e < edits; e++) n = mutate(buf, n, r);
        }
        const it = items[k]!;
        it.flowId = flow++;
        it.direction = dir;
        it.stream = buf.subarray(0, n);
        it.streamNew = n;
      }
      out.alerts.length = 0;
      out.events.length = 0;
      inst.inspect(items, BATCH, out);
      for (let k = 0; k < BATCH; k++) {
        if (out.verdicts[k]! > 5) throw new Error(`verdict ${out.verdicts[k]} out of range`);
        inst.flowEnded(items[k]!.flowId);
      }
      done += BATCH;
      if (memAtTenth === 0 && done >= INPUTS / 10) memAtTenth = inst.memoryBytes;
      if (Date.now() - t0 > 280_000) throw new Error(`fuzzing took too long: ${done} inputs in ${Date.now() - t0} ms`);
    }
    const secs = (Date.now() - t0) / 1000;
    console.log(`http_waf fuzz: ${done} inputs in ${secs.toFixed(1)} s (${Math.round(done / secs)} inputs/s), ${inst.stats.alerts} alerts, memory ${inst.memoryBytes} bytes`);
    expect(done).toBeGreaterThanOrEqual(INPUTS);
    expect(inst.stats.traps).toBe(0);
    expect(inst.stats.batchErrors).toBe(0);
    expect(inst.stats.verdictErrors).toBe(0);
    // every alert and event the module built was valid for the host (JSON, sizes)
    expect(inst.stats.hostcallErrors).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(memAtTenth + 4 * 1024 * 1024);
  }, 300_000);
});

function mutate(buf: Uint8Array, n: number, r: () => number): number {
  const at = Math.floor(r() * (n + 1));
  const op = r();
  if (op < 0.3 && n > 0) { // flip bits of a byte
    buf[Math.min(at, n - 1)]! ^= 1 << Math.floor(r() * 8);
    return n;
  }
  if (op < 0.45) return Math.max(0, Math.min(n, at)); // truncate
  if (op < 0.6 && n > 0) { // duplicate a slice
    const len = Math.min(Math.floor(r() * 64) + 1, n - Math.min(at, n - 1), MAX_LEN * 2 - n);
    if (len <= 0) return n;
    const from = Math.min(at, n - 1);
    buf.copyWithin(from + len, from, n);
    return n + len;
  }
  // insert a token
  const t = TOKENS[Math.floor(r() * TOKENS.length)]!;
  if (n + t.length > MAX_LEN * 2) return n;
  buf.copyWithin(at + t.length, at, n);
  buf.set(t, at);
  return n + t.length;
}
