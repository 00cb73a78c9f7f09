// A minimal ABI v1 host for unit tests: instantiates the built module with
// recording hostcalls and runs hand-built TCP/UDP packets through on_batch.
import { readFileSync } from 'node:fs';

export interface Alert { index: number; sid: number; severity: number; message: string }
export interface TestPacket { proto: 'tcp' | 'udp'; dstPort: number; srcPort?: number; payload?: string }

const META = 64;

export function loadInspector(path: string, config?: object) {
  const alerts: Alert[] = [];
  const logs: string[] = [];
  let memory!: WebAssembly.Memory;
  const text = (p: number, n: number) => new TextDecoder().decode(new Uint8Array(memory.buffer, p, n));
  const imports = {
    secuxflow: {
      emit_alert: (index: number, sid: number, severity: number, mp: number, ml: number) => { alerts.push({ index, sid, severity, message: text(mp, ml) }); return 0; },
      emit_event: () => 0,
      log_message: (_l: number, p: number, n: number) => { logs.push(text(p, n)); return 0; },
      get_time_ns: () => 0n,
    },
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), imports);
  const x = instance.exports as any;
  memory = x.memory;
  const capacity = 16;
  const area = x.sf_alloc(capacity * META + 65536 + 7);
  const metaPtr = (area + 7) & ~7;
  let cfgPtr = 0;
  let cfgLen = 0;
  if (config !== undefined) {
    const bytes = new TextEncoder().encode(JSON.stringify(config));
    cfgPtr = x.sf_alloc(bytes.length);
    cfgLen = bytes.length;
    new Uint8Array(memory.buffer).set(bytes, cfgPtr);
  }
  const initStatus: number = x.on_init(cfgPtr, cfgLen);

  function run(packets: TestPacket[]): number[] {
    let data = metaPtr + capacity * META;
    packets.forEach((p, i) => {
      const payload = new TextEncoder().encode(p.payload ?? '');
      const l4 = p.proto === 'tcp' ? 20 : 8;
      const frame = new Uint8Array(14 + 20 + l4 + payload.length);
      const dv = new DataView(frame.buffer);
      dv.setUint16(12, 0x0800);
      frame[14] = 0x45;
      dv.setUint16(16, 20 + l4 + payload.length);
      frame[22] = 64;
      frame[23] = p.proto === 'tcp' ? 6 : 17;
      frame.set([198, 18, 0, 1, 198, 18, 0, 2], 26);
      dv.setUint16(34, p.srcPort ?? 40000);
      dv.setUint16(36, p.dstPort);
      if (p.proto === 'tcp') frame[46] = 0x50;
      frame.set(payload, 34 + l4);
      const mem = new DataView(memory.buffer);
      new Uint8Array(memory.buffer).set(frame, data);
      const m = metaPtr + i * META;
      new Uint8Array(memory.buffer).fill(0, m, m + META);
      mem.setBigUint64(m, BigInt(i + 1), true);
      mem.setUint32(m + 16, data, true);
      mem.setUint32(m + 20, frame.length, true);
      mem.setUint32(m + 24, payload.length, true);
      mem.setUint32(m + 40, frame.length, true);
      mem.setUint16(m + 44, 14, true);
      mem.setUint16(m + 46, 34, true);
      mem.setUint16(m + 48, 34 + l4, true);
      mem.setUint16(m + 50, p.srcPort ?? 40000, true);
      mem.setUint16(m + 52, p.dstPort, true);
      mem.setUint8(m + 56, 4);
      mem.setUint8(m + 57, p.proto === 'tcp' ? 6 : 17);
      mem.setUint8(m + 60, 0x02);
      data += frame.length;
    });
    const status: number = x.on_batch(metaPtr, packets.length);
    if (status !== 0) throw new Error(`on_batch returned status ${status}`);
    const mem = new Uint8Array(memory.buffer);
    return packets.map((_, i) => mem[metaPtr + i * META + 61]!);
  }

  return { initStatus, run, alerts, logs, exports: x };
}
