// A large mixed capture for benchmarks: the demo capture's flows repeated with
// shifted addresses and times, so every copy is a new set of flows.
import type { RawFrame } from '../host/capture/types.js';
import { makeDemoCapture } from '../host/capture/samples.js';
import { decodePacket } from '../host/packet/decode.js';

export function makeMixedFrames(target: number): RawFrame[] {
  const base = makeDemoCapture();
  const first = base[0]!.tsSec;
  const span = base[base.length - 1]!.tsSec - first + 1;
  const out: RawFrame[] = [];
  for (let copy = 0; out.length < target; copy++) {
    for (const f of base) {
      const data = f.data.slice();
      const p = decodePacket(data, f.linkType);
      if (p.ipVersion !== 0 && p.l3Offset >= 0) {
        // XOR the same value into both addresses' last two bytes: both
        // directions of a flow map to the same new flow. Checksums go stale,
        // which the decoder, like an IDS, does not verify.
        const srcEnd = p.src.byteOffset - data.byteOffset + p.src.length;
        const dstEnd = p.dst.byteOffset - data.byteOffset + p.dst.length;
        for (const end of [srcEnd, dstEnd]) {
          data[end - 2] ^= (copy >> 8) & 0xff;
          data[end - 1] ^= copy & 0xff;
        }
      }
      out.push({ ...f, data, tsSec: f.tsSec + copy * span });
      if (out.length >= target) break;
    }
  }
  return out;
}
