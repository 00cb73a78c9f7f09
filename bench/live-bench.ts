// Live-path benchmark (`npm run bench` runs it as node dist/bench-live.js OUT.json;
// after one `npm run bench live`, `node dist/bench-live.js OUT.json --daemon-only`
// re-measures just the daemon against the C receiver's reference rate).
//
// One run, one lab: a sender namespace offers UDP frames over a veth pair
// (bench/live/sender.c, AF_PACKET + sendmmsg, paced); on the other end
// secuxflow's XDP program is attached with an `inspect` rule, so every frame
// is punted into the AF_XDP socket in `sf_xsks`. Two receivers take the
// same load in turn:
//   c     bench/live/xsk_receiver.c, the minimal libxdp receiver (baseline)
//   c-tap, c-fwd  the same C receiver passing every frame on as the daemon
//         does: into a TAP (host mode) or out of the peer's TX ring (inline)
//   node  XskSocket.receive in a uv_poll-driven loop (bench/live/node-rx.ts)
//   node-tap  the same plus host-mode delivery of every frame through the TAP
// Measured: the highest offered rate each receives with no loss, CPU time
// per packet of each at the same rates (and their ratio: goal <= 2), and the
// CPU an idle receiver uses over 5 s (from /proc/<pid>/stat; goal < 1%).
// Then the daemon (`secuxflow run`, bench/live/daemon-bench.ts) on the same
// lab: lossless punted rate, CPU per packet, idle CPU, verdict-to-map
// latency and new flows per second.
// On 2 cores the sender, the softirq and the receiver share the CPUs, so
// only ratios from the same run mean anything (docs/live.md).
//
// The file is also the receiver child: `--role node-rx ...` runs the Node
// receive path inside the receiver namespace.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { addonPath, defaultObjectPath, packageRoot } from '../host/kernel/native.js';
import { createLab, type BenchLab } from './live/lab.js';
import { runNodeReceiver } from './live/node-rx.js';
import { daemonUnavailable, measureDaemon, measureInline, measureVerdictFloor, LOAD_FLOWS, LOAD_PORT, REFERENCE_PACKETS, REFERENCE_RATE, REFERENCE_REPEATS, type DaemonBenchDeps } from './live/daemon-bench.js';
import { median } from './stats.js';
import { replayQueueWorker } from './live/queue-replay.js';

/** The C receiver alone, and passing every frame on as host mode (c-tap) or inline mode (c-fwd) does. */
type CKind = 'c' | 'c-tap' | 'c-fwd';
type Kind = CKind | 'node' | 'node-tap';
const C_KINDS: readonly Kind[] = ['c', 'c-tap', 'c-fwd'];

/** The TAP `c-tap` creates in the receiver namespace (gone when the receiver exits). */
const C_TAP_NAME = 'sfbenchtap';

interface RunResult {
  offered_pps: number;
  sender_pps: number;
  sent: number;
  received: number;
  lost: number;
  cpu_ns_per_packet: number;
  /** Frames a C receiver passed on: written into the TAP (c-tap), or sent by the kernel from the peer's TX ring (c-fwd); null for the others. */
  delivered: number | null;
  fill_ring_empty: number;
  rx_ring_full: number;
}

const RATES = [50_000, 100_000, 200_000, 300_000, 400_000, 600_000, 0]; // 0: as fast as the sender goes
const FRAME_SIZE = 64;
const FLOWS = 64;
/** The load's destination port (discard); the daemon runs send theirs to LOAD_PORT. */
const PORT = 9;
/** Above the daemon's queue threads (SCHED_FIFO 10 by default). */
const PROBE_RT_PRIORITY = 20;
const IDLE_SECONDS = 5;
/* Deep rings (16 MiB UMEM of 8192 RX frames): on a shared 2-CPU machine a
 * receiver is sometimes off the CPU for tens of ms, and 2048 frames last
 * only 10 ms at 200 kpps. Both receivers get the same depth. */
const RING = 8192;

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

function preflight(root: string): string | null {
  if (process.platform !== 'linux') return 'the live benchmark needs Linux';
  if (process.getuid?.() !== 0) return 'not root: the live benchmark creates namespaces and attaches XDP (run npm run bench with sudo)';
  for (const tool of ['ip', 'cc', 'mount']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (scripts/install-system-deps.sh)`;
    }
  }
  if (!existsSync('/usr/include/xdp/xsk.h')) return 'libxdp-dev is not installed (scripts/install-system-deps.sh)';
  if (!existsSync(addonPath()) || !existsSync(defaultObjectPath())) return 'the native addon or XDP object is not built (npm run build:native)';
  if (!existsSync(join(root, 'dist', 'secuxflow.js'))) {
    try {
      execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'ignore', timeout: 120_000 });
    } catch {
      return 'the CLI bundle dist/secuxflow.js is missing and could not be built (npm run build)';
    }
  }
  return null;
}

/** Lines of a child's stdout; resolves `ready` on the "ready" line and `done` with the last JSON line at exit. */
function watch(child: ChildProcess, timeoutMs: number): { ready: Promise<void>; done: Promise<Record<string, number>> } {
  let out = '';
  let err = '';
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('ready\n')) readyResolve();
  });
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<Record<string, number>>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`receiver did not finish within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    // 'close', not 'exit': 'exit' can come before the summary line has been read.
    child.once('close', (code) => {
      clearTimeout(timer);
      readyReject(new Error(`receiver exited ${code} before ready: ${err}`));
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
      if (code !== 0 || !line) rej(new Error(`receiver exited ${code}: ${err}${out}`));
      else res(JSON.parse(line) as Record<string, number>);
    });
  });
  // A caller whose `ready` failed never awaits `done`: its rejection must not end the bench.
  ready.catch(() => undefined);
  done.catch(() => undefined);
  return { ready, done };
}

class LiveBench {
  private readonly tools: { sender: string; receiver: string; probe: string; sink: string };
  private readonly pin: string;

  constructor(
    private readonly lab: BenchLab,
    private readonly root: string,
  ) {
    this.tools = { sender: join(lab.work, 'sender'), receiver: join(lab.work, 'xsk_receiver'), probe: join(lab.work, 'flow_probe'), sink: join(lab.work, 'udp_sink') };
    this.pin = join(lab.bpffsRoot, lab.receiverIf, 'sf_xsks');
  }

  cli(...args: string[]): string {
    return this.lab.exec(this.lab.receiverNs, [process.execPath, join(this.root, 'dist', 'secuxflow.js'), ...args, '--state-dir', join(this.lab.work, 'state')], {
      env: { ...process.env, SECUXFLOW_BPFFS_ROOT: this.lab.bpffsRoot },
      timeoutMs: 60_000,
    });
  }

  setup(): void {
    execFileSync('cc', ['-O2', '-o', this.tools.sender, join(this.root, 'bench', 'live', 'sender.c')], { stdio: 'inherit' });
    execFileSync('cc', ['-O2', `-I${join(this.root, 'xdp')}`, `-I${join(this.root, 'host', 'native')}`, '-o', this.tools.receiver, join(this.root, 'bench', 'live', 'xsk_receiver.c'), '-lxdp', '-lbpf'], { stdio: 'inherit' });
    execFileSync('cc', ['-O2', `-I${join(this.root, 'xdp')}`, '-o', this.tools.probe, join(this.root, 'bench', 'live', 'flow_probe.c'), '-lbpf'], { stdio: 'inherit' });
    execFileSync('cc', ['-O2', '-o', this.tools.sink, join(this.root, 'bench', 'live', 'udp_sink.c')], { stdio: 'inherit' });
    this.cli('attach', '--iface', this.lab.receiverIf, '--mode', 'native', '--fail', 'open');
    this.lab.onCleanup(() => this.cli('detach', '--iface', this.lab.receiverIf));
    this.cli('rule', 'add', '--src', `${this.lab.senderAddr}/32`, '--proto', 'udp', '--action', 'inspect');
  }

  /**
   * Back to the receivers' setup after a daemon run: the program attached
   * again (the daemon detaches when it stops; the rules stay in the state),
   * and the flow verdicts its probes left forgotten, since the probes' flows
   * (UDP to port 9 from ports 1024 on) are the receivers' load too.
   */
  reattach(): void {
    this.cli('attach', '--iface', this.lab.receiverIf, '--mode', 'native', '--fail', 'open');
    this.cli('flow', 'clear');
  }

  private startReceiver(kind: Kind, count: number, seconds: number): ChildProcess {
    const common = ['-i', this.lab.receiverIf, '-m', this.pin];
    const passOn = kind === 'c-tap' ? ['-T', C_TAP_NAME] : kind === 'c-fwd' ? ['-X', this.lab.peerIf] : [];
    const argv =
      C_KINDS.includes(kind)
        ? [this.tools.receiver, ...common, '-c', String(count), '-I', '500', '-t', String(seconds), '-R', String(RING), ...passOn]
        : [process.execPath, process.argv[1]!, '--role', 'node-rx', '--iface', this.lab.receiverIf, '--pin', this.pin, '--count', String(count), '--idle', '500', '--seconds', String(seconds), '--ring', String(RING), ...(kind === 'node-tap' ? ['--deliver'] : [])];
    return this.lab.spawn(this.lab.receiverNs, argv);
  }

  /** Starts a tool in the receiver namespace; resolves once it says ready, to a function that stops it (SIGINT) and returns its last JSON line. */
  private async startUntilStopped(argv: string[], timeoutMs: number): Promise<() => Promise<Record<string, number>>> {
    const child = this.lab.spawn(this.lab.receiverNs, argv);
    const w = watch(child, timeoutMs);
    await w.ready;
    return async () => {
      child.kill('SIGINT');
      return w.done;
    };
  }

  /** The C receiver as the verdict-latency floor (xsk_receiver -V); resolves once it is receiving, to a stop function. */
  async startFloorReceiver(flowsPin: string, port: number): Promise<() => Promise<void>> {
    const stop = await this.startUntilStopped([this.tools.receiver, '-i', this.lab.receiverIf, '-m', this.pin, '-t', '60', '-I', '60000', '-R', String(RING), '-V', flowsPin, '-P', String(port)], 90_000);
    return async () => {
      await stop().catch(() => undefined);
    };
  }

  /**
   * The service on the load's ports in the receiver namespace (udp_sink.c says
   * why the bench needs one); resolves once it is bound, to a function that
   * stops it and returns its counts, with what they are.
   */
  async startSink(ports: readonly number[]): Promise<() => Promise<Record<string, unknown>>> {
    const stop = await this.startUntilStopped([this.tools.sink, ...ports.flatMap((p) => ['-p', String(p)]), '-t', '3600'], 3_700_000);
    const what = `UDP sockets on ports ${ports.join(' and ')} in the receiver namespace, drained every 5 ms: what TAP delivery (node-tap, daemon host mode) handed to the local stack and the stack queued for a service`;
    return async () => ({ what, ...(await stop()) });
  }

  /** What the daemon's measures need of the lab and its tools. */
  daemonDeps(): DaemonBenchDeps {
    return {
      lab: this.lab,
      root: this.root,
      cli: (...a) => this.cli(...a),
      send: (c, r, o) => this.send(c, r, o),
      probe: (a) => this.probe(a),
      cpuSeconds,
      threadCpuSeconds,
      idleCpu,
    };
  }

  /** Runs the C sender in the sender namespace; returns its JSON line. */
  send(count: number, rate: number, opts: { flows?: number; dport?: number } = {}): { sent: number; pps: number } {
    return JSON.parse(
      this.lab.exec(this.lab.senderNs, [this.tools.sender, '-i', this.lab.senderIf, '-c', String(count), '-s', String(FRAME_SIZE), '-F', String(opts.flows ?? FLOWS), '-r', String(rate), '-t', '20', '-d', this.lab.receiverMac, '-S', this.lab.senderAddr, '-D', this.lab.receiverAddr, '-p', String(opts.dport ?? PORT)], { timeoutMs: 40_000 }),
    ) as { sent: number; pps: number };
  }

  /** Runs flow_probe in the sender namespace against the pinned sf_flows. */
  probe(args: string[]): Record<string, number> {
    const flowsPin = join(this.lab.bpffsRoot, this.lab.receiverIf, 'sf_flows');
    // -R: the probe runs SCHED_FIFO above the daemon's queue threads (flow_probe.c says why), for the floor and the daemon alike.
    const argv = [this.tools.probe, '-R', String(PROBE_RT_PRIORITY), '-i', this.lab.senderIf, '-m', flowsPin, '-d', this.lab.receiverMac, '-S', this.lab.senderAddr, '-D', this.lab.receiverAddr, ...args];
    let out: string;
    try {
      out = this.lab.exec(this.lab.senderNs, argv, { timeoutMs: 90_000 });
    } catch (e) {
      // Exit 3: some probes never saw their verdict. That is a result (its
      // "missed" count is reported and fails the latency goal), not a crash.
      const err = e as { status?: number; stdout?: string };
      if (err.status !== 3 || !err.stdout) throw e;
      out = err.stdout;
    }
    return JSON.parse(out) as Record<string, number>;
  }

  async once(kind: Kind, rate: number, packets?: number): Promise<RunResult> {
    const count = packets ?? (rate > 0 ? Math.max(50_000, rate) : 400_000); // about one second of load
    const child = this.startReceiver(kind, count, 30);
    const w = watch(child, 60_000);
    await w.ready;
    const s = this.send(count, rate);
    const r = await w.done;
    return {
      offered_pps: rate,
      sender_pps: Math.round(s.pps),
      sent: s.sent,
      received: r.received!,
      lost: s.sent - r.received!,
      cpu_ns_per_packet: r.received ? Math.round(r.cpu_ns! / r.received) : 0,
      delivered: kind === 'c-tap' ? r.delivered! : kind === 'c-fwd' ? Math.min(r.delivered!, r.sent_by_peer!) : null,
      fill_ring_empty: r.fill_ring_empty!,
      rx_ring_full: r.rx_ring_full!,
    };
  }

  /** Every rate, two tries each; a kind stops after a rate it lost packets at twice. */
  async sweep(kind: Kind): Promise<{ runs: RunResult[]; best: RunResult | null }> {
    const runs: RunResult[] = [];
    let best: RunResult | null = null;
    for (const rate of RATES) {
      let clean: RunResult | null = null;
      for (let attempt = 0; attempt < 2 && !clean; attempt++) {
        const r = await this.once(kind, rate);
        runs.push(r);
        if (r.lost === 0) clean = r;
      }
      if (!clean) break;
      if (!best || clean.sender_pps > best.sender_pps) best = clean;
    }
    return { runs, best };
  }

  /** CPU share of a receiver sitting on an idle socket, from /proc/<pid>/stat utime+stime. */
  async idle(kind: Kind): Promise<{ cpu_percent: number; seconds: number }> {
    const child = this.startReceiver(kind, 0, IDLE_SECONDS + 1.5);
    const w = watch(child, 30_000);
    await w.ready;
    await new Promise((r) => setTimeout(r, 500)); // past start-up work
    // `ip netns exec` execs the receiver, so the child's pid is the receiver's
    const r = await idleCpu(child.pid!);
    await w.done;
    return r;
  }
}

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all its threads) in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const t = statTimes(`/proc/${pid}/stat`);
  return t.user + t.system;
}

/** utime and stime in seconds from a stat file of proc(5) (its fields 14 and 15). */
function statTimes(path: string): { user: number; system: number } {
  const fields = readFileSync(path, 'utf8').replace(/^.*\) /, '').split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** utime and stime of each thread of a process in seconds, by thread id, from /proc/<pid>/task/<tid>/stat. */
export function threadCpuSeconds(pid: number): Map<number, { user: number; system: number }> {
  const out = new Map<number, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statTimes(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU share of pid over IDLE_SECONDS of wall time. */
async function idleCpu(pid: number): Promise<{ cpu_percent: number; seconds: number }> {
  const t0 = cpuSeconds(pid);
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const used = cpuSeconds(pid) - t0;
  const wall = (Date.now() - w0) / 1000;
  return { cpu_percent: Math.round((used / wall) * 100 * 100) / 100, seconds: Math.round(wall * 10) / 10 };
}

/** A C receiver at the reference rate, REFERENCE_REPEATS runs as long as the daemon's reference runs; the lossless ones (for c-tap and c-fwd: every frame also passed on). */
async function cReferenceRuns(bench: LiveBench, kind: CKind): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REFERENCE_REPEATS; i++) {
    const r = await bench.once(kind, REFERENCE_RATE, REFERENCE_PACKETS);
    const notPassedOn = r.delivered === null ? 0 : r.received - r.delivered;
    if (r.lost === 0 && notPassedOn === 0) out.push(r.cpu_ns_per_packet);
    else console.error(`${kind} reference run lost ${r.lost} of ${r.sent} packets and failed to pass ${notPassedOn} on; left out`);
  }
  return out;
}

/** Each C kind's reference runs, and why a delivering kind could not run (its figure is then left out, the rest of the bench goes on). */
interface CReferenceRuns {
  runs: Record<CKind, number[]>;
  failed: Record<CKind, string[]>;
}

/** Takes one round of each kind's reference runs, into `into` when given. */
async function cReferenceSet(bench: LiveBench, into?: CReferenceRuns): Promise<CReferenceRuns> {
  const set = into ?? { runs: { c: [], 'c-tap': [], 'c-fwd': [] }, failed: { c: [], 'c-tap': [], 'c-fwd': [] } };
  set.runs.c.push(...(await cReferenceRuns(bench, 'c')));
  for (const kind of ['c-tap', 'c-fwd'] as const) {
    try {
      set.runs[kind].push(...(await cReferenceRuns(bench, kind)));
    } catch (e) {
      set.failed[kind].push((e as Error).message.slice(0, 300));
    }
  }
  return set;
}

const SAME_DELIVERY: Record<'host' | 'inline', { kind: CKind; what: string }> = {
  host: { kind: 'c-tap', what: 'xsk_receiver -T: the C receiver also writing every frame into a TAP set up as host-mode delivery sets up its own (host/native/tap_frame.h), one writev per frame' },
  inline: { kind: 'c-fwd', what: "xsk_receiver -X: the C receiver also sending every frame out of the peer interface's AF_XDP TX ring as inline mode does (host/native/xsk_tx.h)" },
};

/**
 * Puts the C receiver's reference runs (taken before and after the daemon's,
 * so a machine that changes speed during the bench weighs on both sides)
 * beside a daemon result's own, with the ratio of the medians. Then the same
 * against the C receiver that passes every frame on the way that mode does:
 * what the daemon costs over the same receive and delivery written in C.
 */
function withReferenceRatio(result: Record<string, unknown> | string, refs: CReferenceRuns, mode: keyof typeof SAME_DELIVERY): Record<string, unknown> | string {
  const ref = typeof result === 'object' ? (result.reference_100kpps as { cpu_ns_per_packet_median: number } | undefined) : undefined;
  if (!ref || refs.runs.c.length === 0) return result;
  const ratioTo = (runs: number[]): number => Math.round((ref.cpu_ns_per_packet_median / median(runs)) * 100) / 100;
  const cMedian = median(refs.runs.c);
  Object.assign(ref, { c_receiver_cpu_ns_per_packet_runs: refs.runs.c, c_receiver_cpu_ns_per_packet_median: cMedian, ratio_of_medians: ratioTo(refs.runs.c), within_2x: ref.cpu_ns_per_packet_median <= 2 * cMedian });
  const same = SAME_DELIVERY[mode];
  const runs = refs.runs[same.kind];
  Object.assign(ref, {
    same_delivery_in_c: runs.length > 0
      ? { what: same.what, cpu_ns_per_packet_runs: runs, cpu_ns_per_packet_median: median(runs), ratio_of_medians: ratioTo(runs) }
      : `not measured: ${refs.failed[same.kind].join('; ') || 'every run lost frames or failed to pass one on'}`,
  });
  return result;
}

async function main(outPath: string): Promise<void> {
  const root = packageRoot();
  const skip = preflight(root);
  if (skip) {
    writeFileSync(outPath, `${JSON.stringify({ skipped: skip }, null, 2)}\n`);
    console.log(`live bench skipped: ${skip}`);
    return;
  }
  const lab = createLab();
  try {
    const bench = new LiveBench(lab, root);
    bench.setup();
    const stopSink = await bench.startSink([PORT, LOAD_PORT]);
    if (daemonOnly) return await daemonOnlyRun(bench, outPath, stopSink);
    const c = await bench.sweep('c');
    const node = await bench.sweep('node');
    const nodeTap = await bench.sweep('node-tap');
    const at = (runs: RunResult[], rate: number): RunResult | undefined => runs.find((r) => r.offered_pps === rate && r.lost === 0);
    const c100 = at(c.runs, REFERENCE_RATE);
    const n100 = at(node.runs, REFERENCE_RATE);
    const commonRate = RATES.filter((r) => r > 0 && at(c.runs, r) && at(node.runs, r)).at(-1);
    const cTop = commonRate ? at(c.runs, commonRate) : undefined;
    const nTop = commonRate ? at(node.runs, commonRate) : undefined;
    const ratio = (n?: RunResult, k?: RunResult): number | null => (n && k && k.cpu_ns_per_packet ? Math.round((n.cpu_ns_per_packet / k.cpu_ns_per_packet) * 100) / 100 : null);
    const idleC = await bench.idle('c');
    const idleNode = await bench.idle('node');
    const ratio100 = ratio(n100, c100);
    const ratioTop = ratio(nTop, cTop);
    const deps = bench.daemonDeps();
    const floor = await measureVerdictFloor(deps, (pin, port) => bench.startFloorReceiver(pin, port));
    const noDaemon = daemonUnavailable(root);
    let daemon: Record<string, unknown> | string;
    let daemonInline: Record<string, unknown> | string;
    const cRef = new Map(c.runs.filter((r) => r.lost === 0 && r.offered_pps > 0).map((r) => [r.offered_pps, r.cpu_ns_per_packet]));
    const cReference = await cReferenceSet(bench);
    try {
      daemon = noDaemon ? `not measured: ${noDaemon}` : await measureDaemon(deps, cRef, floor);
    } catch (e) {
      daemon = `failed: ${(e as Error).message.slice(0, 400)}`;
    }
    try {
      daemonInline = noDaemon ? `not measured: ${noDaemon}` : await measureInline(deps, cRef);
    } catch (e) {
      daemonInline = `failed: ${(e as Error).message.slice(0, 400)}`;
    }
    bench.reattach();
    await cReferenceSet(bench, cReference);
    withReferenceRatio(daemon, cReference, 'host');
    withReferenceRatio(daemonInline, cReference, 'inline');
    const hostModeFloor = await measureHostModeFloor(at(nodeTap.runs, REFERENCE_RATE)?.cpu_ns_per_packet, c100?.cpu_ns_per_packet);
    const result = {
      setup: `${FRAME_SIZE}-byte UDP frames, ${FLOWS} flows, AF_PACKET sender in a namespace -> veth -> secuxflow XDP (native) inspect rule -> AF_XDP copy mode, queue 0, rings of ${RING}; ${cpus().length} CPUs shared by sender, softirq and receiver; kernel ${release()}`,
      cpu_time: 'receiver process user+system from "ready" to the end (getrusage / process.cpuUsage), divided by frames received',
      c_max_lossless_pps: c.best?.sender_pps ?? 0,
      c_max_is_sender_limit: c.best?.offered_pps === 0,
      node_max_lossless_pps: node.best?.sender_pps ?? 0,
      node_max_is_sender_limit: node.best?.offered_pps === 0,
      c_cpu_ns_per_packet_at_100kpps: c100?.cpu_ns_per_packet ?? null,
      node_cpu_ns_per_packet_at_100kpps: n100?.cpu_ns_per_packet ?? null,
      ratio_node_vs_c_cpu_per_packet_at_100kpps: ratio100,
      highest_offered_rate_both_lossless_pps: commonRate ?? null,
      ratio_node_vs_c_cpu_per_packet_at_that_rate: ratioTop,
      goal_node_within_2x_of_c: ratioTop !== null ? ratioTop <= 2 : ratio100 !== null ? ratio100 <= 2 : null,
      node_with_tap_delivery_max_lossless_pps: nodeTap.best?.sender_pps ?? 0,
      node_with_tap_delivery_cpu_ns_per_packet_at_100kpps: at(nodeTap.runs, REFERENCE_RATE)?.cpu_ns_per_packet ?? null,
      idle_cpu_percent_c: idleC.cpu_percent,
      idle_cpu_percent_node: idleNode.cpu_percent,
      idle_seconds: idleNode.seconds,
      goal_idle_under_1_percent: idleNode.cpu_percent < 1,
      daemon,
      daemon_inline: daemonInline,
      host_mode_floor: hostModeFloor,
      udp_sink: await stopSink(),
      load_average_at_end: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      runs_c: c.runs.map((r) => [r.offered_pps, r.sender_pps, r.lost, r.fill_ring_empty, r.cpu_ns_per_packet]),
      runs_node: node.runs.map((r) => [r.offered_pps, r.sender_pps, r.lost, r.fill_ring_empty, r.cpu_ns_per_packet]),
      runs_node_tap: nodeTap.runs.map((r) => [r.offered_pps, r.sender_pps, r.lost, r.fill_ring_empty, r.cpu_ns_per_packet]),
      runs_columns: ['offered_pps (0 = unpaced)', 'sender_pps', 'lost', 'fill_ring_empty', 'cpu_ns_per_packet'],
    };
    writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    lab.cleanup();
  }
}

/**
 * What the daemon cannot go below in host mode, from this run: Node receive
 * plus TAP delivery with no engine (node-tap at the reference rate), plus the
 * engine's and basic_inspect's work on the same load replayed hot with no
 * kernel (batches of 5, as the daemon gets them at that rate), against the C
 * receiver. The live daemon adds wake-ups, cache misses and GC on top.
 */
async function measureHostModeFloor(nodeTapNs: number | undefined, cNs: number | undefined): Promise<Record<string, unknown> | string> {
  if (!nodeTapNs || !cNs) return 'not measured: node-tap or the C receiver lost packets at the reference rate';
  const replay = await replayQueueWorker({ packets: 500_000, batch: 5, flows: LOAD_FLOWS, module: true });
  const engineNs = median(replay.ns_per_packet);
  return {
    what: `node-tap CPU per packet at the reference rate + the queue worker replayed without a kernel (basic_inspect, ${LOAD_FLOWS} flows as the daemon's load, batches of 5, median of 3 rounds), over the C receiver`,
    node_tap_ns_per_packet: nodeTapNs,
    engine_replay_ns_per_packet: engineNs,
    c_receiver_ns_per_packet: cNs,
    ratio_vs_c_receiver: Math.round(((nodeTapNs + engineNs) / cNs) * 100) / 100,
  };
}

/**
 * `--daemon-only`: the C baseline at the reference rate and the daemon, nothing
 * else, for iterating on the daemon; the result goes to OUT.json as usual but
 * is not the full benchmark.
 */
async function daemonOnlyRun(bench: LiveBench, outPath: string, stopSink: () => Promise<Record<string, unknown>>): Promise<void> {
  let c100: RunResult | undefined;
  for (let attempt = 0; attempt < 2 && !c100; attempt++) {
    const r = await bench.once('c', REFERENCE_RATE);
    if (r.lost === 0) c100 = r;
  }
  const deps = bench.daemonDeps();
  const floor = await measureVerdictFloor(deps, (pin, port) => bench.startFloorReceiver(pin, port));
  const cRef = new Map(c100 ? [[REFERENCE_RATE, c100.cpu_ns_per_packet]] : []);
  const cReference = await cReferenceSet(bench);
  const daemon = await measureDaemon(deps, cRef, floor);
  // SECUXFLOW_BENCH_INLINE_RATES (comma-separated pps) overrides the inline rates for experiments.
  const inlineRates = process.env.SECUXFLOW_BENCH_INLINE_RATES ? process.env.SECUXFLOW_BENCH_INLINE_RATES.split(',').map(Number) : [REFERENCE_RATE];
  const daemonInline = await measureInline(deps, cRef, inlineRates);
  bench.reattach();
  await cReferenceSet(bench, cReference);
  withReferenceRatio(daemon, cReference, 'host');
  withReferenceRatio(daemonInline, cReference, 'inline');
  const result = { partial: 'daemon only (--daemon-only)', c_cpu_ns_per_packet_at_100kpps: c100?.cpu_ns_per_packet ?? null, daemon, daemon_inline: daemonInline, udp_sink: await stopSink() };
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

const daemonOnly = process.argv.includes('--daemon-only');

if (process.argv.includes('--role')) {
  if (arg('--role') !== 'node-rx') throw new Error(`unknown role ${arg('--role')}`);
  runNodeReceiver({ ifname: arg('--iface'), pin: arg('--pin'), count: Number(arg('--count')), idleMs: Number(arg('--idle')), seconds: Number(arg('--seconds')), ringSize: Number(arg('--ring')), deliver: process.argv.includes('--deliver') });
} else {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node dist/bench-live.js OUT.json');
    process.exit(2);
  }
  main(out).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
