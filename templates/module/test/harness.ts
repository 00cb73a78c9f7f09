// A minimal ABI v1 host for unit tests: instantiates the built module with
// recording hostcalls and runs hand-built TCP/UDP packets through on_batch.
// Packets that name the same `flow` belong to one flow: the first gets
// FLOW_START, and TCP payloads build that direction's stream bytes (STREAM_PTR,
// STREAM_LEN, STREAM_NEW) as the real host does, so FlowMap state and stream
// searches can be tested; flowEnd(flow) calls on_flow_end.
//
// Addresses, capture times and TCP flags can be set per packet, and
// get_time_ns returns the newest capture time, as a replayed capture does:
// per-source, time-window logic (a rate limit with BLOCK_SRC) is testable.
// A trap is rethrown with what the module logged (the SDK's abort message),
// and a verdict byte outside 0..5 fails the run, where the host would take
// it as CONTINUE. One thing only the host does: stop a module that never
// returns (its CPU budget). vitest cannot interrupt WebAssembly running in
// its own thread, so `secuxflow module info build/<name>.wasm` is the way
// to find out whether a module loops.
import { readFileSync } from 'node:fs';

export interface Alert { index: number; sid: number; severity: number; message: string }
export interface Event { index: number; kind: number; json: unknown }
export interface TestPacket {
  proto: 'tcp' | 'udp';
  dstPort: number;
  srcPort?: number;
  payload?: string;
  /** Packets with the same number are one flow (its flow id); without it each packet is a flow of its own. */
  flow?: number;
  /** 0 to server (the default), 1 to client. */
  direction?: 0 | 1;
  /** IPv4 source and destination (default 198.18.0.1 and 198.18.0.2, swapped for direction 1). */
  src?: string;
  dst?: string;
  /** Capture time (default 0): also what get_time_ns returns once the packet was handed over. */
  tsSec?: number;
  tsNsec?: number;
  /** TCP flag byte (default 0x18, PSH+ACK; 0x02 is a SYN). */
  tcpFlags?: number;
}

function ipv4(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`${text} is not a dotted IPv4 address`);
  return parts;
}

const META = 64;

export function loadInspector(path: string, config?: object) {
  const alerts: Alert[] = [];
  const events: Event[] = [];
  const logs: string[] = [];
  /** VERDICT_ARG of each packet of the last run (for BLOCK_SRC: the ttl in seconds, 0 = the host's default). */
  const verdictArgs: number[] = [];
  let nowNs = 0n;
  let memory!: WebAssembly.Memory;
  const text = (p: number, n: number) => new TextDecoder().decode(new Uint8Array(memory.buffer, p, n));
  const imports = {
    secuxflow: {
      emit_alert: (index: number, sid: number, severity: number, mp: number, ml: number) => { alerts.push({ index, sid, severity, message: text(mp, ml) }); return 0; },
      emit_event: (index: number, kind: number, p: number, n: number) => { events.push({ index, kind, json: JSON.parse(text(p, n)) }); return 0; },
      log_message: (_l: number, p: number, n: number) => { logs.push(text(p, n)); return 0; },
      get_time_ns: () => nowNs,
    },
  };
  /** Runs a call into the module; a trap comes back with the module's last log lines, where the SDK's abort message is. */
  function guarded<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const said = logs.length > 0 ? `; the module logged: ${logs.slice(-3).join(' | ')}` : '';
      throw new Error(`${what} trapped: ${e instanceof Error ? e.message : String(e)}${said}`, { cause: e });
    }
  }
  const instance = guarded('instantiation', () => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), imports));
  const x = instance.exports as any;
  for (const name of ['memory', 'sf_alloc', 'on_init', 'on_batch', 'on_flow_end']) {
    if (!(name in x)) throw new Error(`the module does not export ${name}: index.ts needs the line export * from "./sdk/exports"`);
  }
  memory = x.memory;
  const capacity = 16;
  const dataBytes = 1 << 20;
  const area = guarded('sf_alloc', () => x.sf_alloc(capacity * META + dataBytes + 7));
  const metaPtr = (area + 7) & ~7;
  let cfgPtr = 0;
  let cfgLen = 0;
  if (config !== undefined) {
    const bytes = new TextEncoder().encode(JSON.stringify(config));
    cfgPtr = guarded('sf_alloc', () => x.sf_alloc(bytes.length));
    cfgLen = bytes.length;
    new Uint8Array(memory.buffer).set(bytes, cfgPtr);
  }
  const initStatus: number = guarded('on_init', () => x.on_init(cfgPtr, cfgLen));

  const seen = new Set<number>();
  const streams = new Map<string, Uint8Array>();
  let nextFlow = 1_000_000;

  function run(packets: TestPacket[]): number[] {
    if (packets.length > capacity) throw new Error(`the harness takes at most ${capacity} packets per run`);
    let data = metaPtr + capacity * META;
    const end = data + dataBytes;
    const put = (bytes: Uint8Array): number => {
      if (data + bytes.length > end) throw new Error('the packets of this run do not fit the harness data region');
      new Uint8Array(memory.buffer).set(bytes, data);
      data += bytes.length;
      return data - bytes.length;
    };
    packets.forEach((p, i) => {
      const flow = p.flow ?? nextFlow++;
      const direction = p.direction ?? 0;
      const payload = new TextEncoder().encode(p.payload ?? '');
      const l4 = p.proto === 'tcp' ? 20 : 8;
      const frame = new Uint8Array(14 + 20 + l4 + payload.length);
      const dv = new DataView(frame.buffer);
      dv.setUint16(12, 0x0800);
      frame[14] = 0x45;
      dv.setUint16(16, 20 + l4 + payload.length);
      frame[22] = 64;
      frame[23] = p.proto === 'tcp' ? 6 : 17;
      const [client, server] = [p.src ?? (direction === 0 ? '198.18.0.1' : '198.18.0.2'), p.dst ?? (direction === 0 ? '198.18.0.2' : '198.18.0.1')];
      frame.set([...ipv4(client), ...ipv4(server)], 26);
      dv.setUint16(34, p.srcPort ?? 40000);
      dv.setUint16(36, p.dstPort);
      const tcpFlags = p.proto === 'tcp' ? p.tcpFlags ?? 0x18 : 0;
      if (p.proto === 'tcp') {
        frame[46] = 0x50;
        frame[47] = tcpFlags;
      }
      frame.set(payload, 34 + l4);
      const framePtr = put(frame);
      let streamPtr = 0;
      let streamLen = 0;
      if (p.proto === 'tcp' && payload.length > 0) {
        const key = `${flow}:${direction}`;
        const before = streams.get(key) ?? new Uint8Array(0);
        const stream = new Uint8Array(before.length + payload.length);
        stream.set(before);
        stream.set(payload, before.length);
        streams.set(key, stream);
        streamPtr = put(stream);
        streamLen = stream.length;
      }
      const mem = new DataView(memory.buffer);
      const m = metaPtr + i * META;
      new Uint8Array(memory.buffer).fill(0, m, m + META);
      mem.setBigUint64(m, BigInt(flow), true);
      mem.setUint32(m + 8, p.tsSec ?? 0, true);
      mem.setUint32(m + 12, p.tsNsec ?? 0, true);
      const ts = BigInt(p.tsSec ?? 0) * 1_000_000_000n + BigInt(p.tsNsec ?? 0);
      if (ts > nowNs) nowNs = ts;
      mem.setUint32(m + 16, framePtr, true);
      mem.setUint32(m + 20, frame.length, true);
      mem.setUint32(m + 24, payload.length, true);
      mem.setUint32(m + 28, streamPtr, true);
      mem.setUint32(m + 32, streamLen, true);
      mem.setUint32(m + 36, streamPtr ? payload.length : 0, true);
      mem.setUint32(m + 40, frame.length, true);
      mem.setUint16(m + 44, 14, true);
      mem.setUint16(m + 46, 34, true);
      mem.setUint16(m + 48, 34 + l4, true);
      mem.setUint16(m + 50, p.srcPort ?? 40000, true);
      mem.setUint16(m + 52, p.dstPort, true);
      mem.setUint8(m + 56, 4);
      mem.setUint8(m + 57, p.proto === 'tcp' ? 6 : 17);
      mem.setUint8(m + 58, tcpFlags);
      mem.setUint8(m + 59, direction);
      mem.setUint8(m + 60, seen.has(flow) ? 0 : 0x02);
      seen.add(flow);
    });
    const status: number = guarded('on_batch', () => x.on_batch(metaPtr, packets.length));
    if (status !== 0) throw new Error(`on_batch returned status ${status}`);
    const mem = new DataView(memory.buffer);
    verdictArgs.length = 0;
    return packets.map((_, i) => {
      const v = mem.getUint8(metaPtr + i * META + 61);
      if (v > 5) throw new Error(`packet ${i}: verdict ${v} is outside 0..5; the host would take it as CONTINUE (docs/abi/v1.md section 6)`);
      verdictArgs.push(mem.getUint16(metaPtr + i * META + 62, true));
      return v;
    });
  }

  /** The flow is over: on_flow_end, as the host calls it; what the module emits there has index -1. */
  function flowEnd(flow: number): void {
    guarded('on_flow_end', () => x.on_flow_end(BigInt(flow)));
    streams.delete(`${flow}:0`);
    streams.delete(`${flow}:1`);
  }

  return { initStatus, run, flowEnd, alerts, events, logs, verdictArgs, exports: x };
}
