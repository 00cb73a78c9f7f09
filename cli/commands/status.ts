// `secuxflow status`: the running daemon's view through the control socket,
// or, when no daemon runs, the attachments and kernel counters from the pins.
import type { Command } from 'commander';
import { SecuxflowError } from '../../host/errors.js';
import { action, printJson } from '../action.js';
import { table, thousands } from '../format.js';
import { requestDaemon } from '../../host/control/client.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';
import { describeScheduling } from '../../host/daemon/config.js';
import { offlineStatus, type OfflineStatus } from '../../host/daemon/offline-status.js';
import { resolveStateDir } from '../../host/state/store.js';

export interface StatusCommandOptions {
  json?: boolean;
  stateDir?: string;
}

export async function statusCommand(opts: StatusCommandOptions): Promise<DaemonStatus | OfflineStatus> {
  const stateDir = resolveStateDir(opts.stateDir);
  const live = await requestDaemon(stateDir, 'status', {}, { timeoutMs: 10_000 });
  return live === null ? offlineStatus(stateDir) : checkLiveStatus(live);
}

// What describeLive reads. A field it reads but this omits would print as
// "undefined" or NaN; the catch in the action is only the last resort.
type Shape = 'number' | 'string' | 'boolean' | 'object' | [Shape] | { [field: string]: Shape };
const N = 'number';
const S = 'string';
const LIVE_SHAPE: Shape = {
  daemon: { pid: N, version: S, uptimeSec: N, stateDir: S },
  interfaces: [{ iface: S, role: S, xdpMode: S, requestedMode: S, fail: S, pinDir: S }],
  queues: [{ batchP99Us: N, sockets: [{ iface: S, queue: N, bindMode: S, ringSize: N, rxPackets: N, txPackets: N, rxRingFull: N, rxDropped: N }] }],
  kernel: { rx: N, rxPps: N, punt: N, puntPps: N, pass: N, drop: N, invalid: N, puntFallback: N, passAll: 'boolean' },
  verdicts: 'object',
  maps: { flows: N, flowsMax: N, penalty: N, penaltyMax: N, expiredFlows: N, flowTimeoutSec: N, expiredPenalty: N },
  ringDrops: N,
  verdictLatencyP99Us: N,
  modules: [{ name: S, policy: S, isolation: S, status: S, packets: N, meanBatchUs: N, p99BatchUs: N, traps: N }],
  rules: { count: N, defaultPolicy: S },
};

/** Where the entries a count stands for are named: the commands that list them. */
function mapsHint(flows: number, penalty: number): string {
  const cmds = [...(flows > 0 ? ['secuxflow flow list'] : []), ...(penalty > 0 ? ['secuxflow block list'] : [])];
  return cmds.length > 0 ? ` (${cmds.join(', ')})` : '';
}

/** The engines' bounds (docs/live.md, "Resource bounds"): what is held against each, and what a bound refused. */
function boundsLines(e: NonNullable<DaemonStatus['engine']>): string[] {
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  const hit = (n: number, what: string): string => (n > 0 ? `, ${what} ${thousands(n)}` : '');
  return [
    `engine: flows ${thousands(e.flows)}/${thousands(e.flowsMax)}${hit(e.flowsEvicted, 'EVICTED')}; streams ${mib(e.streamBytes)}/${mib(e.streamMemcap)}${hit(e.streamMemcapDrops, 'MEMCAP DROPS')}`,
    `  fragments held ${thousands(e.fragmentsHeld)} (${mib(e.defragBytes)}/${mib(e.defragBytesMax)})${hit(e.datagramsEvicted, 'DATAGRAMS EVICTED')}; penalty box ${thousands(e.penaltySources)}${hit(e.penaltyFull, 'FULL')}${e.penaltySpared > 0 ? ` (${thousands(e.penaltySpared)} spared by never_block)` : ''}`,
    // Absent from daemons before it was added.
    ...(e.checksumsRefused > 0 ? [`  bad checksums refused ${thousands(e.checksumsRefused)} (kept out of the streams, as the host drops them: insertion decoys or corruption)`] : []),
  ];
}

/** The path of the first field that does not fit the shape, or null. */
function misfit(v: unknown, shape: Shape, path: string): string | null {
  const at = path || 'the result';
  if (typeof shape === 'string') {
    const ok = shape === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v) : typeof v === shape;
    return ok ? null : `${at} is ${v === undefined ? 'missing' : `not ${shape === 'object' ? 'an' : 'a'} ${shape}`}`;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(v)) return `${at} is ${v === undefined ? 'missing' : 'not a list'}`;
    for (let i = 0; i < v.length; i++) {
      const m = misfit(v[i], shape[0], `${at}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at} is ${v === undefined ? 'missing' : 'not an object'}`;
  for (const [k, sub] of Object.entries(shape)) {
    const m = misfit((v as Record<string, unknown>)[k], sub, path ? `${path}.${k}` : k);
    if (m) return m;
  }
  return null;
}

function malformedStatus(what: string): SecuxflowError {
  return new SecuxflowError('E_DAEMON', `malformed status reply from the daemon: ${what}`,
    'the daemon and this CLI may be of different versions: check `secuxflow --version` against the daemon\'s log, restart it (systemctl restart secuxflow@IFACE)');
}

export function checkLiveStatus(v: unknown): DaemonStatus {
  const m = misfit(v, LIVE_SHAPE, '');
  if (m) throw malformedStatus(m);
  if ((v as { daemon: { running: unknown } }).daemon.running !== true) throw malformedStatus('daemon.running is not true');
  return v as DaemonStatus;
}

const us = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)} ms` : `${Math.round(n)} µs`);

function schedulingText(s: DaemonStatus['queues'][number]['scheduling'] | undefined): string {
  if (!s) return '';
  const w = describeScheduling(s.wanted);
  return s.applied ? w : `${w} NOT APPLIED (see the log)`;
}

/** Alerts/events/log lines a module raised over its budgets; '-' from a daemon that does not count them. */
function dropped(m: DaemonStatus['modules'][number]): string {
  const n = [m.alertsDropped, m.eventsDropped, m.logsDropped];
  return n.every((x) => typeof x === 'number') ? n.map((x) => thousands(x!)).join('/') : '-';
}

export function describeLive(s: DaemonStatus): string {
  const out: string[] = [];
  out.push(`daemon: running (pid ${s.daemon.pid}, up ${s.daemon.uptimeSec} s, secuxflow ${s.daemon.version}), state ${s.daemon.stateDir}, config ${s.daemon.config ?? 'built-in defaults'}${typeof s.daemon.eve === 'string' ? `, eve ${s.daemon.eve}` : ''}`);
  out.push('interfaces:');
  out.push(table(s.interfaces.map((i) => [i.iface, i.role, `xdp ${i.xdpMode}${i.requestedMode !== i.xdpMode ? ` (asked ${i.requestedMode})` : ''}`, `fail-${i.fail}`, i.pinDir])));
  // live is absent from daemons before it was added: only an explicit false is a problem.
  for (const i of s.interfaces) if (i.live === false) out.push(`  ${i.iface}: NOT LIVE: ${i.problem ?? 'the kernel no longer runs secuxflow there'}; restart the daemon once it is back`);
  out.push('queues:');
  // A queue that is down has no sockets; its state and last error say why it is missing from the table.
  const down = s.queues.filter((q) => q.state !== undefined && q.state !== 'running');
  out.push(table(s.queues.filter((q) => !down.includes(q)).flatMap((q) => q.sockets.map((k) => [
    `${k.iface} q${k.queue}`, `bind ${k.bindMode}${k.fallbackReason ? ' (zero-copy unavailable)' : ''}`, `ring ${k.ringSize}`, `rx ${thousands(k.rxPackets)}`, `tx ${thousands(k.txPackets)}`,
    `ring drops ${thousands(k.rxRingFull + k.rxDropped)}`, `batch p99 ${us(q.batchP99Us)}`, schedulingText(q.scheduling),
  ]))));
  for (const q of down) out.push(`  q${q.queue}: ${q.state!.toUpperCase()}${q.lastError ? ` (last error: ${q.lastError})` : ''}; its packets get the fail policy meanwhile`);
  const k = s.kernel;
  out.push(`kernel: rx ${thousands(k.rx)} (${thousands(k.rxPps)} pkt/s), punted ${thousands(k.punt)} (${thousands(k.puntPps)} pkt/s), pass ${thousands(k.pass)}, drop ${thousands(k.drop)}${invalidNote(k.invalid)}, punt fallback ${thousands(k.puntFallback)}${k.passAll ? ', PASS-ALL ON' : ''}`);
  out.push(`verdicts: ${Object.entries(s.verdicts).map(([n, v]) => `${n} ${thousands(v)}`).join(', ')}`);
  out.push(`maps: flows ${thousands(s.maps.flows)}/${thousands(s.maps.flowsMax)}, penalty ${thousands(s.maps.penalty)}/${thousands(s.maps.penaltyMax)}, expired ${thousands(s.maps.expiredFlows)} flow entries (idle ${s.maps.flowTimeoutSec} s), ${thousands(s.maps.expiredPenalty)} penalty entries${mapsHint(s.maps.flows, s.maps.penalty)}`);
  out.push(`ring drops: ${thousands(s.ringDrops)}; verdict latency p99 ${us(s.verdictLatencyP99Us)}`);
  const w = s.writeBack;
  if (typeof w.writeErrors === 'number') {
    out.push(`write-back: flows allowed ${thousands(w.flowsAllowed ?? 0)}, blocked ${thousands(w.flowsBlocked ?? 0)}, capped ${thousands(w.flowsCapped ?? 0)}, penalty ${thousands(w.penaltyWrites ?? 0)}, rewrites ${thousands(w.rewrites ?? 0)}${(w.tunneledNotOffloaded ?? 0) > 0 ? `, tunnelled kept in user space ${thousands(w.tunneledNotOffloaded!)} (their packets stay punted)` : ''}${w.writeErrors > 0 ? `, FAILED ${thousands(w.writeErrors)} (a full map: those flows stay punted)` : ''}`);
  }
  if (s.engine) out.push(...boundsLines(s.engine));
  const leftOut = s.queues.reduce((n, q) => n + (q.dropRecordsLeftOut ?? 0), 0);
  if (leftOut > 0) out.push(`eve: ${thousands(leftOut)} drop records LEFT OUT (over 100 a second per queue; the drops are counted)`);
  const anomaliesLeftOut = s.queues.reduce((n, q) => n + (q.anomalyRecordsLeftOut ?? 0), 0);
  if (anomaliesLeftOut > 0) out.push(`eve: ${thousands(anomaliesLeftOut)} anomaly records LEFT OUT (over 100 a second per queue)`);
  out.push('modules:');
  out.push(s.modules.length === 0 ? '  (none)' : table([
    ['NAME', 'POLICY', 'RUNS IN', 'STATUS', 'PACKETS', 'MEAN/BATCH', 'P99/BATCH', 'TRAPS', 'DROPPED A/E/L'],
    ...s.modules.map((m) => [m.name, m.policy, m.isolation, m.status + (m.quarantineReason ? ` (${m.quarantineReason})` : ''), thousands(m.packets), us(m.meanBatchUs), us(m.p99BatchUs), String(m.traps), dropped(m)]),
  ]));
  out.push(`rules: ${s.rules.count} (default ${s.rules.defaultPolicy})`);
  return out.join('\n');
}

export function describeOffline(s: OfflineStatus): string {
  // Which directory was asked: a daemon started with another --state-dir (or SECUXFLOW_STATE_DIR) answers only there.
  const out = [s.daemon.stateDirExists
    ? `daemon: not running from ${s.daemon.stateDir} (start it with: secuxflow run --iface IF)`
    : `daemon: not running: the state directory ${s.daemon.stateDir} does not exist, so no daemon has run from it (a daemon started with --state-dir or SECUXFLOW_STATE_DIR answers to the same here)`];
  if (s.interfaces.length === 0) out.push(`attached: nothing${s.keptMaps?.length ? '' : ' (secuxflow attach --iface IF)'}`);
  for (const i of s.interfaces) {
    out.push(`${i.iface}: xdp ${i.mode}, fail-${i.fail}, ${i.live ? 'attached' : `NOT LIVE: ${i.problem}`}, pins ${i.pinDir}`);
    if (i.kernel) {
      const k = i.kernel;
      out.push(`  kernel: rx ${thousands(k.rx)}, pass ${thousands(k.pass)}, drop ${thousands(k.drop)}${invalidNote(k.invalid)}, punted ${thousands(k.punt)}, punt fallback ${thousands(k.puntFallback)}${k.passAll ? ', PASS-ALL ON (the daemon stopped with on_stop: pass-all: every packet passes, rules and fail mode unused, until the next run or attach)' : ''}`);
      out.push(`  maps: flows ${thousands(k.flows)}/${thousands(s.flowsMax)}, penalty ${thousands(k.penalty)}/${thousands(s.penaltyMax)}${mapsHint(k.flows, k.penalty)}`);
    } else if (i.kernelError) {
      out.push(`  kernel counters unavailable: ${i.kernelError}`);
    }
  }
  for (const k of s.keptMaps ?? []) {
    const held = k.flows === null ? 'unreadable' : `${thousands(k.flows)} flow verdict${k.flows === 1 ? '' : 's'}, ${thousands(k.penalty ?? 0)} penalty entr${k.penalty === 1 ? 'y' : 'ies'}`;
    out.push(`${k.iface}: not attached; maps kept in ${k.pinDir} (${held}) for the next run or attach there, which reuses them; secuxflow detach --iface ${k.iface} drops them`);
  }
  if (s.rules) out.push(`rules: ${s.rules.count} (default ${s.rules.defaultPolicy})`);
  else if (s.rulesError) out.push(`rules: unreadable: ${s.rulesError}`);
  return out.join('\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the daemon (interfaces, queues, rates, verdicts, maps, modules, rules), or the kernel state when it is not running')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('status', async (o: StatusCommandOptions) => {
      const s = await statusCommand(o);
      if (o.json) {
        printJson(s);
        return;
      }
      let text: string;
      try {
        text = s.daemon.running ? describeLive(s as DaemonStatus) : describeOffline(s as OfflineStatus);
      } catch (e) {
        // Only a reply checkLiveStatus let through can get here (a field it does not check).
        if (!s.daemon.running) throw e;
        throw malformedStatus(e instanceof Error ? e.message : String(e));
      }
      process.stdout.write(`${text}\n`);
    }));
}

/** How many of the drops were packets refused before the rules (stage `invalid`, docs/rules.md), when any were. */
function invalidNote(invalid: number): string {
  return invalid > 0 ? ` (${thousands(invalid)} invalid: tiny first fragments, IPv6 header chains too long)` : '';
}
