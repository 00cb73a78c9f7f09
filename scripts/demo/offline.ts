// The fallback when this build has no live daemon: the XDP program is attached
// with the demo's rules (kernel drops are real, and `inspect` rules count as
// punt fallbacks since no socket is bound), each step's traffic is captured
// with tcpdump on the protected interface, and the capture goes through
// `secuxflow inspect --pcap` with the same modules. The verdicts printed are
// what the inspectors decide; they are not enforced on the live traffic.
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Backend, Sink } from './backend.js';
import type { Cleanup } from './cleanup.js';
import type { Lab } from './lab.js';
import { inNs } from './lab.js';
import { parseEveLines } from './eve.js';
import { spawnTracked, sleep } from './proc.js';
import type { Step } from './scenario.js';
import { MODULE_CONFIGS, cliArgv, cliEnv, secuxflow, secuxflowOk } from './secuxflow.js';

export class OfflineBackend implements Backend {
  readonly mode = 'offline' as const;
  private capture: ChildProcess | null = null;
  private pcap = '';
  private attached = false;

  constructor(private readonly lab: Lab, private readonly cleanup: Cleanup, private readonly sink: Sink) {}

  async start(): Promise<void> {
    const r = await secuxflowOk(this.lab, ['attach', '--iface', this.lab.hostIf, '--mode', 'auto', '--fail', 'open']);
    this.attached = true;
    this.cleanup.add(`detach secuxflow from ${this.lab.hostIf}`, () => this.detachSync());
    this.sink.event('kernel', r.stdout.trim().split('\n')[0] ?? 'attached');
    for (const [name, cfg] of Object.entries(MODULE_CONFIGS)) writeFileSync(join(this.lab.work, `${name}.json`), JSON.stringify(cfg));
  }

  async beforeStep(index: number): Promise<void> {
    this.pcap = join(this.lab.work, `step${index + 1}.pcap`);
    this.capture = await spawnTracked(this.cleanup, inNs(this.lab.hostNs, ['tcpdump', '-i', this.lab.hostIf, '-n', '-U', '--immediate-mode', '-s', '0', '-w', this.pcap]), {
      ready: 'listening on',
      timeoutMs: 10_000,
    });
  }

  async afterStep(_index: number, _step: Step): Promise<void> {
    await sleep(200); // the last replies and FINs
    await stopProcess(this.capture);
    this.capture = null;
    const args = ['inspect', '--pcap', this.pcap, '--eve', '-', '--no-progress'];
    for (const name of Object.keys(MODULE_CONFIGS)) args.push('--module', name, '--module-config', `${name}=${join(this.lab.work, `${name}.json`)}`);
    const r = await secuxflow(this.lab, args, 30_000);
    if (r.code !== 0) {
      this.sink.event('warn', `secuxflow inspect failed (${r.code}): ${r.stderr.trim().split('\n')[0]}`);
      return;
    }
    for (const rec of parseEveLines(r.stdout)) this.sink.eve(rec);
  }

  async stop(): Promise<void> {
    if (!this.attached) return;
    const r = await secuxflow(this.lab, ['detach', '--iface', this.lab.hostIf]);
    this.attached = r.code !== 0;
    this.sink.event('kernel', r.code === 0 ? `detached secuxflow from ${this.lab.hostIf}, maps unpinned` : `detach failed: ${r.stderr.trim()}`);
  }

  async summary(): Promise<string[]> {
    const r = await secuxflow(this.lab, ['rule', 'list']);
    return ['$ secuxflow rule list', ...(r.code === 0 ? r.stdout.trimEnd().split('\n') : [`rule list failed: ${r.stderr.trim()}`])];
  }

  private detachSync(): void {
    if (!this.attached) return;
    // the Ctrl-C path: the synchronous twin of stop()
    this.attached = false;
    const [file, ...args] = cliArgv(this.lab, ['detach', '--iface', this.lab.hostIf]);
    execFileSync(file!, args, { env: cliEnv(this.lab), stdio: 'ignore', timeout: 15_000 });
  }
}

/** SIGINT (tcpdump flushes and exits), then SIGKILL after 3 s. */
export function stopProcess(child: ChildProcess | null): Promise<void> {
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    try {
      process.kill(-child.pid!, 'SIGINT');
    } catch {
      child.kill('SIGINT');
    }
  });
}
