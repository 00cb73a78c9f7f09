// The body of one per-queue worker_thread: its own AF_XDP socket(s), its own
// Engine and module instances, its own map fds for write-back. Frames are
// drained when the socket's fd is readable (no polling when idle); control
// messages run on the same event loop, so they always land between batches.
import type { MessagePort } from 'node:worker_threads';
import { join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { MapName, SF } from '../kernel/codec.js';
import { openXsk, type XskSocket } from '../kernel/xsk.js';
import { openDelivery, type Delivery } from '../kernel/delivery.js';
import { openPinnedVerdictMaps, type VerdictMapFds } from '../kernel/verdictmaps.js';
import type { EngineModule } from '../engine/engine.js';
import { QueueWorker, type PacketOutput } from './queue-worker.js';
import { VerdictWriteBack } from './writeback.js';
import { buildModule, buildModules, closeModules, type ModuleSpec } from './modules.js';
import { budgetOf, CallStamp, StampedRunner } from './watchdog.js';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/limits.js';
import type { FromWorker, QueueThreadInit, SocketInfo, ToWorker, WorkerStatus } from './thread-protocol.js';
import { resolveIfindex } from '../kernel/iface.js';
import { applyScheduling, type SchedulingState } from './scheduling.js';
import { describeScheduling, type DaemonConfig } from './config.js';

const BUF_BYTES = 2048 * 256;
/**
 * Loading one module in the queue thread (read, compile, instantiate, on_init)
 * past this is taken for a hang: the queue restarts with the module in a
 * sandbox worker, where its init budget refuses it with a clear error. Loose,
 * because compiling a large module on a busy machine is slow but not stuck.
 */
const LOAD_BUDGET_MS = 10_000;
const EVE_DELAY_MS = 50;
const EVE_BATCH_LINES = 512;
/** Batches drained per readable event before yielding to control messages. */
const DRAIN_ROUNDS = 16;

interface Path {
  rx: XskSocket;
  out: PacketOutput | null;
}

function errJson(e: unknown): { code: string; message: string; hint?: string } {
  if (e instanceof SecuxflowError) return e.toJSON();
  return { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}


export async function runQueueThread(init: QueueThreadInit, port: MessagePort): Promise<void> {
  const post = (m: FromWorker): void => port.postMessage(m);
  const log = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void =>
    post({ type: 'log', level, msg, fields: { queue: init.queue, ...fields } });

  let eveLines: string[] = [];
  const sockets: XskSocket[] = [];
  let delivery: Delivery | null = null;
  let fds: (VerdictMapFds & { close(): void }) | null = null;
  let peerFds: (VerdictMapFds & { close(): void }) | null = null;
  let modules: EngineModule[] = [];
  /** A change prepared and not yet committed or aborted: the modules it loaded, and what the queue will run. */
  let staged: { added: EngineModule[]; modules: EngineModule[]; config: DaemonConfig | null } | null = null;
  const dropStaged = (): void => {
    if (staged === null) return;
    worker.abort();
    closeModules(staged.added);
    staged = null;
  };
  let worker: QueueWorker;
  let writeBack: VerdictWriteBack;
  const paths: Path[] = [];
  const buf = new Uint8Array(BUF_BYTES);
  const stamp = new CallStamp(init.watch);
  let nextModuleId = 1;
  /**
   * In-thread modules get their calls stamped for the watchdog, and so does
   * their loading (instantiation and on_init run here too); the daemon learns
   * each stamp id's module name before the stamp can be seen.
   */
  const buildWatched = async (spec: ModuleSpec, stateDir: string): Promise<EngineModule | undefined> => {
    if (spec.isolation !== 'thread') return buildModule(spec, stateDir);
    const id = nextModuleId++;
    post({ type: 'module-id', id, name: spec.name });
    stamp.enter(id, LOAD_BUDGET_MS);
    let m: EngineModule | undefined;
    try {
      m = await buildModule(spec, stateDir);
    } finally {
      stamp.leave();
    }
    return m && { ...m, instance: new StampedRunner(m.instance, stamp, id, budgetOf(m.instance, DEFAULT_SANDBOX_LIMITS.cpuBudgetMs)) };
  };
  const build = (specs: readonly ModuleSpec[]): Promise<EngineModule[]> => buildModules(specs, init.stateDir, buildWatched);
  const descs = new Uint32Array(2 * init.config.batchSize);

  let currentOut: PacketOutput | null = null;
  const cleanup = (): void => {
    for (const s of sockets) {
      try { s.offReadable(); s.close(); } catch { /* closing is best effort */ }
    }
    try { delivery?.close(); } catch { /* best effort */ }
    fds?.close();
    peerFds?.close();
    closeModules(modules);
    if (staged) closeModules(staged.added);
  };

  try {
    fds = openPinnedVerdictMaps(init.pinDir);
    if (init.peer) peerFds = openPinnedVerdictMaps(init.peer.pinDir);
    writeBack = new VerdictWriteBack(peerFds ? [fds, peerFds] : fds, init.config.inspectCap, undefined, undefined, (message) => log('warn', 'verdict write-back failed', { error: message }));
    writeBack.setBlockIpv6Prefix(init.config.blockIpv6Prefix);
    modules = await build(init.modules);
    // The frame size the XDP program's punt limit (SF_PUNT_MAX_FRAME) was made for.
    const rings = { ringSize: init.config.ringSize, frameCount: 2 * init.config.ringSize, frameSize: SF.XSK_FRAME_SIZE };
    const rx = openXsk({ ifname: init.iface, queue: init.queue, bindMode: init.bindMode, xsksMapPin: join(init.pinDir, MapName.XSKS), ...rings });
    sockets.push(rx);
    if (init.peer) {
      // Inline: each side's passed packets leave on the other side's socket.
      const prx = openXsk({ ifname: init.peer.iface, queue: init.queue, bindMode: init.bindMode, xsksMapPin: join(init.peer.pinDir, MapName.XSKS), ...rings });
      sockets.push(prx);
      paths.push({ rx, out: { send: (f, d, n) => prx.transmit(f, d, n) } });
      paths.push({ rx: prx, out: { send: (f, d, n) => rx.transmit(f, d, n) } });
    } else {
      const ifindex = resolveIfindex(init.iface);
      delivery = openDelivery({ ifname: init.iface, tapName: `sfd${ifindex}q${init.queue}`.slice(0, 15) });
      const d = delivery;
      paths.push({ rx, out: { send: (f, ds, n) => d.deliver(f, ds, n) } });
    }
    // Inside the try: the engine refuses rules naming a module it lacks, and
    // that must reach the daemon as a fatal with its code, not as a thread exit.
    worker = new QueueWorker({
      rules: init.rules,
      modules,
      config: init.config,
      writeBack,
      // One worker engine sees both directions (inline), so flows stay whole; the output follows the socket the batch came from.
      output: { send: (f, d, n) => (currentOut ? currentOut.send(f, d, n) : 0) },
      eve: (line) => eveLines.push(line),
      completeChecksums: init.peer !== null,
    });
  } catch (e) {
    cleanup();
    post({ type: 'fatal', queue: init.queue, error: errJson(e) });
    return;
  }

  const outputs = new Map<XskSocket, PacketOutput | null>(paths.map((p) => [p.rx, p.out]));

  let eveTimer: NodeJS.Timeout | null = null;
  const flushEve = (): void => {
    if (eveTimer !== null) {
      clearTimeout(eveTimer);
      eveTimer = null;
    }
    if (eveLines.length === 0) return;
    post({ type: 'eve', lines: eveLines });
    eveLines = [];
  };
  /**
   * After a batch, EVE lines wait up to EVE_DELAY_MS or EVE_BATCH_LINES
   * lines: each post wakes the main thread, and one wake-up per small batch
   * cost more CPU than the batch itself. Verdicts are in the kernel before
   * this, so only the log is later.
   */
  const scheduleEve = (): void => {
    if (eveLines.length >= EVE_BATCH_LINES) flushEve();
    else if (eveLines.length > 0 && eveTimer === null) eveTimer = setTimeout(flushEve, EVE_DELAY_MS);
  };

  const drain = (sock: XskSocket): void => {
    try {
      for (let round = 0; round < DRAIN_ROUNDS; round++) {
        const n = sock.receive(buf, descs, init.config.batchSize);
        if (n === 0) break;
        currentOut = outputs.get(sock) ?? null;
        worker.processBatch(buf, descs, n);
      }
    } catch (e) {
      log('error', 'batch failed', { error: errJson(e) });
    } finally {
      currentOut = null;
      scheduleEve();
    }
  };

  const socketInfo = (): SocketInfo[] => sockets.map((s) => {
    const st = s.stats();
    return {
      iface: s.ifname, queue: s.queue, bindMode: s.bindMode, fallbackReason: s.fallbackReason, ringSize: s.ringSize,
      rxPackets: st.rxPackets, rxRingFull: st.rxRingFull, rxDropped: st.rxDropped, fillRingEmpty: st.fillRingEmpty, txPackets: st.txPackets,
    };
  });

  const reply = (id: number, fn: () => unknown | Promise<unknown>): void => {
    Promise.resolve()
      .then(fn)
      .then((result) => post({ type: 'reply', id, ok: true, result: result ?? null }))
      .catch((e) => post({ type: 'reply', id, ok: false, error: errJson(e) }))
      .finally(flushEve);
  };

  let stopped = false;
  port.on('message', (m: ToWorker) => {
    switch (m.op) {
      case 'change.prepare':
        reply(m.id, async () => {
          dropStaged();
          const added = m.add.length > 0 ? await build(m.add) : [];
          try {
            const addedNames = new Set(added.map((a) => a.name));
            const next = m.add.length > 0 || m.remove.length > 0
              ? [...modules.filter((x) => !m.remove.includes(x.name) && !addedNames.has(x.name)), ...added]
              : modules;
            worker.prepare({ rules: m.rules ?? undefined, config: m.config ?? undefined, modules: next === modules ? undefined : next });
            staged = { added, modules: next, config: m.config };
          } catch (e) {
            closeModules(added);
            throw e;
          }
        });
        return;
      case 'change.commit':
        reply(m.id, () => {
          if (staged === null) throw new SecuxflowError('E_INTERNAL', `queue ${init.queue}: commit without a prepared change`);
          const s = staged;
          staged = null;
          const unused = worker.commit();
          modules = s.modules;
          closeModules(unused);
          if (s.config) {
            writeBack.setCap(s.config.inspectCap);
            writeBack.setBlockIpv6Prefix(s.config.blockIpv6Prefix);
            if (JSON.stringify(s.config.queueScheduling) !== JSON.stringify(scheduling.wanted)) schedule(s.config);
          }
          return { modules: modules.map((x) => x.name) };
        });
        return;
      case 'change.abort':
        reply(m.id, () => { dropStaged(); });
        return;
      case 'penalty.release':
        reply(m.id, () => ({ released: worker.releaseSources(m.addrs) }));
        return;
      case 'flow.release':
        reply(m.id, () => ({ released: worker.releaseFlows(m.selector) }));
        return;
      case 'status':
        reply(m.id, (): WorkerStatus => ({
          queue: init.queue,
          sockets: socketInfo(),
          delivery: delivery ? { tap: delivery.tapName, ...pick(delivery.stats()) } : null,
          counters: worker.counters(),
          writeBack: { ...writeBack.counters },
          engine: worker.bounds(),
          modules: worker.moduleStatus(),
          scheduling: { ...scheduling },
        }));
        return;
      case 'stop':
        if (stopped) return;
        stopped = true;
        try {
          for (const s of sockets) s.offReadable();
          worker.finish();
        } catch (e) {
          log('error', 'finishing flows failed', { error: errJson(e) });
        }
        flushEve();
        cleanup();
        post({ type: 'reply', id: m.id, ok: true, result: null });
        // Closing the port lets the thread's loop end once the reply is out.
        setImmediate(() => port.close());
        return;
    }
  });

  // Raised only now: module compilation above runs at the normal policy.
  let scheduling: SchedulingState = { wanted: init.config.queueScheduling, applied: false, tid: 0, error: null };
  const schedule = (config: typeof init.config): void => {
    scheduling = applyScheduling(config.queueScheduling, scheduling);
    if (scheduling.error) log('warn', 'queue thread scheduling not applied; the thread keeps the policy it had (normal at start)', { wanted: describeScheduling(scheduling.wanted), error: scheduling.error });
  };
  schedule(init.config);
  for (const p of paths) p.rx.onReadable(() => drain(p.rx));
  post({ type: 'ready', queue: init.queue, sockets: socketInfo(), delivery: delivery?.tapName ?? null });
}

function pick(s: { delivered: number; failed: number }): { delivered: number; failed: number } {
  return { delivered: s.delivered, failed: s.failed };
}
