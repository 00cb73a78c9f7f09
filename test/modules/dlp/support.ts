// Running the dlp, scan_flood, ratelimit and threat_intel modules in tests:
// one instance on hand-made items, or the whole Engine on built frames, and
// captures written to disk for the CLI. Shared by those four test folders.
import type { InspectorInstance } from '../../../host/wasm/instance.js';
import type { ModuleAlert } from '../../../host/wasm/types.js';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { PcapWriter } from '../../../host/capture/writer.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';
import { formatIp } from '../../../host/packet/addr.js';
import { instance as moduleInstance, type LogLine } from '../support.js';

export { compiledModule, run, type LogLine, type RunResult } from '../support.js';

/** An instance on the packet clock, as offline runs have it: time comes from the frames and the tables' seed is 0, so runs replay alike. */
export function instance(name: string, config?: unknown, logs: LogLine[] = []): Promise<InspectorInstance> {
  return moduleInstance(name, config, logs, { clock: 'packet' });
}

/** A frame at a time offset (seconds, fractional) from a fixed start. */
export function frame(spec: PacketSpec, atSec: number): RawFrame {
  const data = buildPacket(spec);
  const whole = Math.floor(atSec);
  return { data, linkType: LinkType.ETHERNET, wireLen: data.length, tsSec: 1_700_000_000 + whole, tsNsec: Math.round((atSec - whole) * 1e9), iface: 0 };
}

export interface ModuleSpec { name: string; config?: unknown }

/** Runs frames through a real Engine (inspect-everything rules) with the named modules; every decision, in order. */
export async function engineRun(frames: RawFrame[], modules: ModuleSpec[], logs: LogLine[] = []): Promise<{ decisions: PacketDecision[]; instances: InspectorInstance[] }> {
  const instances = await Promise.all(modules.map((m) => instance(m.name, m.config, logs)));
  const decisions: PacketDecision[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] },
    modules: modules.map((m, i) => ({ name: m.name, instance: instances[i]! })),
    onDecision: (d) => decisions.push(d),
  });
  for (const f of frames) engine.push(f);
  engine.finish();
  decisions.sort((a, b) => a.index - b.index);
  return { decisions, instances };
}

export { tempDir } from '../../support/temp-dir.js';

export function writePcap(path: string, frames: RawFrame[]): void {
  const w = new PcapWriter({ path, nanosecond: true });
  for (const f of frames) w.write(f);
  w.close();
}

/** Source address of a decision's packet as text. */
export function srcOf(d: PacketDecision): string { return d.pkt.ipVersion === 0 ? '' : formatIp(d.pkt.src); }

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface TcpSessionSpec {
  client: string;
  server: string;
  clientPort?: number;
  serverPort?: number;
  /** Client-to-server segments, in the order they are sent. */
  toServer: (string | Uint8Array)[];
  /** Optional server-to-client segments, sent after the client's. */
  toClient?: (string | Uint8Array)[];
  /** Start time (seconds from the fixed epoch of frame()) and gap between frames. */
  at?: number;
  step?: number;
}

/** A whole TCP conversation (handshake, data with correct sequence numbers, FIN) as frames. */
export function tcpSession(s: TcpSessionSpec): RawFrame[] {
  const cp = s.clientPort ?? 40000;
  const sp = s.serverPort ?? 80;
  const step = s.step ?? 0.001;
  let t = s.at ?? 0;
  const out: RawFrame[] = [];
  let cseq = 1000;
  let sseq = 5000;
  const c2s = (flags: number, payload?: string | Uint8Array): void => {
    out.push(frame({ src: s.client, dst: s.server, proto: 'tcp', srcPort: cp, dstPort: sp, tcpFlags: flags, seq: cseq, ack: sseq, ...(payload !== undefined ? { payload } : {}) }, t += step));
  };
  const s2c = (flags: number, payload?: string | Uint8Array): void => {
    out.push(frame({ src: s.server, dst: s.client, proto: 'tcp', srcPort: sp, dstPort: cp, tcpFlags: flags, seq: sseq, ack: cseq, ...(payload !== undefined ? { payload } : {}) }, t += step));
  };
  c2s(0x02); cseq++;
  s2c(0x12); sseq++;
  c2s(0x10);
  for (const seg of s.toServer) {
    const len = typeof seg === 'string' ? enc(seg).length : seg.length;
    c2s(0x18, seg); cseq += len;
    s2c(0x10);
  }
  for (const seg of s.toClient ?? []) {
    const len = typeof seg === 'string' ? enc(seg).length : seg.length;
    s2c(0x18, seg); sseq += len;
    c2s(0x10);
  }
  c2s(0x11); cseq++;
  s2c(0x11); sseq++;
  c2s(0x10);
  return out;
}

/** Every alert of every module in the decisions, with the packet's index. */
export function alertsOf(decisions: PacketDecision[], module?: string): (ModuleAlert & { frame: number; module: string })[] {
  const out: (ModuleAlert & { frame: number; module: string })[] = [];
  for (const d of decisions) {
    for (const m of d.modules) {
      if (module !== undefined && m.module !== module) continue;
      for (const a of m.alerts) out.push({ ...a, frame: d.index, module: m.module });
    }
  }
  return out;
}
