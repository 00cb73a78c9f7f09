// The daemon's queue-thread work without a kernel: QueueWorker.processBatch
// on frames like the live bench's load (64-byte UDP to port 5000, source
// port cycling over 60,000 flows), batches laid out as XskSocket.receive
// writes them, basic_inspect in the thread under the watchdog stamp as the
// daemon runs it, the output a no-op. For profiling (node --cpu-prof) the
// per-packet cost the live figures include, apart from the syscalls.
//   node dist/bench-queue-replay.js [packets] [batch] [flows] [none: no module] [random: flows in random order]
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPacket, type PacketSpec } from '../../host/packet/build.js';
import { QueueWorker } from '../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../host/daemon/config.js';
import { buildModule } from '../../host/daemon/modules.js';
import { CallStamp, StampedRunner, newWatchCells } from '../../host/daemon/watchdog.js';

const packets = Number(process.argv[2] ?? 2_000_000);
const batch = Number(process.argv[3] ?? 32);
const flows = Number(process.argv[4] ?? 60_000);

const dir = mkdtempSync(join(tmpdir(), 'sf-qw-'));
const cfgPath = join(dir, 'bi.json');
writeFileSync(cfgPath, JSON.stringify({ deny_ports: [9] }));
const mod = await buildModule({ name: 'basic_inspect', ref: 'basic_inspect', configText: JSON.stringify({ deny_ports: [9] }), policy: null, isolation: 'thread' }, dir);
if (!mod) throw new Error('no module');
const stamp = new CallStamp(newWatchCells());
const modules = process.argv[5] === 'none' ? [] : [{ ...mod, instance: new StampedRunner(mod.instance, stamp, 1, 1000) }];
const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap, packets: 1_000_000_000 } };
let eveLines = 0;
let sent = 0;
const w = new QueueWorker({
  rules: { defaultPolicy: 'inspect', rules: [] }, modules, config, writeBack: null,
  output: { send: (_f, _d, n) => { sent += n; return n; } },
  eve: () => { eveLines++; },
});

// One buffer, one frame every 2048 bytes, as receive() packs them (here the 64-byte frames the sender makes).
const frames: Uint8Array[] = [];
for (let i = 0; i < flows; i++) {
  const f = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: (10000 + i) & 0xffff, dstPort: 5000, payload: new Uint8Array(22) } as unknown as PacketSpec);
  frames.push(f);
}
const buf = new Uint8Array(batch * 2048);
const descs = new Uint32Array(2 * batch);
// The live bench's sender cycles through the flows in order; real traffic does not.
const order = Array.from({ length: 1 << 20 }, (_, i) => (process.argv[6] === 'random' ? Math.floor(Math.random() * flows) : i % flows));
let seq = 0;
function run(n: number): void {
  for (let done = 0; done < n; done += batch) {
    for (let i = 0; i < batch; i++) {
      const f = frames[order[seq++ % order.length]!]!;
      buf.set(f, i * 2048);
      descs[2 * i] = i * 2048;
      descs[2 * i + 1] = f.length;
    }
    w.processBatch(buf, descs, batch);
  }
}
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
run(Math.min(packets, 4 * flows)); // warm-up: every flow created
const rounds: number[] = [];
for (let r = 0; r < 3; r++) {
  const t = cpu();
  run(packets);
  rounds.push((cpu() - t) / packets);
}
console.log(JSON.stringify({ packets, batch, flows, ns_per_packet: rounds.map((x) => Math.round(x)), frame_len: frames[0]!.length, sent, eveLines, counters: { ...w.counters(), byVerdict: undefined } }));
rmSync(dir, { recursive: true, force: true });
