// Evasion scenarios through the real Engine: what in-order stream bytes a module is given.
import { Engine, type EngineOptions, type ModuleRunner } from '../../../host/engine/engine.js';
import type { EngineCounters, FlowRecord } from '../../../host/engine/types.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from '../../../host/packet/checksum.js';
import type { InspectItem, BatchOutput } from '../../../host/wasm/instance.js';
import { T0 } from './support.js';

export const ATTACK = "GET /?q=1' UNION SELECT pw FROM users-- HTTP/1.1\r\n\r\n";
export const BENIGN = 'GET /?q=an_ordinary_and_harmless_search_term HTTP/1.1\r\n\r\n';
export const { SYN, ACK, PSH, RST, FIN } = TcpFlag;
/** Offsets in an untagged IPv4 frame without options. */
export const IP_CSUM = 14 + 10, TCP_CSUM = 14 + 20 + 16;

/** Keeps the last in-order bytes each direction of each flow was given. */
export class StreamRecorder implements ModuleRunner {
  readonly streams = new Map<string, string>();
  inspect(items: readonly InspectItem[], count: number, _out: BatchOutput): void {
    for (let i = 0; i < count; i++) {
      const it = items[i]!;
      if (it.stream !== null && it.streamNew > 0) this.streams.set(`${it.flowId}/${it.direction}`, new TextDecoder().decode(it.stream));
    }
  }
  flowEnded(): void {}
  /** Every to-server stream, in flow order. */
  toServer(): string[] {
    return [...this.streams.entries()].filter(([k]) => k.endsWith('/0')).map(([, v]) => v);
  }
}

const client = { src: '198.18.7.1', dst: '198.18.7.2', srcPort: 40700, dstPort: 80, proto: 'tcp' as const };
const server = { src: '198.18.7.2', dst: '198.18.7.1', srcPort: 80, dstPort: 40700, proto: 'tcp' as const };

export function c2s(flags: number, seq: number, payload = '', more: Partial<PacketSpec> = {}): Uint8Array {
  return buildPacket({ ...client, tcpFlags: flags, seq: seq >>> 0, ack: 5001, payload, ...more });
}
export function s2c(flags: number, seq: number, ack: number, more: Partial<PacketSpec> = {}): Uint8Array {
  return buildPacket({ ...server, tcpFlags: flags, seq: seq >>> 0, ack: ack >>> 0, ...more });
}
export function handshake(): Uint8Array[] {
  return [c2s(SYN, 1000), s2c(SYN | ACK, 5000, 1001), c2s(ACK, 1001)];
}
/** A copy of `frame` with one byte of a checksum flipped. */
export function corrupt(frame: Uint8Array, at: number): Uint8Array {
  const f = frame.slice();
  f[at]! ^= 0xff;
  return f;
}

/** `frame` (untagged IPv4, TCP without options) with a TCP timestamp option (NOP, NOP, TSval, TSecr 0) and right checksums. */
export function withTimestamp(frame: Uint8Array, tsVal: number): Uint8Array {
  const l4 = 34;
  const f = new Uint8Array(frame.length + 12);
  f.set(frame.subarray(0, l4 + 20), 0);
  f.set([1, 1, 8, 10, tsVal >>> 24, (tsVal >>> 16) & 255, (tsVal >>> 8) & 255, tsVal & 255, 0, 0, 0, 0], l4 + 20);
  f.set(frame.subarray(l4 + 20), l4 + 32);
  const ipLen = f.length - 14;
  f[16] = ipLen >> 8; f[17] = ipLen & 255;
  f[24] = 0; f[25] = 0;
  const ipSum = finishChecksum(sumWords(f, 14, 34));
  f[24] = ipSum >> 8; f[25] = ipSum & 255;
  f[l4 + 12] = (8 << 4) | (f[l4 + 12]! & 0x0f);
  f[l4 + 16] = 0; f[l4 + 17] = 0;
  const tcpSum = finishChecksum(sumWords(f, l4, f.length, pseudoHeaderSum(f.subarray(26, 30), f.subarray(30, 34), 6, f.length - l4)));
  f[l4 + 16] = tcpSum >> 8; f[l4 + 17] = tcpSum & 255;
  return f;
}

/** Feeds frames, one per `gapSec` (or at the times given), and ends the run. */
export function runFrames(frames: (Uint8Array | { frame: Uint8Array; t: number })[], opts: Partial<EngineOptions> = {}) {
  const rec = new StreamRecorder();
  const flows: FlowRecord[] = [];
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'rec', instance: rec }], batchSize: 4, onFlowEnd: (r) => flows.push(r), ...opts });
  frames.forEach((f, i) => {
    const { frame, t } = f instanceof Uint8Array ? { frame: f, t: i * 0.001 } : f;
    engine.pushDecoded(decodePacket(frame, LinkType.ETHERNET, T0 + Math.floor(t), Math.round((t % 1) * 1e9)));
  });
  const counters: EngineCounters = engine.finish();
  return { rec, flows, counters };
}
