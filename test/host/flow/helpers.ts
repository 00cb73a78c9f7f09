// Builds decoded packets for flow tests through the project's real builder and decoder.
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
export { mulberry32 as rng } from '../../support/random.js';

export function pkt(spec: PacketSpec, tsSec = 1_700_000_000, tsNsec = 0): DecodedPacket {
  return decodeFrame(buildPacket(spec), tsSec, tsNsec);
}

export function decodeFrame(frame: Uint8Array, tsSec = 1_700_000_000, tsNsec = 0): DecodedPacket {
  const p = decodePacket(frame, LinkType.ETHERNET, tsSec, tsNsec);
  if (p.ipVersion === 0) throw new Error(`test frame did not decode: ${p.malformed ?? 'no IP'}`);
  return p;
}


export function shuffle<T>(items: T[], rand: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
