// Shared pieces of the live-daemon tests: the daemon as a child process in a
// namespace (its JSON log parsed as it comes), HTTP servers and clients as
// small node scripts, and readers for the kernel's pinned maps.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NetLab, VethEnd } from './lab/netns.js';
import { REPO_ROOT } from './lab/build.js';
import { childEnded } from '../support/child-exit.js';
import { cliIn, setUpCliLab, type CliLab } from './lab/cli-lab.js';
import { closeFd, mapDump, objGet } from '../../host/kernel/native.js';
import { readFlowVerdict, readStats } from '../../host/kernel/verdictmaps.js';
import { MapName, SfStat, type FlowKey } from '../../host/kernel/codec.js';

export interface DaemonProc {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first log line (already seen or to come) that matches. */
  waitLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** What every daemon lab starts from: a CLI lab whose CLI copy has the sandbox worker beside it. */
export async function prepareDaemonLab(lab: NetLab): Promise<CliLab> {
  const base = await setUpCliLab(lab);
  copySandboxWorker(base.cli);
  return base;
}

export interface DaemonVethLab extends CliLab {
  /** End a of a veth pair in a namespace of the lab, for the daemon to run on. */
  end: VethEnd;
  /** The daemon's config file, in the state directory. */
  config: string;
}

export interface DaemonOnVeth extends DaemonVethLab {
  daemon: DaemonProc;
}

/**
 * A daemon lab with a veth pair, a config file naming `modules` (YAML) and
 * one stored rule (inspect tcp port 80); nothing attached, no daemon yet.
 */
export async function prepareDaemonOnVeth(lab: NetLab, subnet: number, modules = 'modules: [basic_inspect]\n'): Promise<DaemonVethLab> {
  const base = await prepareDaemonLab(lab);
  const ns = await lab.addNamespace('n');
  const [end] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, subnet);
  const config = join(base.stateDir, 'daemon.yaml');
  writeFileSync(config, modules);
  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli: base.cli, stateDir: base.stateDir, env: base.env }));
  await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', '80');
  return { ...base, end, config };
}

/** prepareDaemonOnVeth, then `attach --mode skb` and `secuxflow run` there, started. */
export async function startDaemonOnVeth(lab: NetLab, subnet: number): Promise<DaemonOnVeth> {
  const base = await prepareDaemonOnVeth(lab, subnet);
  const { end, config } = base;
  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli: base.cli, stateDir: base.stateDir, env: base.env }));
  await ok('attach', '--iface', end.ifname, '--mode', 'skb');
  // startDaemon has the lab kill the daemon at cleanup if a case fails first.
  const daemon = startDaemon(lab, end.ns, base.cli, ['--iface', end.ifname, '--state-dir', base.stateDir, '--config', config], base.env);
  await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
  return { ...base, daemon };
}

/** `secuxflow run --iface END --mode skb` with the lab's state directory and config (then `args`); not waited for. */
export function runDaemonOnVeth(lab: NetLab, c: DaemonVethLab, ...args: string[]): DaemonProc {
  return startDaemon(lab, c.end.ns, c.cli, ['--iface', c.end.ifname, '--mode', 'skb', '--state-dir', c.stateDir, '--config', c.config, ...args], c.env);
}

/** The sandbox worker bundle must sit next to the lab's CLI copy. */
export function copySandboxWorker(cli: string): void {
  copyFileSync(join(REPO_ROOT, 'dist', 'sandbox-worker.js'), join(dirname(cli), 'sandbox-worker.js'));
}

export function startDaemon(lab: NetLab, ns: string, cli: string, args: string[], env: NodeJS.ProcessEnv): DaemonProc {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, cli, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  lab.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  let buf = '';
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  child.stderr!.on('data', (b: Buffer) => {
    const s = b.toString();
    err += s;
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let rec: Record<string, unknown>;
      try { rec = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
      logs.push(rec);
      for (const w of [...waiters]) if (w.pred(rec)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(rec); }
    }
  });
  child.stdout!.on('data', () => {});
  const exited = childEnded(child).then((e) => e.code);
  return {
    child, logs, exited, stderr: () => err,
    waitLog(pred, timeoutMs = 20_000) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`daemon log line not seen within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => { clearTimeout(timer); resolve(l); } });
        void exited.then((code) => { clearTimeout(timer); if (!logs.some(pred)) reject(new Error(`daemon exited (${code}) before the log line; stderr:\n${err}`)); });
      });
    },
  };
}

/**
 * `secuxflow run` in host mode (skb) on the lab's server end with the given
 * config; resolves once the daemon reports it started, with its pinned maps
 * open (in the lab's private bpffs; lab.cleanup() closes them).
 */
export async function startHostDaemon(lab: NetLab, c: CliLab & { server: VethEnd }, configPath: string): Promise<{ daemon: DaemonProc; maps: PinnedMaps }> {
  const { server } = c;
  const daemon = startDaemon(lab, server.ns, c.cli, ['--iface', server.ifname, '--mode', 'skb', '--state-dir', c.stateDir, '--config', configPath], c.env);
  await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
  const maps = openPinnedMaps(join(c.bpffs.root, server.ifname));
  lab.onCleanup(() => maps.close());
  return { daemon, maps };
}

/** HTTP/1.1 server with keep-alive; answers "hello <path>"; exits by itself after maxMs. */
export function startHttpServer(lab: NetLab, ns: string, addr: string, port: number, maxMs = 300_000): Promise<ChildProcess> {
  const script = `
const http = require('http');
setTimeout(() => process.exit(0), ${maxMs});
const s = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello ' + req.url); });
s.keepAliveTimeout = 60000;
s.listen(${port}, '${addr}', () => console.log('ready'));`;
  return lab.spawn(ns, [process.execPath, '-e', script], 'ready');
}

/**
 * A keep-alive HTTP client: `count` GETs on ONE connection from `localPort`,
 * `gapMs` apart; prints "start" first, then "R<i> <status> <body>" per answer. Each request has its own timeout.
 */
export function keepAliveClientScript(addr: string, port: number, opts: { count: number; gapMs: number; firstGapMs?: number; localPort: number; localAddress?: string; header?: string }): string {
  return `
const net = require('net');
// "start" goes out alone, before any answer can share its chunk of stdout.
console.log('start');
let s, i = 0, buf = '', timer = null;
const next = () => {
  if (i >= ${opts.count}) { s.end(); setTimeout(() => process.exit(0), 200); return; }
  i++;
  s.write('GET /r' + i + ' HTTP/1.1\\r\\nHost: lab\\r\\n${opts.header ? `${opts.header}\\r\\n` : ''}\\r\\n');
  timer = setTimeout(() => { console.log('R' + i + ' timeout'); process.exit(3); }, 3000);
};
setTimeout(() => {
s = net.connect({ host: '${addr}', port: ${port}, localPort: ${opts.localPort}${opts.localAddress ? `, localAddress: '${opts.localAddress}'` : ''} });
s.on('connect', () => next());
s.on('data', (b) => {
  buf += b.toString();
  const m = /\\r\\n\\r\\n(hello [^\\s]*)/.exec(buf);
  if (!m) return;
  buf = '';
  clearTimeout(timer);
  console.log('R' + i + ' 200 ' + m[1]);
  setTimeout(next, i === 1 ? ${opts.firstGapMs ?? opts.gapMs} : ${opts.gapMs});
});
s.on('error', (e) => { console.log('error ' + e.message); process.exit(4); });
}, 200);`;
}

export interface PinnedMaps {
  punts(): number;
  stat(i: number): number;
  flow(key: FlowKey): { verdict: number; packets: number; bytes: number } | null;
  flowCount(): number;
  penaltyCount(): number;
  close(): void;
}

export function openPinnedMaps(pinDir: string): PinnedMaps {
  const fds = {
    stats: objGet(join(pinDir, MapName.STATS)),
    flows: objGet(join(pinDir, MapName.FLOWS)),
    penalty: objGet(join(pinDir, MapName.PENALTY)),
    config: objGet(join(pinDir, MapName.CONFIG)),
  };
  const vfds = { sf_config: fds.config, sf_flows: fds.flows, sf_penalty: fds.penalty };
  return {
    punts: () => readStats(fds.stats)[SfStat.PUNT]!.packets,
    stat: (i) => readStats(fds.stats)[i]!.packets,
    flow: (key) => readFlowVerdict(vfds, key),
    flowCount: () => mapDump(fds.flows).count,
    penaltyCount: () => mapDump(fds.penalty).count,
    close: () => { for (const fd of Object.values(fds)) closeFd(fd); },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or the time is up (then returns the last value). */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await sleep(stepMs);
  }
}

/** The EVE records the daemon has written to <stateDir>/eve.json so far, parsed ([] before the file exists). */
export function readEve(stateDir: string): Array<Record<string, unknown>> {
  const path = join(stateDir, 'eve.json');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** lab.cleanup(), then expectLabGone: an afterAll that also checks the teardown. */
export async function cleanUpLab(lab: NetLab): Promise<void> {
  await lab.cleanup();
  expectLabGone(lab);
}

/** After lab.cleanup(): nothing of the lab (namespaces, links, bpffs mounts) is left on the machine. */
export function expectLabGone(lab: NetLab): void {
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(lab.tag);
  expect(execFileSync('ip', ['-d', 'link'], { encoding: 'utf8' })).not.toContain(lab.tag);
  expect(execFileSync('mount', [], { encoding: 'utf8' })).not.toContain(`sf-${lab.tag}-`);
}
