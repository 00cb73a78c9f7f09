// The daemon's queue-thread work without a kernel: QueueWorker.processBatch
// on frames like the live bench's load (64-byte UDP to port 5000, source
// port cycling over the flows), batches laid out as XskSocket.receive writes
// them, basic_inspect in the thread under the watchdog stamp as the daemon
// runs it, the output a no-op. What the live figures include apart from the
// receive, the delivery and the wake-ups, measured hot and in order: a floor
// for the engine's share, not an estimate of it.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPacket, type PacketSpec } from '../../host/packet/build.js';
import { QueueWorker } from '../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../host/daemon/config.js';
import { buildModule } from '../../host/daemon/modules.js';
import { CallStamp, StampedRunner, newWatchCells } from '../../host/daemon/watchdog.js';

export interface ReplayOptions {
  packets: number;
  batch: number;
  flows: number;
  /** basic_inspect denying UDP 9 (as the live bench's daemon), or no module. */
  module: boolean;
  /** Flows in random order instead of the sender's cycle. */
  random?: boolean;
}

export interface ReplayResult {
  packets: number;
  batch: number;
  flows: number;
  ns_per_packet: number[];
  frame_len: number;
  sent: number;
  eveLines: number;
  counters: Record<string, unknown>;
}

export async function replayQueueWorker(o: ReplayOptions): Promise<ReplayResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-qw-'));
  try {
    writeFileSync(join(dir, 'bi.json'), JSON.stringify({ deny_ports: [9] }));
    const mod = await buildModule({ name: 'basic_inspect', ref: 'basic_inspect', configText: JSON.stringify({ deny_ports: [9] }), policy: null, isolation: 'thread' }, dir);
    if (!mod) throw new Error('basic_inspect did not build');
    const stamp = new CallStamp(newWatchCells());
    const modules = o.module ? [{ ...mod, instance: new StampedRunner(mod.instance, stamp, 1, 1000) }] : [];
    const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap, packets: 1_000_000_000 } };
    let eveLines = 0;
    let sent = 0;
    const w = new QueueWorker({
      rules: { defaultPolicy: 'inspect', rules: [] }, modules, config, writeBack: null,
      output: { send: (_f, _d, n) => { sent += n; return n; } },
      eve: () => { eveLines++; },
    });
    // One buffer, one frame every 2048 bytes, as receive() packs them.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < o.flows; i++) {
      // Past 65,536 flows the source address moves on too (the flow table holds 65,536 by default).
      frames.push(buildPacket({ src: `198.18.${(i >> 16) & 0xff}.1`, dst: '198.18.0.2', proto: 'udp', srcPort: (10000 + i) & 0xffff, dstPort: 5000, payload: new Uint8Array(22) } as unknown as PacketSpec));
    }
    const buf = new Uint8Array(o.batch * 2048);
    const descs = new Uint32Array(2 * o.batch);
    const order = Array.from({ length: 1 << 20 }, (_, i) => (o.random ? Math.floor(Math.random() * o.flows) : i % o.flows));
    let seq = 0;
    const run = (n: number): void => {
      for (let done = 0; done < n; done += o.batch) {
        for (let i = 0; i < o.batch; i++) {
          const f = frames[order[seq++ % order.length]!]!;
          buf.set(f, i * 2048);
          descs[2 * i] = i * 2048;
          descs[2 * i + 1] = f.length;
        }
        w.processBatch(buf, descs, o.batch);
      }
    };
    const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
    run(Math.min(o.packets, 4 * o.flows)); // warm-up: every flow created
    const rounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = cpu();
      run(o.packets);
      rounds.push(Math.round((cpu() - t) / o.packets));
    }
    return { packets: o.packets, batch: o.batch, flows: o.flows, ns_per_packet: rounds, frame_len: frames[0]!.length, sent, eveLines, counters: { ...w.counters(), byVerdict: undefined } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
