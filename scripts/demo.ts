// `npm run demo`: the live system from one command. It builds a namespace lab
// (a client, the protected host with a web and a DNS server), starts
// secuxflow on the host's interface, sends benign traffic and attacks from
// real clients, prints every inspection, verdict, kernel flow and alert as it
// happens, then removes everything (also on Ctrl-C). docs/demo.md explains
// the output.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cleanup } from './demo/cleanup.js';
import { buildLab, inNs, type Lab } from './demo/lab.js';
import { Printer } from './demo/printer.js';
import { describeEve, type Eve } from './demo/eve.js';
import { run, spawnTracked, sleep, trackRuns } from './demo/proc.js';
import { dnsServerSource, webServerSource } from './demo/servers.js';
import { scenario } from './demo/scenario.js';
import { KernelWatch } from './demo/kernel-watch.js';
import { kernelDelta, printSummary, type FastPath, type Tally } from './demo/summary.js';
import type { Backend, Sink } from './demo/backend.js';
import { OfflineBackend } from './demo/offline.js';
import { LiveBackend } from './demo/live.js';
import { DEMO_RULES, cliBuilt, daemonAvailable, secuxflow, secuxflowOk } from './demo/secuxflow.js';
import { addonPath, packageRoot } from '../host/kernel/native.js';

const OFFLINE_HINT = 'npx secuxflow inspect --pcap samples/demo.pcap';
/** The whole run, setup to cleanup, must end well inside this. */
const HARD_LIMIT_MS = 110_000;

const printer = new Printer();
const cleanup = new Cleanup();

const tally: Tally = { steps: [], alerts: new Map(), inspected: 0 };

function usage(): void {
  printer.raw(`usage: npm run demo [-- --offline]

Builds a namespace lab, runs secuxflow on the protected host's interface,
sends benign traffic and attacks (curl, dig, nmap), prints what happens, and
removes everything. Needs root. Finishes in well under two minutes.

  --offline   use the fallback even when the live daemon is available
  NO_COLOR=1  plain output; FORCE_COLOR=1 colours when not on a terminal
`);
}

function preflight(): string | null {
  if (process.platform !== 'linux') return 'the live demo needs Linux (XDP, network namespaces)';
  if (process.getuid?.() !== 0) {
    return `the live demo needs root: it creates network namespaces and attaches an XDP program.
  run it as root:            sudo npm run demo
  or try secuxflow without root on the bundled capture:
                             ${OFFLINE_HINT}`;
  }
  for (const tool of ['ip', 'curl', 'dig', 'nmap', 'tcpdump', 'mount']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed: run sudo bash scripts/install-system-deps.sh`;
    }
  }
  if (!existsSync(addonPath())) return `the native addon is not built (${addonPath()}): run npm run build:native`;
  if (!cliBuilt()) return 'the CLI is not built: run npm run build:cli';
  for (const m of ['http_waf', 'dns_guard', 'scan_flood']) {
    if (!existsSync(join(packageRoot(), 'build', 'modules', `${m}.wasm`))) return `build/modules/${m}.wasm is missing: run npm run build:modules`;
  }
  return null;
}

/** Repeats of one kind of event (a scan makes one alert per port) beyond this many per step are counted, not printed. */
const REPEATS_SHOWN = 3;
const repeats = new Map<string, { n: number; kind: 'alert' | 'verdict' | 'kernel'; what: string }>();

/** Counts one more event of `key`; true while it should still be printed. */
function showRepeat(key: string, kind: 'alert' | 'verdict' | 'kernel', what: string): boolean {
  const r = repeats.get(key) ?? { n: 0, kind, what };
  repeats.set(key, r);
  return ++r.n <= REPEATS_SHOWN;
}

function repeatKey(rec: Eve): { key: string; what: string } | null {
  if (rec.event_type === 'alert') {
    const a = rec.alert as { signature_id?: number };
    return { key: `alert ${a.signature_id} ${rec.src_ip}`, what: `alerts [${a.signature_id}] from ${rec.src_ip}` };
  }
  if (rec.event_type === 'drop') {
    const d = rec.drop as { reason?: string };
    return { key: `drop ${d.reason} ${rec.src_ip}`, what: `packets from ${rec.src_ip} dropped before inspection (${d.reason})` };
  }
  if (rec.event_type === 'flow') {
    const v = String((rec.flow as { verdict?: string }).verdict ?? '').toUpperCase();
    return { key: `flow ${v} ${rec.src_ip}`, what: `${v} flows from ${rec.src_ip}` };
  }
  return null;
}

/** Prints "… and N more" for what was held back during a step. */
function flushRepeats(): void {
  for (const r of repeats.values()) {
    if (r.n > REPEATS_SHOWN) printer.event(r.kind, `… and ${r.n - REPEATS_SHOWN} more ${r.what}`);
  }
  repeats.clear();
}

function makeSink(): Sink {
  return {
    event: (kind, text) => printer.event(kind, text),
    eve: (rec: Eve) => {
      if (rec.event_type === 'alert') {
        const a = rec.alert as { signature_id?: number; signature?: string; metadata?: { module?: string[] } };
        const module = a.metadata?.module?.[0] ?? '?';
        const sig = String(a.signature ?? '').replace(`${module}: `, '');
        const key = `${a.signature_id} ${module}: ${sig}`;
        tally.alerts.set(key, (tally.alerts.get(key) ?? 0) + 1);
      }
      if (['http', 'dns', 'tls'].includes(rec.event_type)) tally.inspected++;
      const line = describeEve(rec);
      if (!line) return;
      const rk = repeatKey(rec);
      if (rk && !showRepeat(rk.key, line.kind === 'alert' ? 'alert' : 'verdict', rk.what)) return;
      printer.event(line.kind, line.text);
    },
  };
}

async function startServers(lab: Lab): Promise<void> {
  const onLine = (line: string): void => {
    if (!line.trim() || line.endsWith(' ready')) return;
    printer.event('server', `${line.startsWith('web') ? 'web server got' : 'DNS server got'} ${line.replace(/^(web|dns) /, '')}`);
  };
  await spawnTracked(cleanup, inNs(lab.hostNs, [process.execPath, '-e', webServerSource(lab.hostAddr, lab.hostAddr6), lab.tag]), { ready: 'web ready', onLine });
  await spawnTracked(cleanup, inNs(lab.hostNs, [process.execPath, '-e', dnsServerSource(lab.hostAddr), lab.tag]), { ready: 'dns ready', onLine });
}

/** A command the operator types on the protected host, printed with its output. */
async function operatorCommand(lab: Lab, args: string[]): Promise<void> {
  printer.event('info', `operator: $ secuxflow ${args.join(' ')}`);
  const r = await secuxflow(lab, args, 15_000);
  for (const line of (r.code === 0 ? r.stdout : r.stderr).trimEnd().split('\n')) printer.event(r.code === 0 ? 'info' : 'warn', `  ${line}`);
}

async function runSteps(lab: Lab, backend: Backend, watch: KernelWatch): Promise<FastPath | null> {
  let fast: FastPath | null = null;
  const steps = scenario(lab);
  for (const [i, step] of steps.entries()) {
    printer.event('step', `${i + 1}/${steps.length} ${step.who}: ${step.title}`);
    await backend.beforeStep(i, step);
    if (backend.mode === 'live') for (const args of step.operator ?? []) await operatorCommand(lab, args);
    const c0 = watch.counters();
    const punts0 = c0?.punt ?? 0;
    const flows0 = new Set(watch.flows.keys());
    const r = await run(inNs(lab.clientNs, step.argv), { timeoutMs: step.timeoutMs });
    const j = step.judge(r);
    const expected = step.expect[backend.mode];
    tally.steps.push({ step, outcome: j.outcome, expected, text: j.text });
    const kind = j.outcome === expected ? (j.outcome === 'answered' ? 'ok' : 'blocked') : 'fail';
    const verdict = j.outcome === 'blocked' ? 'BLOCKED' : 'answered';
    printer.event(kind, `${step.who}: ${verdict}: ${j.text}${j.outcome === expected ? '' : `  (expected ${expected === 'blocked' ? 'BLOCKED' : 'an answer'})`}`);
    await backend.afterStep(i, step);
    flushRepeats();
    watch.poll();
    const c1 = watch.counters();
    if (c0 && c1) printer.event('kernel', `this step in XDP: ${kernelDelta(c0, c1)}`);
    if (step.fastPath) {
      const punts1 = watch.counters()?.punt ?? 0;
      const moved = [...watch.flows.values()].filter((f) => !flows0.has(f.name) && f.name.includes(':80/tcp'));
      fast = { puntsBefore: punts1 - punts0, fastPathPackets: moved.reduce((n, f) => n + f.packets, 0) };
    }
  }
  return fast;
}

/** Runs the registry, then checks and prints that nothing is left. */
function teardown(lab: Lab | null): boolean {
  cleanup.runAll();
  if (!lab) return true;
  const before = lab.pinsAtTeardown ?? [];
  const nsLeft = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(lab.tag));
  const procs = (() => {
    try {
      return execFileSync('pgrep', ['-f', lab.tag], { encoding: 'utf8' }).trim().split('\n').filter((p) => p && Number(p) !== process.pid);
    } catch {
      return [];
    }
  })();
  const ok = nsLeft.length === 0 && procs.length === 0 && before.length === 0 && cleanup.problems.length === 0;
  printer.raw(`cleanup: ${ok ? 'nothing left behind' : 'SOMETHING WAS LEFT BEHIND'} (namespaces left: ${nsLeft.length}, pins left after detach: ${before.length ? before.join(' ') : 0}, processes left: ${procs.length}${cleanup.problems.length ? `, problems: ${cleanup.problems.join('; ')}` : ''})`);
  return ok;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    usage();
    return 0;
  }
  const problem = preflight();
  if (problem) {
    printer.raw(`secuxflow demo: ${problem}`);
    return 1;
  }
  let lab: Lab | null = null;
  trackRuns(cleanup);
  cleanup.installSignalHandlers((sig) => {
    printer.raw(`\n${sig}: stopping and cleaning up…`);
    teardown(lab);
  });
  const limit = setTimeout(() => {
    printer.raw(`secuxflow demo: still running after ${HARD_LIMIT_MS / 1000} s, giving up`);
    teardown(lab);
    process.exit(124);
  }, HARD_LIMIT_MS);
  limit.unref();

  let good = false;
  // The daemon exists in this build but did not start: the run still shows what it can, and exits 1.
  let liveFailed = false;
  try {
    const live = !args.includes('--offline') && (await daemonAvailable());
    lab = await buildLab(cleanup, { bpffsRoot: process.env.SECUXFLOW_BPFFS_ROOT || undefined });
    printer.raw(printer.bold(`secuxflow demo ${lab.tag}: ${live ? 'live daemon in host mode' : 'OFFLINE FALLBACK (the live daemon path is not available in this build)'}`));
    printer.raw(`  client ns ${lab.clientNs}: alice ${lab.alice} / ${lab.alice6}, mallory ${lab.mallory}`);
    printer.raw(`  host ns   ${lab.hostNs}: ${lab.hostIf} ${lab.hostAddr} / ${lab.hostAddr6}, web :80, DNS :53; secuxflow on ${lab.hostIf}`);
    printer.raw(`  pins      ${lab.bpffsRoot}/${lab.hostIf}   state ${lab.stateDir}`);
    if (!live) printer.raw('  verdicts below come from `secuxflow inspect --pcap` on a capture of each step; only the kernel rules act on the live traffic');
    await startServers(lab);
    const sink = makeSink();
    const watch = new KernelWatch(join(lab.bpffsRoot, lab.hostIf), {
      flow: (f) => {
        if (!showRepeat(`kflow ${f.verdict} ${f.client}`, 'kernel', `flows of ${f.client} moved into the kernel: ${f.verdict}`)) return;
        printer.event('kernel', `flow ${f.name} moved into the kernel: ${f.verdict}${f.verdict === 'ALLOW' ? ', XDP passes the rest without punting' : ', XDP drops the rest'}`);
      },
      penalty: (addr, ttl) => printer.event('kernel', `source ${addr} put in the penalty box${ttl ? ` for ${ttl} s` : ''}: XDP drops everything it sends`),
      released: (addr) => printer.event('kernel', `source ${addr} left the penalty box: XDP judges its packets by the rules again`),
    });
    cleanup.add('close kernel map fds', () => watch.stop());
    for (const rule of DEMO_RULES) await secuxflowOk(lab, ['rule', 'add', ...rule]);
    let backend: Backend = live ? new LiveBackend(lab, cleanup, sink) : new OfflineBackend(lab, cleanup, sink);
    try {
      await backend.start();
    } catch (e) {
      if (!(backend instanceof LiveBackend)) throw e;
      // The daemon is there but does not work here: say so, and show what still can be shown.
      printer.event('warn', `the live daemon did not start: ${(e as Error).message}`);
      printer.event('warn', 'falling back to the OFFLINE path: kernel rules live, inspection from captures of each step');
      backend.abort();
      liveFailed = true;
      backend = new OfflineBackend(lab, cleanup, sink);
      await backend.start();
    }
    watch.start();
    const fast = await runSteps(lab, backend, watch);
    await sleep(300);
    watch.poll();
    const extra = await backend.summary();
    await backend.stop();
    flushRepeats();
    watch.poll();
    good = printSummary(printer, tally, backend.mode, watch, extra, fast) && !liveFailed;
    if (liveFailed) printer.raw(printer.paint('1;31', '  the live daemon failed to start (see WARN above): this run fell back to the offline path, exit status 1'));
    watch.stop();
  } catch (e) {
    printer.raw(printer.paint('1;31', `secuxflow demo failed: ${(e as Error).message}`));
    good = false;
  }
  const clean = teardown(lab);
  clearTimeout(limit);
  return good && clean ? 0 : 1;
}

process.exitCode = await main();

