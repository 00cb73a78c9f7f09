// The live path: `secuxflow run` in host mode on the protected interface.
// Kernel rules punt web, DNS and other client TCP to the daemon over AF_XDP;
// its verdicts go back into the XDP maps. The demo follows the daemon's EVE
// file for inspections and alerts, its log for warnings, and (in demo.ts) the
// pinned maps themselves for what the kernel now holds.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, Sink } from './backend.js';
import type { Cleanup } from './cleanup.js';
import type { Lab } from './lab.js';
import { EveTail } from './eve.js';
import { run, sleep, spawnTracked } from './proc.js';
import { MODULE_CONFIGS, cliArgv, cliEnv, cliPath, secuxflow } from './secuxflow.js';

/** Small on purpose: an undecided flow moves into the kernel after this many punts, so the fast path shows. */
const INSPECT_CAP_PACKETS = 16;
/** How long the daemon gets to write a step's events before the next step starts. */
const SETTLE_MS = 500;

export class LiveBackend implements Backend {
  readonly mode = 'live' as const;
  private daemon: ChildProcess | null = null;
  private tail: EveTail | null = null;
  private eveFile = '';
  private stopping = false;
  private ready = false;
  private stderrTail: string[] = [];
  private last: StatusJson | null = null;

  constructor(private readonly lab: Lab, private readonly cleanup: Cleanup, private readonly sink: Sink) {}

  async start(): Promise<void> {
    const { lab } = this;
    const modules = Object.entries(MODULE_CONFIGS).map(([name, cfg]) => {
      const file = join(lab.work, `${name}.json`);
      writeFileSync(file, JSON.stringify(cfg));
      return { name, config: file };
    });
    const config = join(lab.work, 'daemon.json');
    writeFileSync(config, JSON.stringify({
      modules,
      inspect_cap: { packets: INSPECT_CAP_PACKETS, bytes: 256 * 1024, policy: 'allow' },
      default_block_ttl: 60,
      on_stop: 'detach',
    }, null, 2));

    const help = (await run([process.execPath, cliPath(), 'run', '--help'], { timeoutMs: 15_000 })).stdout;
    this.eveFile = join(lab.stateDir, 'eve.json');
    const args = ['run', '--iface', lab.hostIf, '--mode', 'auto', '--config', config];
    if (/--eve\b/.test(help)) {
      this.eveFile = join(lab.work, 'eve.json');
      args.push('--eve', this.eveFile);
    }
    this.sink.event('daemon', `starting: secuxflow ${args.join(' ')}`);
    // Registered before the spawn: after a kill -9 (or a crash) XDP and the pins may stay behind.
    this.cleanup.add(`detach secuxflow from ${lab.hostIf}`, () => this.detachSync());
    this.tail = new EveTail(this.eveFile, (r) => this.sink.eve(r));
    this.tail.start();
    this.daemon = await spawnTracked(this.cleanup, cliArgv(lab, args), {
      env: cliEnv(lab),
      // readiness is the control socket answering, checked below
      ready: null,
      timeoutMs: 20_000,
      onLine: (line) => this.daemonLine(line),
    });
    this.daemon.once('exit', (code, sig) => {
      if (!this.stopping) this.sink.event('warn', `the daemon exited unexpectedly (${code ?? sig}): ${this.stderrTail.slice(-3).join(' | ')}`);
    });
    await this.waitReady();
  }

  /** Polls `secuxflow status --json` until the control socket answers (bounded). */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 20_000;
    let last = '';
    while (Date.now() < deadline) {
      if (this.daemon?.exitCode !== null || this.daemon?.signalCode !== null) {
        throw new Error(`secuxflow run exited before it was ready: ${this.stderrTail.slice(-4).join(' | ')}`);
      }
      const r = await secuxflow(this.lab, ['status', '--json'], 10_000);
      // status also answers without a daemon (from the pins): wait for the daemon's own view with its sockets bound
      const st = r.code === 0 ? parseJson(r.stdout) : null;
      const queues = (st?.queues ?? []) as { sockets?: unknown[] }[];
      if (st?.daemon?.running === true && queues.length > 0 && queues.every((q) => (q.sockets ?? []).length > 0)) {
        this.ready = true;
        this.last = st;
        this.sink.event('daemon', `ready: ${describeStatus(st)}`);
        return;
      }
      last = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
      await sleep(250);
    }
    throw new Error(`secuxflow run did not answer on its control socket within 20 s: ${last}`);
  }

  private daemonLine(line: string): void {
    if (!line.trim()) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    let rec: { level?: string; msg?: string; [k: string]: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      this.sink.event('daemon', line.slice(0, 200));
      return;
    }
    const { ts: _ts, level, msg, ...fields } = rec;
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    const text = `${msg ?? ''}${extra ? `  ${extra}` : ''}`.slice(0, 220);
    if (level === 'warn' || level === 'error') this.sink.event('warn', `daemon ${level}: ${text}`);
    // info lines are the daemon's story while it starts and stops; during traffic the EVE file tells it
    else if (!this.ready || this.stopping) this.sink.event('daemon', text);
  }

  async beforeStep(): Promise<void> {}

  async afterStep(): Promise<void> {
    await sleep(SETTLE_MS);
    this.tail?.poll();
    // One line per step from the daemon's counters: what it inspected, what it decided, what it wrote back.
    const r = await secuxflow(this.lab, ['status', '--json'], 10_000);
    const now = r.code === 0 ? parseJson(r.stdout) : null;
    if (!now?.daemon?.running) return;
    const before = this.last;
    this.last = now;
    const punted = (now.kernel?.punt ?? 0) - (before?.kernel?.punt ?? 0);
    const mods = diff(moduleCounts(now), moduleCounts(before));
    const verdicts = diff(now.verdicts ?? {}, before?.verdicts ?? {});
    const written = diff(now.writeBack ?? {}, before?.writeBack ?? {});
    const list = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    this.sink.event('verdict', `this step: ${punted} packet(s) punted to the daemon; inspected by ${list(mods)}; verdicts ${list(verdicts)}; written to the kernel: ${list(written)}`);
  }

  async summary(): Promise<string[]> {
    const out: string[] = [];
    const status = await secuxflow(this.lab, ['status'], 10_000);
    out.push('$ secuxflow status', ...(status.code === 0 ? status.stdout.trimEnd().split('\n') : [`status failed: ${status.stderr.trim().split('\n')[0]}`]));
    const rules = await secuxflow(this.lab, ['rule', 'list'], 10_000);
    out.push('', '$ secuxflow rule list', ...(rules.code === 0 ? rules.stdout.trimEnd().split('\n') : [`rule list failed: ${rules.stderr.trim().split('\n')[0]}`]));
    return out;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const d = this.daemon;
    if (d && d.exitCode === null && d.signalCode === null) {
      const exited = new Promise<number | string>((done) => d.once('exit', (code, sig) => done(code ?? sig ?? '?')));
      d.kill('SIGTERM');
      const how = await Promise.race([exited, sleep(10_000).then(() => 'timeout')]);
      if (how === 'timeout') {
        this.sink.event('warn', 'the daemon did not stop within 10 s of SIGTERM: killing it');
        d.kill('SIGKILL');
        await exited;
      } else {
        this.sink.event('daemon', `stopped on SIGTERM (exit ${how})`);
      }
    }
    this.tail?.stop();
    const xdp = await xdpProgram(this.lab);
    if (xdp) this.sink.event('warn', `XDP program ${xdp} is still attached to ${this.lab.hostIf} after the daemon stopped`);
    else this.sink.event('kernel', `no XDP program left on ${this.lab.hostIf}`);
    // The daemon keeps its maps pinned for the next start (decided flows survive a restart);
    // the demo is done with them: they go at cleanup, after the summary has read the counters.
    if (existsSync(this.pinDir())) this.sink.event('kernel', `the daemon left its maps pinned in ${this.pinDir()} for a restart; the demo removes them at cleanup`);
  }

  /** After a failed start: the daemon killed, XDP detached, the pins gone, so the fallback starts clean. */
  abort(): void {
    this.stopping = true;
    this.tail?.stop();
    try {
      this.daemon?.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.detachSync();
  }

  private pinDir(): string {
    return join(this.lab.bpffsRoot, this.lab.hostIf);
  }

  private detachSync(): void {
    // Best effort: after a kill -9 the program may still be attached (fail policy); detach removes it.
    const [file, ...args] = cliArgv(this.lab, ['detach', '--iface', this.lab.hostIf]);
    try {
      execFileSync(file!, args, { env: cliEnv(this.lab), stdio: 'ignore', timeout: 15_000 });
    } catch {
      // E_NOT_ATTACHED: the daemon detached on its own and kept its maps
    }
    rmSync(this.pinDir(), { recursive: true, force: true });
  }
}

interface StatusJson {
  daemon?: { running?: boolean; pid?: number };
  kernel?: { punt?: number };
  verdicts?: Record<string, number>;
  writeBack?: Record<string, number>;
  interfaces?: { iface: string; xdpMode?: string }[];
  queues?: { sockets?: { queue?: number; bindMode?: string }[] }[];
  modules?: { name: string; packets?: number }[];
}

function moduleCounts(s: StatusJson | null): Record<string, number> {
  return Object.fromEntries((s?.modules ?? []).map((m) => [m.name, m.packets ?? 0]));
}

/** Positive differences only, keyed as in `now`. */
function diff(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) {
    const d = v - (before[k] ?? 0);
    if (typeof v === 'number' && d > 0) out[k] = d;
  }
  return out;
}

function parseJson(text: string): StatusJson | null {
  try {
    return JSON.parse(text) as StatusJson;
  } catch {
    return null;
  }
}

/** "pid 123, xdp skb, 2 queue(s) bound copy, modules http_waf,dns_guard,scan_flood" */
function describeStatus(s: StatusJson): string {
  const bits = [`pid ${s.daemon?.pid ?? '?'}`];
  for (const i of s.interfaces ?? []) bits.push(`${i.iface} xdp ${i.xdpMode ?? '?'}`);
  const sockets = (s.queues ?? []).flatMap((q) => q.sockets ?? []);
  bits.push(`${sockets.length} AF_XDP socket(s) bound ${[...new Set(sockets.map((k) => k.bindMode))].join('/')}`);
  bits.push(`modules ${(s.modules ?? []).map((m) => m.name).join(', ') || 'none'}`);
  return bits.join(', ');
}

async function xdpProgram(lab: Lab): Promise<string | null> {
  const r = await run(['ip', '-n', lab.hostNs, '-d', '-j', 'link', 'show', 'dev', lab.hostIf], { timeoutMs: 5000 });
  if (r.code !== 0) return null;
  try {
    const [link] = JSON.parse(r.stdout) as Array<{ xdp?: { prog?: { id: number; name: string } } }>;
    return link?.xdp?.prog ? `${link.xdp.prog.name} (id ${link.xdp.prog.id})` : null;
  } catch {
    return null;
  }
}
