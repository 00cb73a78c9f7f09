// `secuxflow run`: attach (or reuse an attachment and its pins), start one
// worker_thread per RX queue, and on the main thread serve the control
// socket, expire kernel verdict state, aggregate status and handle signals.
// Stopping leaves the interface as the config says: detached (maps kept for
// the next start), or attached with the global pass-all switch on.
import { Worker } from 'node:worker_threads';
import { chownSync, closeSync, existsSync, fchownSync, fstatSync, openSync, unlinkSync, writeSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { StateStore, resolveStateDir } from '../state/store.js';
import { unmakeDirs } from '../fs/make-dirs.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { attach, detach, keptFailMode, listAttachments, type AttachmentStatus } from '../kernel/attach.js';
import { pinDir } from '../kernel/pins.js';
import { currentNetns, resolveIfindex } from '../kernel/iface.js';
import { linkMtu, linkRxQueues as rxQueuesOf } from '../kernel/link-facts.js';
import { assertIfaceName } from '../kernel/ifname.js';
import { MapName, SF, SfConfig, SfStat } from '../kernel/codec.js';
import { flowSelectorFrom } from '../flow/selector.js';
import { parsePenaltyEntry } from '../kernel/penalty-entry.js';
import { describeReplacedPins } from '../kernel/kept-pins.js';
import { objectDigest } from '../kernel/object-digest.js';
import { closeFd, mapDump, mapInfo, objGet, type XdpMode } from '../kernel/native.js';
import { readConfigValue, writeConfig } from '../kernel/config.js';
import { kernelPacketCounts, readStats, type KernelPacketCounts } from '../kernel/verdictmaps.js';
import type { XskBindMode } from '../kernel/xsk.js';
import { ControlServer } from '../control/server.js';
import { controlSocketPath } from '../control/protocol.js';
import { explainStateDirTaken } from './state-dir-owner.js';
import { loadDaemonConfig, resolveGroup, type DaemonConfig } from './config.js';
import { moduleSpecsFor, readModuleConfig, specRef, type ModuleSpec } from './modules.js';
import { VerdictExpiry } from './expiry.js';
import { daemonStatsRecord } from '../eve/daemon-stats.js';
import { jsonLogger, type Logger } from './log.js';
import { queueWorkerEntry } from './worker-entry.js';
import type { EngineBounds } from '../engine/types.js';
import type { FromWorker, QueueThreadInit, ToWorker, WorkerStatus } from './thread-protocol.js';
import { DEFAULT_SANDBOX_LIMITS, parsePolicy } from '../sandbox/limits.js';
import { CallWatch, newWatchCells, watchIntervalMs } from './watchdog.js';
import { VERSION } from '../../cli/version.js';
import { refuseStateFileOutputs } from '../state/own-files.js';

export interface RunOptions {
  iface: string;
  peer?: string;
  mode: XdpMode;
  bindMode?: XskBindMode;
  queues?: number;
  configPath?: string;
  stateDir?: string;
  eve?: string;
  log?: Logger;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; embedded uses may not). */
  signals?: boolean;
}

interface Side {
  iface: string;
  role: 'protected' | 'peer';
  record: AttachmentStatus;
  attachedNow: boolean;
  /** The live attachment this start re-attached in another mode: a failed start puts it back. */
  before: AttachmentStatus | null;
  /** The maps were made by this start (none were pinned before): a failed first start removes them. */
  mapsCreated: boolean;
  /** Why the kernel no longer runs our program on the interface (deleted, detached, replaced), or null. */
  problem: string | null;
  fds: { config: number; flows: number; penalty: number; stats: number };
  /** Id of the stats map the daemon opened: another id pinned means the interface was attached anew, with new maps. */
  statsMapId: number;
}

interface QueueThread {
  queue: number;
  worker: Worker;
  alive: boolean;
  status: WorkerStatus | null;
  /** Reads the queue's module-call stamp; names maps its ids to modules. */
  watch: CallWatch;
  moduleNames: Map<number, string>;
  /** The module the watchdog terminated this thread for (its restart is under way), or null. */
  overrun: string | null;
  /** Why the queue is down (its exit, then each failed restart), shown by status while it restarts. */
  lastError: string | null;
}

interface Sample {
  atMs: number;
  rx: number;
  punt: number;
}

/** How the problem of an interface attached anew under the daemon begins (told apart from a lost program). */
const MAPS_REPLACED = 'secuxflow was attached anew to';

function restartHint(iface: string): string {
  return `restart the daemon so it opens the new maps and binds its sockets there (systemctl restart secuxflow@${iface}, or kill -TERM its pid and run it again); next time, stop it before detaching`;
}

/** How often the daemon checks that its interfaces still run its program. */
const SIDE_CHECK_MS = 2000;

function rxQueueCount(iface: string): number {
  return Math.max(1, Math.min(rxQueuesOf(iface) ?? 1, SF.MAX_QUEUES));
}

export class Daemon {
  private readonly log: Logger;
  private readonly stateDir: string;
  private readonly store: StateStore;
  /** The levels of the state directory this start made, removed again (while empty) if it fails. */
  private madeDirs: string[] = [];
  private config: DaemonConfig;
  private rules: RuleSet;
  private specs: ModuleSpec[];
  private sides: Side[] = [];
  private threads: QueueThread[] = [];
  private control: ControlServer | null = null;
  private expiry: VerdictExpiry | null = null;
  private peerExpiry: VerdictExpiry[] = [];
  private timers: NodeJS.Timeout[] = [];
  private restarts: number[] = [];
  /** Modules that overran their CPU budget in a queue thread: from then on each runs in its own sandbox worker. */
  private readonly isolated = new Set<string>();
  private eveFd = -1;
  private evePath = '';
  /** The EVE file this start created: a failed start removes it while it is still empty. */
  private eveCreated: string | null = null;
  /** Queues the daemon runs (fixed at start); a change needs every one of them. */
  private queueCount = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  /** A stats record is being made (status() asks every queue): the next tick waits for none. */
  private statsPending = false;
  private nextId = 1;
  private readonly waiting = new Map<number, { t: QueueThread; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Every queue thread from its start to its exit, ready or not: what the watchdog looks at. */
  private readonly watched = new Set<QueueThread>();
  private samples: Sample[] = [];
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | null = null;
  /** True until the start is complete; a stop or reload asked for meanwhile waits for it. */
  private booting = true;
  private stopAfterBoot: string | null = null;
  private reloadAfterBoot = false;
  /** Serialises control changes (rules, modules, config) so two never interleave across workers. */
  private changeChain: Promise<unknown> = Promise.resolve();
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  private constructor(private readonly opts: RunOptions) {
    this.log = opts.log ?? jsonLogger();
    this.stateDir = resolveStateDir(opts.stateDir);
    this.store = new StateStore(this.stateDir);
    this.config = loadDaemonConfig(opts.configPath);
    if (opts.peer !== undefined) this.config.peer = opts.peer;
    this.rules = this.store.readRules();
    this.specs = moduleSpecsFor(this.config, this.stateDir);
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  static async start(opts: RunOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    // From the first moment: by default a SIGTERM, SIGINT or SIGHUP during
    // the start would kill the process half way, attached with nothing
    // bound and nothing undone.
    if (opts.signals !== false) d.installSignals();
    try {
      await d.boot();
    } catch (e) {
      await d.teardown('startup failed', false);
      throw e;
    }
    d.booting = false;
    if (d.stopAfterBoot !== null) void d.stop(d.stopAfterBoot);
    else if (d.reloadAfterBoot) d.reloadOnSignal();
    return d;
  }

  /**
   * Everything a start can refuse without touching the interface is checked
   * here, first: a refusal after attaching would leave pins and records.
   */
  private preflight(): number {
    this.checkRulesAgainst(this.rules, this.loadedNames(), (rule) =>
      `load it in the daemon config's modules, or delete or change the rule (secuxflow rule delete --id ${rule.id})`);
    const peer = this.config.peer;
    const peerLabel = this.opts.peer !== undefined ? '--peer' : `peer in ${this.config.source ?? 'the config'}`;
    if (peer !== null) {
      assertIfaceName(peer, peerLabel);
      if (peer === this.opts.iface) {
        throw new SecuxflowError('E_USAGE', `${peerLabel} ${JSON.stringify(peer)} is the protected interface (--iface) itself`, 'inline mode bridges two interfaces: name the second one');
      }
    }
    resolveIfindex(this.opts.iface);
    if (peer !== null) resolveIfindex(peer);
    const queues = this.opts.queues ?? rxQueueCount(this.opts.iface);
    for (const iface of peer !== null ? [this.opts.iface, peer] : [this.opts.iface]) {
      const has = rxQueuesOf(iface);
      if (this.opts.queues !== undefined && has !== null && this.opts.queues > has) {
        throw new SecuxflowError('E_USAGE', `--queues ${this.opts.queues} is more than the ${has} RX queue${has === 1 ? '' : 's'} of ${iface}`,
          `use --queues ${has} or fewer, or leave it out to read all of them`);
      }
    }
    return queues;
  }

  /** Opens (creating if need be) the EVE file before anything is attached, so a bad --eve costs nothing. */
  private openEve(): string {
    const eve = this.opts.eve ?? join(this.stateDir, 'eve.json');
    if (this.opts.eve !== undefined) refuseStateFileOutputs(this.stateDir, [{ flag: '--eve', path: eve }]);
    const existed = existsSync(eve);
    this.eveFd = openEveFile(eve);
    if (!existed) this.eveCreated = eve;
    this.shareEve(this.config.controlGroup);
    return eve;
  }

  /**
   * Gives the EVE file to control_group (mode 0640), as the control socket:
   * its members can ask the daemon for `status`, so `alerts` (which reads
   * this file) must work for them too. Only a regular file: never /dev/null.
   * Without a control_group the file's group is left as it is (a log
   * shipper's, say), unless a reload took the group away (`revert`). A
   * failure is logged; the records are still written.
   */
  private shareEve(group: DaemonConfig['controlGroup'], revert = false): void {
    if ((group === null && !revert) || this.eveFd < 0 || !fstatSync(this.eveFd).isFile()) return;
    try {
      const gid = group !== null ? resolveGroup(group) : process.getgid?.() ?? 0;
      fchownSync(this.eveFd, process.getuid?.() ?? 0, gid);
    } catch (e) {
      this.log('warn', 'EVE file not given to the control group: its members cannot read alerts', { eve: this.evePath, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * logrotate's usual recipe renames the file and sends SIGHUP (Suricata
   * reopens its logs then too): the path is opened anew. When it cannot be,
   * the open file keeps being written, so no record is lost.
   */
  private reopenEve(): void {
    if (this.evePath === '' || this.eveFd < 0) return;
    let fd: number;
    try {
      fd = openEveFile(this.evePath);
    } catch (e) {
      this.log('warn', 'EVE file not reopened: writing on to the one already open', { eve: this.evePath, error: e instanceof SecuxflowError ? e.message : String(e) });
      return;
    }
    closeSync(this.eveFd);
    this.eveFd = fd;
    this.shareEve(this.config.controlGroup);
    this.log('info', 'EVE file reopened', { eve: this.evePath });
  }

  private async boot(): Promise<void> {
    const queues = this.preflight();
    this.queueCount = queues;
    this.madeDirs = this.store.ensureDir();
    const eve = this.openEve();
    this.evePath = eve;
    const sockPath = controlSocketPath(this.stateDir);
    // Refuse early when another daemon owns this state directory.
    try {
      this.control = await ControlServer.listen({
        path: sockPath,
        handlers: {
          status: () => this.status(),
          'rules.reload': () => this.change(() => this.reloadRules()),
          'modules.list': async () => (await this.status()).modules,
          'modules.load': (p) => this.change(() => this.loadModule(p)),
          'modules.unload': (p) => this.change(() => this.unloadModule(p)),
          'config.reload': () => this.change(() => this.reloadConfig()),
          'penalty.release': (p) => this.change(() => this.releaseSources(p)),
          'flow.release': (p) => this.change(() => this.releaseFlows(p)),
          shutdown: () => {
            setImmediate(() => void this.stop('shutdown request'));
            return { stopping: true };
          },
        },
        onError: (m) => this.log('warn', m),
        ...(this.config.controlGroup !== null ? { gid: resolveGroup(this.config.controlGroup) } : {}),
      });
    } catch (e) {
      throw await explainStateDirTaken(e, this.stateDir, this.opts.iface);
    }

    this.sides.push(await this.attachSide(this.opts.iface, 'protected'));
    if (this.config.peer) this.sides.push(await this.attachSide(this.config.peer, 'peer'));
    const main = this.sides[0]!;
    const expiryOf = (s: Side): VerdictExpiry => new VerdictExpiry(
      { [MapName.CONFIG]: s.fds.config, [MapName.FLOWS]: s.fds.flows, [MapName.PENALTY]: s.fds.penalty },
      this.config.flowTimeoutSec * 1000,
    );
    this.expiry = expiryOf(main);
    this.peerExpiry = this.sides.slice(1).map(expiryOf);

    // The watchdog runs before the queues start: their modules load in their threads too.
    if (this.config.moduleIsolation === 'thread') this.timers.push(setInterval(() => this.watchCalls(), watchIntervalMs(DEFAULT_SANDBOX_LIMITS.cpuBudgetMs)));
    for (let q = 0; q < queues; q++) this.threads.push(await this.startQueueOnce(q));

    // The daemon is up: punted packets have a reader again.
    for (const s of this.sides) writeConfig(s.fds.config, SfConfig.PASS_ALL, 0);
    this.sweepTimer = setInterval(() => this.sweep(), this.config.expiryIntervalSec * 1000);
    this.scheduleStats();
    this.timers.push(setInterval(() => this.sample(), 1000));
    this.sample();
    this.timers.push(setInterval(() => this.checkSides(), SIDE_CHECK_MS));
    this.warnUnreadQueues(queues);
    this.warnUnpuntable();
    this.log('info', 'daemon started', {
      iface: this.opts.iface, peer: this.config.peer, queues, mode: main.record.mode, stateDir: this.stateDir,
      control: sockPath, eve, modules: this.specs.map((s) => s.name), rules: this.rules.rules.length, config: this.config.source,
    });
  }

  /**
   * A packet punted on a queue no socket reads gets the fail mode, like a
   * packet with the daemon down: the operator must know that --queues (or
   * the 64-queue limit) leaves part of the traffic uninspected.
   */
  private warnUnreadQueues(queues: number): void {
    for (const s of this.sides) {
      const has = rxQueuesOf(s.iface);
      if (has === null || has <= queues) continue;
      const unread = has - queues === 1 ? `RX queue ${queues} of ${s.iface} is` : `RX queues ${queues}..${has - 1} of ${s.iface} are`;
      this.log('warn', `${unread} not read: what they punt gets the fail mode (fail-${s.record.fail}: ${s.record.fail === 'open' ? 'passed uninspected' : 'dropped'}), counted as punt fallback`, {
        iface: s.iface, queuesRead: queues, rxQueues: has, fail: s.record.fail,
        hint: has <= SF.MAX_QUEUES ? `leave --queues out to read all ${has}, or steer the inspected traffic to queues 0..${queues - 1} (ethtool -X/-N)` : `at most ${SF.MAX_QUEUES} queues are read: steer the inspected traffic to them (ethtool -X/-N)`,
      });
    }
  }

  /**
   * A frame longer than a socket frame takes (SF_PUNT_MAX_FRAME) is not
   * punted but gets the fail mode. On a jumbo MTU that is every long frame
   * of an inspected flow; in skb mode also the GSO segments (up to 64 KiB) a
   * local sender such as a container's veth hands over whole.
   */
  private warnUnpuntable(): void {
    for (const s of this.sides) {
      const mtu = linkMtu(s.iface);
      // Ethernet header and two VLAN tags on top of the MTU.
      const jumbo = mtu !== null && mtu + 14 + 8 > SF.PUNT_MAX_FRAME;
      if (!jumbo && s.record.mode !== 'skb') continue;
      const what = jumbo ? `${s.iface} has MTU ${mtu}: frames` : `${s.iface} is in skb mode: GSO segments from local senders (veth, tap)`;
      this.log('warn', `${what} longer than ${SF.PUNT_MAX_FRAME} bytes cannot be punted; they get the fail mode (fail-${s.record.fail}: ${s.record.fail === 'open' ? 'passed uninspected' : 'dropped'}), counted as punt fallback`, {
        iface: s.iface, mtu, mode: s.record.mode, puntMaxFrame: SF.PUNT_MAX_FRAME, fail: s.record.fail,
        hint: jumbo ? `an MTU of at most ${SF.PUNT_MAX_FRAME - 22} keeps every frame inspectable` : 'native mode, where the driver supports it, receives no GSO segments',
      });
    }
  }

  private async attachSide(iface: string, role: Side['role']): Promise<Side> {
    const netns = currentNetns();
    const recorded = listAttachments(this.stateDir).find((a) => a.iface === iface && a.netns === netns);
    const existing = recorded?.live ? recorded : undefined;
    let attachedNow = false;
    let mapsCreated = false;
    // A live attachment of another build (an upgrade since it was made) is replaced: its program and maps fit that build.
    const otherBuild = existing !== undefined && existing.objectDigest !== objectDigest();
    if (otherBuild) this.log('info', 'the attached XDP program is from another build of secuxflow: attaching this one', { iface, attached: existing.objectDigest ?? null });
    if (!existing || otherBuild || (this.opts.mode !== 'auto' && this.opts.mode !== existing.mode)) {
      // The operator's --fail outlives the daemon's own stops: a record says
      // it, and after a stop (detach, maps kept) the kept config map does.
      const fail = recorded?.fail ?? keptFailMode(pinDir(iface)) ?? 'open';
      const r = await attach({ iface, mode: this.opts.mode, fail, stateDir: this.stateDir });
      attachedNow = true;
      mapsCreated = r.reusedMaps.length === 0;
      this.log('info', 'attached', { iface, mode: r.mode, fail, fallbackReason: r.fallbackReason, reusedMaps: r.reusedMaps.length, reattached: r.reattached });
      if (r.replacedPins.length > 0) this.log('warn', describeReplacedPins(r.replacedPins), { iface, maps: r.replacedPins });
      if (r.obsoletePinsRemoved.length > 0) this.log('info', 'unpinned maps an older version left and this one does not use', { iface, maps: r.obsoletePinsRemoved });
    } else {
      this.log('info', 'reusing attachment', { iface, mode: existing.mode, pinDir: existing.pinDir });
    }
    const record = listAttachments(this.stateDir).find((a) => a.iface === iface && a.netns === netns);
    if (!record || !record.live) {
      throw new SecuxflowError('E_NOT_ATTACHED', `secuxflow is not attached to ${iface} after attaching: ${record?.problem ?? 'no record'}`);
    }
    const open = (name: string): number => objGet(join(record.pinDir, name));
    const fds = { config: open(MapName.CONFIG), flows: open(MapName.FLOWS), penalty: open(MapName.PENALTY), stats: open(MapName.STATS) };
    const before = attachedNow && existing !== undefined ? existing : null;
    return { iface, role, record, attachedNow, before, mapsCreated, problem: null, fds, statsMapId: mapInfo(fds.stats).id };
  }

  private startQueue(queue: number): Promise<QueueThread> {
    const main = this.sides[0]!;
    const peer = this.sides[1];
    const init: QueueThreadInit = {
      iface: main.iface, queue, pinDir: main.record.pinDir, bindMode: this.opts.bindMode ?? 'auto',
      peer: peer ? { iface: peer.iface, pinDir: peer.record.pinDir } : null,
      stateDir: this.stateDir, config: this.config, rules: this.rules, modules: this.queueSpecs(this.specs), watch: newWatchCells(),
    };
    const entry = queueWorkerEntry();
    const worker = new Worker(entry.file, { argv: entry.argv, workerData: init });
    const t: QueueThread = { queue, worker, alive: false, status: null, watch: new CallWatch(init.watch), moduleNames: new Map(), overrun: null, lastError: null };
    this.watched.add(t);
    return new Promise((resolve, reject) => {
      const onStart = (m: FromWorker): void => {
        if (m.type === 'ready') {
          t.alive = true;
          worker.off('message', onStart);
          this.log('info', 'queue ready', { queue, sockets: m.sockets.map((s) => ({ iface: s.iface, bindMode: s.bindMode, fallbackReason: s.fallbackReason })), delivery: m.delivery });
          resolve(t);
        } else if (m.type === 'fatal') {
          worker.off('message', onStart);
          void worker.terminate();
          reject(new SecuxflowError(m.error.code as SecuxflowError['code'], `queue ${queue}: ${m.error.message}`, m.error.hint));
        }
      };
      worker.on('message', onStart);
      worker.on('message', (m: FromWorker) => this.fromWorker(t, m));
      worker.on('error', (e) => {
        this.log('error', 'queue worker failed', { queue, error: e.message });
        if (!t.alive) reject(new SecuxflowError('E_INTERNAL', `queue ${queue} worker failed to start: ${e.message}`));
      });
      worker.on('exit', (code) => {
        const was = t.alive;
        t.alive = false;
        this.watched.delete(t);
        for (const [id, w] of this.waiting) {
          if (w.t !== t) continue;
          this.waiting.delete(id);
          clearTimeout(w.timer);
          w.reject(new SecuxflowError('E_DAEMON', `queue ${queue} worker exited before answering${t.overrun !== null ? ` (module ${t.overrun} overran its CPU budget)` : ''}`));
        }
        if (was && this.stopping === null) {
          t.lastError = t.overrun !== null ? `module ${t.overrun} overran its CPU budget` : `worker exited (${code})`;
          if (!t.overrun) this.log('error', 'queue worker exited; its queue gets the fail policy until it is back', { queue, code });
          this.restartQueue(t);
        }
        if (!was && t.overrun !== null) {
          reject(new SecuxflowError('E_MODULE_LIMIT', `queue ${queue}: module ${t.overrun} did not finish loading or its first calls within its budget`, 'it runs in a sandbox worker from now on'));
        } else if (!was) {
          reject(new SecuxflowError('E_INTERNAL', `queue ${queue} worker exited (${code}) before it was ready`));
        }
      });
    });
  }

  /** Starts a queue; when a module hung while loading in it, once more with that module sandboxed. */
  private async startQueueOnce(queue: number): Promise<QueueThread> {
    try {
      return await this.startQueue(queue);
    } catch (e) {
      if (!(e instanceof SecuxflowError) || e.code !== 'E_MODULE_LIMIT') throw e;
      return this.startQueue(queue);
    }
  }

  /**
   * A worker that died (a native fault, an uncaught bug) is started again,
   * with a growing delay so a worker that cannot start does not spin. Its
   * socket went with it, so meanwhile the kernel's punt fallback applies.
   */
  private restartQueue(dead: QueueThread): void {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    this.restarts.push(now);
    const delay = Math.min(30_000, 500 * 2 ** (this.restarts.length - 1));
    const timer = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== timer);
      if (this.stopping !== null) return;
      // In the change chain: a queue never starts from the rules, config and
      // modules of a change that is half way through its two phases.
      this.change(async () => {
        const t = await this.startQueue(dead.queue);
        const i = this.threads.indexOf(dead);
        if (i >= 0) this.threads[i] = t;
        else this.threads.push(t);
        this.log('info', 'queue worker restarted', { queue: dead.queue });
      }).catch((e: unknown) => {
        dead.lastError = `restart failed: ${e instanceof Error ? e.message : String(e)}`;
        this.log('error', 'queue worker restart failed', { queue: dead.queue, error: e instanceof Error ? e.message : String(e) });
        this.restartQueue(dead);
      });
    }, delay);
    this.timers.push(timer);
  }

  /** Where each module of a queue runs: in the queue's thread, unless the config or an earlier overrun says a worker. */
  private queueSpecs(specs: readonly ModuleSpec[]): ModuleSpec[] {
    const inThread = this.config.moduleIsolation === 'thread';
    return specs.map((s) => ({ ...s, isolation: inThread && !this.isolated.has(s.name) ? 'thread' : 'worker' }));
  }

  /**
   * The watchdog's round: a module call past its budget takes its queue thread
   * down (a WASM loop cannot be interrupted any other way); the queue restarts
   * with that module in a sandbox worker. Meanwhile the kernel's punt fallback
   * applies to the queue, as for any queue restart.
   */
  private watchCalls(): void {
    for (const t of this.watched) {
      if (t.overrun !== null) continue;
      const o = t.watch.overrun();
      if (o === null) continue;
      const name = t.moduleNames.get(o.moduleId) ?? `module #${o.moduleId}`;
      t.overrun = name;
      this.isolated.add(name);
      this.log('error', 'module call over its CPU budget: queue restarted, the module now runs in its own sandbox worker', {
        queue: t.queue, module: name, elapsedMs: Math.round(o.elapsedMs), budgetMs: o.budgetMs,
      });
      void t.worker.terminate();
    }
  }

  private fromWorker(t: QueueThread, m: FromWorker): void {
    switch (m.type) {
      case 'module-id':
        t.moduleNames.set(m.id, m.name);
        return;
      case 'eve':
        if (this.eveFd >= 0) writeSync(this.eveFd, `${m.lines.join('\n')}\n`);
        return;
      case 'log':
        this.log(m.level, m.msg, m.fields);
        return;
      case 'reply': {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        clearTimeout(w.timer);
        if (m.ok) w.resolve(m.result);
        else w.reject(new SecuxflowError(m.error.code as SecuxflowError['code'], `queue ${t.queue}: ${m.error.message}`, m.error.hint));
        return;
      }
      default:
        return;
    }
  }

  private ask(t: QueueThread, msg: Omit<ToWorker, 'id'>, timeoutMs = 60_000): Promise<unknown> {
    if (!t.alive) return Promise.reject(new SecuxflowError('E_DAEMON', `queue ${t.queue} worker is not running`, 'restart the daemon'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SecuxflowError('E_DAEMON', `queue ${t.queue} did not answer ${msg.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { t, resolve, reject, timer });
      t.worker.postMessage({ ...msg, id } as ToWorker);
    });
  }

  /**
   * A change checked by only the live queues is not checked at all for a
   * queue that is down: it would restart into the change and might never
   * start again. So every configured queue must be running to prepare it.
   */
  private assertAllQueuesUp(): void {
    if (this.threads.length < this.queueCount) {
      throw new SecuxflowError('E_DAEMON', `the daemon is still starting its queues (${this.threads.length} of ${this.queueCount} up); nothing was changed`, 'try again in a moment');
    }
    const down = this.threads.find((t) => !t.alive);
    if (down) {
      throw new SecuxflowError('E_DAEMON', `queue ${down.queue} is restarting${down.lastError ? ` (${down.lastError})` : ''}; nothing was changed`,
        `queue ${down.queue} is restarting; try again in a moment (secuxflow status shows each queue's state)`);
    }
  }

  private askAll(msg: Omit<ToWorker, 'id'>): Promise<unknown[]> {
    return Promise.all(this.threads.filter((t) => t.alive).map((t) => this.ask(t, msg)));
  }

  private change<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.changeChain.then(fn, fn);
    this.changeChain = next.catch(() => undefined);
    return next;
  }

  // ---- control operations ----

  private loadedNames(): string[] {
    return this.specs.map((s) => s.name);
  }

  private checkRulesAgainst(rules: RuleSet, names: readonly string[], hint?: (rule: Rule) => string): void {
    for (const rule of rules.rules) {
      for (const m of rule.modules) {
        if (!names.includes(m)) {
          throw new SecuxflowError('E_MODULE_NOT_FOUND', `rule ${rule.id} inspects with module "${m}", which the daemon has not loaded`,
            hint?.(rule) ?? `load it (secuxflow module load FILE --name ${m}) or change the rule`);
        }
      }
    }
  }

  private async reloadRules(): Promise<unknown> {
    const rules = this.store.readRules();
    this.checkRulesAgainst(rules, this.loadedNames());
    await this.applyChange({ rules });
    this.rules = rules;
    this.log('info', 'rules reloaded', { rules: rules.rules.length, defaultPolicy: rules.defaultPolicy });
    return { rules: rules.rules.length };
  }

  /**
   * Every queue prepares the change first (loads added modules, builds its
   * engine); only when all of them could does any switch. A failure anywhere
   * leaves every queue as it was.
   */
  private async applyChange(change: { rules?: RuleSet; config?: DaemonConfig; add?: ModuleSpec[]; remove?: string[] }): Promise<void> {
    this.assertAllQueuesUp();
    const prepare = { op: 'change.prepare', rules: change.rules ?? null, config: change.config ?? null, add: this.queueSpecs(change.add ?? []), remove: change.remove ?? [] };
    try {
      await this.askAll(prepare as Omit<ToWorker, 'id'>);
    } catch (e) {
      await this.askAll({ op: 'change.abort' } as Omit<ToWorker, 'id'>).catch(() => undefined);
      throw e;
    }
    // Every queue prepared, so the change is made. A queue that cannot
    // commit (it died meanwhile) is stopped and restarts from the daemon's
    // state, which the caller brings to the change before that restart runs.
    const alive = this.threads.filter((t) => t.alive);
    const commits = await Promise.allSettled(alive.map((t) => this.ask(t, { op: 'change.commit' } as Omit<ToWorker, 'id'>)));
    commits.forEach((c, i) => {
      if (c.status === 'fulfilled') return;
      const t = alive[i]!;
      this.log('error', 'queue could not take a prepared change; restarting it with the new state', { queue: t.queue, error: c.reason instanceof Error ? c.reason.message : String(c.reason) });
      void t.worker.terminate();
    });
    const add = change.add ?? [];
    const remove = change.remove ?? [];
    if (add.length > 0 || remove.length > 0) {
      const addNames = add.map((a) => a.name);
      this.specs = [...this.specs.filter((s) => !remove.includes(s.name) && !addNames.includes(s.name)), ...add];
    }
  }

  private async applyModules(add: ModuleSpec[], remove: string[]): Promise<string[]> {
    await this.applyChange({ add, remove });
    return this.loadedNames();
  }

  private async loadModule(p: Record<string, unknown>): Promise<unknown> {
    if (typeof p.name !== 'string' || p.name === '') throw new SecuxflowError('E_USAGE', 'modules.load needs "name" (a registered or shipped module, or a file path)');
    if (p.config !== undefined && typeof p.config !== 'string') throw new SecuxflowError('E_USAGE', 'modules.load: "config" must be a file path');
    const policy = p.policy === undefined ? null : parsePolicy(p.policy, 'modules.load policy');
    const spec: ModuleSpec = { ...specRef(p.name, this.stateDir), configText: typeof p.config === 'string' ? readModuleConfig(p.config, p.name, 'the modules.load request') : null, configPath: typeof p.config === 'string' ? p.config : null, policy };
    const modules = await this.applyModules([spec], []);
    this.log('info', 'module loaded', { module: spec.name, modules });
    return { modules };
  }

  private async unloadModule(p: Record<string, unknown>): Promise<unknown> {
    if (typeof p.name !== 'string' || p.name === '') throw new SecuxflowError('E_USAGE', 'modules.unload needs "name"');
    const name = p.name;
    if (!this.loadedNames().includes(name)) {
      throw new SecuxflowError('E_MODULE_NOT_FOUND', `module ${name} is not loaded in the daemon`, `loaded: ${this.loadedNames().join(', ') || 'none'}`);
    }
    const users = this.rules.rules.filter((r) => r.modules.includes(name)).map((r) => r.id);
    if (users.length > 0) {
      // A state conflict, as the CLI reports it before asking (E_MODULE_IN_USE), not a missing module.
      throw new SecuxflowError('E_MODULE_IN_USE', `module ${name} is used by rule${users.length === 1 ? '' : 's'} ${users.join(', ')}: unloading it would leave ${users.length === 1 ? 'that rule' : 'those rules'} without an inspector`,
        `delete or change ${users.length === 1 ? 'the rule' : 'the rules'} first: secuxflow rule delete --id ${users[0]}`);
    }
    const modules = await this.applyModules([], [name]);
    this.log('info', 'module unloaded', { module: name, modules });
    return { modules };
  }

  /**
   * `secuxflow block delete/clear` took sources out of the kernel's penalty
   * box; each queue's engine keeps a box of its own for the packets it is
   * punted, so it forgets them too, or their punted packets stay dropped.
   */
  private async releaseSources(p: Record<string, unknown>): Promise<unknown> {
    const list = p.addresses;
    if (list !== null && (!Array.isArray(list) || list.length === 0 || list.length > SF.MAX_PENALTY || !list.every((a) => typeof a === 'string'))) {
      throw new SecuxflowError('E_USAGE', 'penalty.release needs "addresses": a list of IP addresses (or IPv6 /64s), or null for all');
    }
    const addrs = list === null ? null : (list as string[]).map(parsePenaltyEntry);
    const r = await this.releaseInQueues({ op: 'penalty.release', addrs } as Omit<ToWorker, 'id'>);
    this.log('info', 'penalty box released', { addresses: list ?? 'all', engineEntries: r.released });
    return r;
  }

  /** Sends a release to every queue; how many queues answered, and the entries their engines released. */
  private async releaseInQueues(m: Omit<ToWorker, 'id'>): Promise<{ queues: number; released: number }> {
    const replies = await this.askAll(m);
    const released = replies.reduce((n: number, r) => n + ((r as { released?: number } | null)?.released ?? 0), 0);
    return { queues: replies.length, released };
  }

  /**
   * `secuxflow flow delete/clear` deleted kernel flow entries; each queue's
   * engine still holds those flows' verdicts, and would repeat them (and
   * write them back) at the flows' next punted packets.
   */
  private async releaseFlows(p: Record<string, unknown>): Promise<unknown> {
    const selector = flowSelectorFrom(p);
    const r = await this.releaseInQueues({ op: 'flow.release', selector } as Omit<ToWorker, 'id'>);
    this.log('info', 'flow verdicts released', { ...selector, engineFlows: r.released });
    return r;
  }

  private async reloadConfig(): Promise<unknown> {
    // Everything is validated before anything changes: a bad file keeps the old config.
    const next = loadDaemonConfig(this.opts.configPath);
    if (this.opts.peer !== undefined) next.peer = this.opts.peer;
    if ((next.peer ?? null) !== (this.config.peer ?? null)) {
      throw new SecuxflowError('E_USAGE', `the inline peer cannot change while running (${this.config.peer ?? 'none'} -> ${next.peer ?? 'none'})`, 'restart the daemon to change it');
    }
    if (next.ringSize !== this.config.ringSize) {
      throw new SecuxflowError('E_USAGE', `ring_size cannot change while running (${this.config.ringSize} -> ${next.ringSize})`, 'restart the daemon to change it');
    }
    if (next.moduleIsolation !== this.config.moduleIsolation) {
      throw new SecuxflowError('E_USAGE', `module_isolation cannot change while running (${this.config.moduleIsolation} -> ${next.moduleIsolation})`, 'restart the daemon to change it');
    }
    // Resolved now so a group the next start would refuse is refused here too.
    const gid = next.controlGroup !== null ? resolveGroup(next.controlGroup) : null;
    const specs = moduleSpecsFor(next, this.stateDir);
    this.checkRulesAgainst(this.rules, specs.map((s) => s.name));
    // Modules and config in one change: a module that cannot start leaves
    // every queue on the old config too, not on half of the new one.
    const removed = this.specs.filter((s) => !specs.some((n) => n.name === s.name)).map((s) => s.name);
    const changed = specs.filter((n) => !this.specs.some((s) => JSON.stringify(s) === JSON.stringify(n)));
    await this.applyChange({ config: next, add: changed, remove: removed });
    const old = this.config;
    this.config = next;
    for (const e of [this.expiry, ...this.peerExpiry]) e?.setIdleTimeout(next.flowTimeoutSec * 1000);
    if (next.expiryIntervalSec !== old.expiryIntervalSec && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = setInterval(() => this.sweep(), next.expiryIntervalSec * 1000);
    }
    if (next.statsIntervalSec !== old.statsIntervalSec) this.scheduleStats();
    if (next.controlGroup !== old.controlGroup) {
      // Without a control_group the socket goes back to the daemon's own group, as at a start without one.
      try {
        chownSync(controlSocketPath(this.stateDir), process.getuid?.() ?? 0, gid ?? process.getgid?.() ?? 0);
      } catch (e) {
        this.log('error', 'control socket group not changed', { error: e instanceof Error ? e.message : String(e) });
      }
      this.shareEve(next.controlGroup, true);
    }
    this.log('info', 'config reloaded', { config: next.source, modules: this.loadedNames() });
    return { config: next.source, modules: this.loadedNames() };
  }

  // ---- periodic work ----

  /** (Re)starts the EVE stats records at the configured interval (none at 0). */
  private scheduleStats(): void {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    const sec = this.config.statsIntervalSec;
    if (sec > 0) this.statsTimer = setInterval(() => void this.writeStats(), sec * 1000);
  }

  /** One EVE stats record, when eve_types has stats; a failure is logged, never fatal. */
  private async writeStats(): Promise<void> {
    if (this.statsPending || !this.config.eveTypes.includes('stats') || this.eveFd < 0) return;
    this.statsPending = true;
    try {
      const record = daemonStatsRecord(await this.status(), Date.now());
      if (this.eveFd >= 0 && this.stopping === null) writeSync(this.eveFd, `${JSON.stringify(record)}\n`);
    } catch (e) {
      this.log('warn', 'EVE stats record not written', { error: e instanceof Error ? e.message : String(e) });
    } finally {
      this.statsPending = false;
    }
  }

  private sweep(): void {
    try {
      const r = this.expiry!.sweep();
      if (r.flowsExpired > 0 || r.penaltyExpired > 0) this.log('info', 'expired kernel entries', { flows: r.flowsExpired, penalty: r.penaltyExpired });
      // The peer's maps hold the same verdicts (inline mode): expire them by the same rule.
      for (const e of this.peerExpiry) e.sweep();
    } catch (e) {
      this.log('warn', 'expiry sweep failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * Checks that the kernel still runs our program on every interface, as
   * `listAttachments` does for the stopped daemon's status. An interface
   * deleted, detached or taken over while the daemon runs is logged once and
   * shown by status; a re-attach from the CLI (new fail mode, new program)
   * is picked up.
   */
  private checkSides(): void {
    let records: AttachmentStatus[];
    try {
      records = listAttachments(this.stateDir);
    } catch (e) {
      this.log('warn', 'cannot check the attachments', { error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const netns = currentNetns();
    for (const s of this.sides) {
      const r = records.find((a) => a.iface === s.iface && a.netns === netns);
      if (r !== undefined) s.record = r;
      const problem = r === undefined ? `secuxflow is no longer attached to ${s.iface} (detached while the daemon runs)` : r.problem ?? this.mapsReplaced(s);
      if (problem === s.problem) continue;
      if (problem !== null && problem.startsWith(MAPS_REPLACED)) {
        this.log('error', 'interface was attached again with new maps: the daemon still holds the old ones and inspects nothing there', {
          iface: s.iface, role: s.role, problem, hint: restartHint(s.iface),
        });
      } else if (problem !== null) {
        this.log('error', 'interface lost its secuxflow XDP program: its packets are neither filtered nor inspected', {
          iface: s.iface, role: s.role, problem, hint: 'restart the daemon (secuxflow run attaches again) once the interface is back',
        });
      } else {
        this.log('info', 'interface runs the secuxflow XDP program again', { iface: s.iface, role: s.role, progId: s.record.progId });
      }
      s.problem = problem;
    }
  }

  /**
   * A detach --force and a new attach while the daemon runs leave our
   * program on the link, but with new maps: its sockets sit in the old
   * XSKMAP (punts get the fail mode) and its verdicts and counters go to
   * maps the program no longer reads. Null while the pinned maps are ours.
   */
  private mapsReplaced(s: Side): string | null {
    let id: number;
    try {
      const fd = objGet(join(s.record.pinDir, MapName.STATS));
      try { id = mapInfo(fd).id; } finally { closeFd(fd); }
    } catch {
      return null; // no pin to compare with: listAttachments reports that itself
    }
    return id === s.statsMapId ? null
      : `${MAPS_REPLACED} ${s.iface} since the daemon started (a detach and attach while it ran): its AF_XDP sockets and verdicts are on the old maps, so what the program punts gets the fail mode (fail-${s.record.fail}) and no verdict reaches it`;
  }

  private sample(): void {
    try {
      const st = readStats(this.sides[0]!.fds.stats);
      this.samples.push({ atMs: Date.now(), rx: st[SfStat.RX]!.packets, punt: st[SfStat.PUNT]!.packets });
      if (this.samples.length > 11) this.samples.shift();
    } catch {
      // the status shows stale rates rather than failing
    }
  }

  async status(): Promise<DaemonStatus> {
    // The control socket opens before the attach, so that a second daemon is refused early.
    if (this.sides.length === 0) {
      throw new SecuxflowError('E_DAEMON', `the daemon is starting: attaching ${this.opts.iface}`, 'try again in a moment');
    }
    this.checkSides();
    const results = await Promise.all(this.threads.map((t) => (t.alive ? this.ask(t, { op: 'status' } as Omit<ToWorker, 'id'>, 5000).catch(() => null) : Promise.resolve(null))));
    const queues = results.filter((r): r is WorkerStatus => r !== null);
    // Every configured queue is listed: one that is down shows why, rather than vanishing.
    const queueRows: DaemonStatus['queues'] = [];
    for (let q = 0; q < this.queueCount; q++) {
      const i = this.threads.findIndex((t) => t.queue === q);
      const t = i >= 0 ? this.threads[i]! : null;
      const w = i >= 0 ? results[i] as WorkerStatus | null : null;
      if (t && w) {
        queueRows.push({ queue: w.queue, state: 'running', lastError: null, sockets: w.sockets, delivery: w.delivery, packets: w.counters.packets, batches: w.counters.batches, delivered: w.counters.delivered, dropped: w.counters.dropped, sendFailed: w.counters.sendFailed, dropRecordsLeftOut: w.counters.dropRecordsLeftOut, anomalyRecordsLeftOut: w.counters.anomalyRecordsLeftOut, batchP50Us: w.counters.batchP50Us, batchP99Us: w.counters.batchP99Us, scheduling: w.scheduling });
      } else {
        const state = t === null ? 'starting' : t.alive ? 'not answering' : 'restarting';
        queueRows.push({ queue: q, state, lastError: t?.lastError ?? null, sockets: [], delivery: null, packets: 0, batches: 0, delivered: 0, dropped: 0, sendFailed: 0, dropRecordsLeftOut: 0, anomalyRecordsLeftOut: 0, batchP50Us: 0, batchP99Us: 0, scheduling: { wanted: this.config.queueScheduling, applied: false, tid: 0, error: 'the queue thread is not running' } });
      }
    }
    const main = this.sides[0]!;
    const stats = readStats(main.fds.stats);
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = first && last && last.atMs > first.atMs ? (last.atMs - first.atMs) / 1000 : 0;
    const verdicts: Record<string, number> = {};
    const writeBack: Record<string, number> = {};
    const engine: Record<string, number> = {};
    let ringDrops = 0;
    let p99 = 0;
    for (const q of queues) {
      for (const [k, v] of Object.entries(q.counters.byVerdict)) verdicts[k] = (verdicts[k] ?? 0) + v;
      for (const [k, v] of Object.entries(q.writeBack)) if (typeof v === 'number') writeBack[k] = (writeBack[k] ?? 0) + v;
      // Each queue has its own engine: held and bounds add up to the daemon's.
      for (const [k, v] of Object.entries(q.engine)) engine[k] = (engine[k] ?? 0) + v;
      for (const s of q.sockets) ringDrops += s.rxRingFull + s.rxDropped;
      p99 = Math.max(p99, q.counters.batchP99Us);
    }
    return {
      daemon: { running: true, pid: process.pid, version: VERSION, uptimeSec: Math.round((Date.now() - this.startedAt) / 1000), stateDir: this.stateDir, config: this.config.source, eve: this.evePath },
      interfaces: this.sides.map((s) => ({ iface: s.iface, role: s.role, xdpMode: s.record.mode, requestedMode: s.record.requestedMode, fail: s.record.fail, pinDir: s.record.pinDir, progId: s.record.progId, live: s.problem === null, problem: s.problem })),
      queues: queueRows,
      kernel: {
        ...kernelPacketCounts(stats),
        rxPps: dt > 0 ? Math.round((last!.rx - first!.rx) / dt) : 0,
        puntPps: dt > 0 ? Math.round((last!.punt - first!.punt) / dt) : 0,
        passAll: readConfigValue(main.fds.config, SfConfig.PASS_ALL) === 1,
      },
      verdicts,
      writeBack,
      engine: engine as unknown as EngineBounds,
      maps: {
        flows: mapDump(main.fds.flows).count, flowsMax: SF.MAX_FLOWS,
        penalty: mapDump(main.fds.penalty).count, penaltyMax: SF.MAX_PENALTY,
        flowTimeoutSec: this.config.flowTimeoutSec,
        expiredFlows: this.expiry?.totalFlowsExpired ?? 0, expiredPenalty: this.expiry?.totalPenaltyExpired ?? 0,
      },
      ringDrops,
      verdictLatencyP99Us: p99,
      modules: mergeModules(queues),
      rules: { count: this.rules.rules.length, defaultPolicy: this.rules.defaultPolicy },
    };
  }

  // ---- signals and stopping ----

  private installSignals(): void {
    const onStop = (sig: string) => () => void this.stop(sig);
    process.on('SIGTERM', onStop('SIGTERM'));
    process.on('SIGINT', onStop('SIGINT'));
    process.on('SIGHUP', () => {
      if (!this.booting) {
        this.reloadOnSignal();
      } else if (!this.reloadAfterBoot) {
        this.reloadAfterBoot = true;
        this.log('info', 'SIGHUP during start-up: the config is reloaded once the start is complete', { config: this.opts.configPath ?? null });
      }
    });
  }

  private reloadOnSignal(): void {
    this.reopenEve();
    this.log('info', 'SIGHUP: reloading config', { config: this.opts.configPath ?? null });
    this.change(() => this.reloadConfig()).catch((e) => {
      this.log('error', 'config reload refused; the running config is kept', { error: e instanceof SecuxflowError ? e.toJSON() : String(e) });
    });
  }

  /** Stops the daemon; asked for during the start, it stops (by its stop policy) once the start is complete or has failed. */
  stop(reason: string): Promise<void> {
    if (this.booting && this.stopping === null) {
      if (this.stopAfterBoot === null) {
        this.stopAfterBoot = reason;
        this.log('info', 'stop requested during start-up: stopping once the start is complete', { reason });
      }
      return this.stopped;
    }
    if (this.stopping) return this.stopping;
    this.stopping = this.teardown(reason, true);
    return this.stopping;
  }

  private async teardown(reason: string, applyPolicy: boolean): Promise<void> {
    if (this.stopping === null) this.stopping = Promise.resolve();
    // A start refused before it touched anything (a missing interface, a bad
    // --queues) has nothing to stop: "stopping, onStop detach" only alarmed.
    const untouched = !applyPolicy && this.control === null && this.sides.length === 0 && this.threads.length === 0;
    if (!untouched) this.log('info', 'stopping', { reason, onStop: this.config.onStop });
    for (const t of this.timers) { clearInterval(t); clearTimeout(t); }
    this.timers = [];
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    await this.control?.close().catch(() => undefined);
    await Promise.all(this.threads.map(async (t) => {
      if (t.alive) await this.ask(t, { op: 'stop' } as Omit<ToWorker, 'id'>, 5000).catch(() => undefined);
      await t.worker.terminate().catch(() => undefined);
    }));
    if (applyPolicy || this.sides.some((s) => s.attachedNow)) {
      for (const s of this.sides) {
        try {
          if (!applyPolicy && s.before !== null) {
            // The interface was attached before this start changed its mode:
            // a failed start leaves it attached as it found it, not bare.
            const mode: XdpMode = s.before.mode === 'skb' ? 'skb' : 'native';
            await attach({ iface: s.iface, mode, fail: s.before.fail, stateDir: this.stateDir });
            this.log('info', 'attachment put back as it was before the start', { iface: s.iface, mode, fail: s.before.fail });
          } else if (!applyPolicy && s.attachedNow) {
            // A failed start undoes its own attach: maps it made go too, so a
            // first start that failed leaves no pins and no record behind.
            await detach({ iface: s.iface, keepMaps: !s.mapsCreated, stateDir: this.stateDir });
            this.log('info', s.mapsCreated ? 'detached and removed the maps this start made' : 'detached (maps kept for the next start)', { iface: s.iface });
          } else if (applyPolicy && this.mapsReplaced(s) !== null) {
            // Someone attached anew while we ran (detach --force, attach): that
            // attachment is theirs. Detaching it, or setting pass-all in our old
            // config map (which its program no longer reads), would be wrong both ways.
            this.log('warn', 'stop policy not applied: the interface was attached again with new maps while the daemon ran, and that attachment is left as it is', {
              iface: s.iface, onStop: this.config.onStop, hint: `secuxflow status shows it; secuxflow detach --iface ${s.iface} removes it`,
            });
          } else if (this.config.onStop === 'pass-all') {
            writeConfig(s.fds.config, SfConfig.PASS_ALL, 1);
            this.log('info', 'left attached with pass-all on', { iface: s.iface });
          } else if (applyPolicy || s.attachedNow) {
            // Maps stay pinned: the next start finds the decided flows and the penalty box.
            await detach({ iface: s.iface, keepMaps: true, stateDir: this.stateDir });
            this.log('info', 'detached (maps kept for the next start)', { iface: s.iface });
          }
        } catch (e) {
          this.log('error', 'stop policy failed', { iface: s.iface, error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
    for (const s of this.sides) for (const fd of Object.values(s.fds)) {
      try { closeFd(fd); } catch { /* already closed */ }
    }
    if (this.eveFd >= 0) {
      const empty = fstatSync(this.eveFd).size === 0;
      closeSync(this.eveFd);
      if (!applyPolicy && empty && this.eveCreated !== null) {
        try { unlinkSync(this.eveCreated); } catch { /* already gone */ }
      }
    }
    this.eveFd = -1;
    // A refused start changes nothing: the state directory it made goes again while empty.
    if (!applyPolicy) unmakeDirs(this.madeDirs);
    if (!untouched) this.log('info', 'stopped', { reason });
    this.resolveStopped();
  }
}

export interface DaemonStatus {
  /** eve: the EVE file it writes (`secuxflow alerts` reads it); absent from daemons before it was added. */
  daemon: { running: true; pid: number; version: string; uptimeSec: number; stateDir: string; config: string | null; eve?: string };
  /** live, problem: whether the kernel still runs our program there, and why not; absent from daemons before they were added. */
  interfaces: { iface: string; role: string; xdpMode: string; requestedMode: string; fail: string; pinDir: string; progId: number; live?: boolean; problem?: string | null }[];
  /** state: running, restarting (lastError says why it is down), starting, or not answering; absent from daemons before it was added. */
  queues: { queue: number; state?: string; lastError?: string | null; sockets: WorkerStatus['sockets']; delivery: WorkerStatus['delivery']; packets: number; batches: number; delivered: number; dropped: number; sendFailed: number; dropRecordsLeftOut?: number; anomalyRecordsLeftOut?: number; batchP50Us: number; batchP99Us: number; scheduling: WorkerStatus['scheduling'] }[];
  kernel: KernelPacketCounts & { rxPps: number; puntPps: number; passAll: boolean };
  verdicts: Record<string, number>;
  writeBack: Record<string, number>;
  /** The queues' engines added up (docs/live.md, "Resource bounds"); absent from daemons before it was added. */
  engine?: EngineBounds;
  maps: { flows: number; flowsMax: number; penalty: number; penaltyMax: number; flowTimeoutSec: number; expiredFlows: number; expiredPenalty: number };
  ringDrops: number;
  verdictLatencyP99Us: number;
  /** alertsDropped, eventsDropped, logsDropped: absent from daemons before they were added. */
  modules: { name: string; policy: string; isolation: string; status: string; packets: number; meanBatchUs: number; p99BatchUs: number; traps: number; alerts: number; alertsDropped?: number; eventsDropped?: number; logsDropped?: number; quarantineReason: string | null }[];
  rules: { count: number; defaultPolicy: string };
}

/** One row per module over all queues (exported for tests: status() needs the kernel). */
export function mergeModules(queues: Pick<WorkerStatus, 'modules'>[]): DaemonStatus['modules'] {
  const out = new Map<string, DaemonStatus['modules'][number] & { batches: number }>();
  for (const q of queues) {
    for (const m of q.modules) {
      const o = out.get(m.name);
      if (!o) {
        out.set(m.name, {
          name: m.name, policy: m.policy, isolation: m.isolation, status: m.status, packets: m.packets, batches: m.batches, meanBatchUs: m.meanBatchUs, p99BatchUs: m.p99BatchUs,
          traps: m.traps, alerts: m.alerts, alertsDropped: m.alertsDropped, eventsDropped: m.eventsDropped, logsDropped: m.logsDropped, quarantineReason: m.quarantineReason,
        });
        continue;
      }
      const batches = o.batches + m.batches;
      o.meanBatchUs = batches > 0 ? (o.meanBatchUs * o.batches + m.meanBatchUs * m.batches) / batches : 0;
      o.batches = batches;
      o.packets += m.packets;
      o.p99BatchUs = Math.max(o.p99BatchUs, m.p99BatchUs);
      o.traps += m.traps;
      o.alerts += m.alerts;
      o.alertsDropped = (o.alertsDropped ?? 0) + m.alertsDropped;
      o.eventsDropped = (o.eventsDropped ?? 0) + m.eventsDropped;
      o.logsDropped = (o.logsDropped ?? 0) + m.logsDropped;
      if (m.status !== 'ok') { o.status = m.status; o.quarantineReason = m.quarantineReason; }
      if (m.isolation === 'worker') o.isolation = 'worker';
    }
  }
  return [...out.values()].map(({ batches: _b, ...m }) => ({ ...m, meanBatchUs: Math.round(m.meanBatchUs * 10) / 10 }));
}

/** The EVE file, opened to append (created 0640 if need be). Refuses a FIFO or socket, whose reader could stall every write. */
function openEveFile(eve: string): number {
  let fd = -1;
  try {
    // O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader, with nothing attached yet to show for it.
    fd = openSync(eve, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NONBLOCK, 0o640);
    const st = fstatSync(fd);
    // /dev/null and files are fine.
    if (st.isFIFO() || st.isSocket()) throw Object.assign(new Error('a FIFO or socket'), { code: 'ENXIO' });
    return fd;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    // ENXIO: a FIFO no one reads yet, refused as one that is read would be.
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENXIO' ? 'a FIFO or socket, not a file' : code ?? String(e);
    throw new SecuxflowError('E_IO', `cannot open the EVE file ${eve}: ${why}`, 'choose another with --eve (a file in an existing directory; follow it with tail -F)');
  }
}
