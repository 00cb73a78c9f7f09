// Entry point of a sandbox worker thread: one module instance, driven through
// the shared-memory protocol in protocol.ts. Bundled to dist/sandbox-worker.js.
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { SecuxflowError } from '../errors.js';
import {
  CMD_BATCH, CMD_EXIT, CTRL, RESULT_INIT_FAILED, RESULT_MEMORY, RESULT_OK, RESULT_STATUS, RESULT_TRAP,
  STATE_DONE, STATE_REQUEST, type SerializedError, type WorkerInit, type WorkerMessage,
} from './protocol.js';
import type { BatchSink, WorkerBackend } from './worker-backend.js';
import { CoreBackend } from './core-backend.js';

const init = (workerData as { init: WorkerInit; port: MessagePort }).init;
const port = (workerData as { init: WorkerInit; port: MessagePort }).port;
const ctrl = new Int32Array(init.ctrl);
const data = new Uint8Array(init.data);
const verdicts = new Uint8Array(init.out, 0, init.batchCapacity);
const verdictArgs = new Uint16Array(init.out, align2(init.batchCapacity), init.batchCapacity);
const flowIds = new BigInt64Array(init.flowIds);
const sink: BatchSink = { alerts: [], events: [], logs: [] };

function align2(n: number): number {
  return (n + 1) & ~1;
}

function serialize(e: unknown): SerializedError {
  if (e instanceof SecuxflowError) return e.hint === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, hint: e.hint };
  return { code: 'E_MODULE_TRAP', message: `module ${init.name} failed: ${e instanceof Error ? e.message : String(e)}` };
}

const reported = { alerts: 0, events: 0, logs: 0 };

/** What the instance dropped since the last request, for the host's counters (the instance's totals stay here). */
function storeDrops(): void {
  // undefined when the backend could not be created.
  const s = (backend as WorkerBackend | undefined)?.stats;
  if (s === undefined) return;
  Atomics.store(ctrl, CTRL.ALERTS_DROPPED, s.alertsDropped - reported.alerts);
  Atomics.store(ctrl, CTRL.EVENTS_DROPPED, s.eventsDropped - reported.events);
  Atomics.store(ctrl, CTRL.LOGS_DROPPED, s.logsDropped - reported.logs);
  reported.alerts = s.alertsDropped;
  reported.events = s.eventsDropped;
  reported.logs = s.logsDropped;
}

/** Posts what the request produced (only when it produced something) and marks the request done. */
function finish(result: number, error?: unknown, extra?: Partial<WorkerMessage>): void {
  storeDrops();
  const msg: WorkerMessage = { ...extra };
  if (sink.alerts.length) msg.alerts = sink.alerts;
  if (sink.events.length) msg.events = sink.events;
  if (sink.logs.length) msg.logs = sink.logs;
  if (error !== undefined) msg.error = serialize(error);
  const has = Object.keys(msg).length > 0;
  // postMessage copies now, so the arrays can be emptied in place (the backends hold on to them).
  if (has) port.postMessage(msg);
  sink.alerts.length = 0;
  sink.events.length = 0;
  sink.logs.length = 0;
  Atomics.store(ctrl, CTRL.HAS_MESSAGE, has ? 1 : 0);
  Atomics.store(ctrl, CTRL.RESULT, result);
  Atomics.store(ctrl, CTRL.STATE, STATE_DONE);
  Atomics.notify(ctrl, CTRL.STATE);
}

async function createBackend(): Promise<WorkerBackend> {
  if (init.kind === 'component') {
    const { ComponentBackend } = await import('./component-backend.js');
    return ComponentBackend.create(init, sink.logs);
  }
  return new CoreBackend(init, sink.logs);
}

let backend: WorkerBackend;
try {
  backend = await createBackend();
} catch (e) {
  finish(RESULT_INIT_FAILED, e);
  port.close();
  process.exit(0);
}
Atomics.store(ctrl, CTRL.META_PTR, backend.metaPtr);
Atomics.store(ctrl, CTRL.MEM_PAGES, Math.ceil(backend.memoryBytes() / 65536));
finish(RESULT_OK);

/** Ends the request's flows; what each one raised is returned apart from the batch's own output. */
function deliverFlowEnds(): WorkerMessage['flowEnds'] {
  const n = Atomics.load(ctrl, CTRL.FLOW_ENDS);
  let out: WorkerMessage['flowEnds'];
  for (let i = 0; i < n; i++) {
    backend.flowEnd(flowIds[i]!, sink);
    if (sink.alerts.length > 0 || sink.events.length > 0) {
      (out ??= []).push({ at: i, alerts: sink.alerts.splice(0), events: sink.events.splice(0) });
    }
  }
  return out;
}

for (;;) {
  const state = Atomics.load(ctrl, CTRL.STATE);
  if (state !== STATE_REQUEST) {
    Atomics.wait(ctrl, CTRL.STATE, state);
    continue;
  }
  Atomics.store(ctrl, CTRL.TAKEN, 1);
  const cmd = Atomics.load(ctrl, CTRL.CMD);
  if (cmd === CMD_EXIT) break;
  let flowEnds: WorkerMessage['flowEnds'];
  try {
    // The flow ends riding on a batch's first request end the previous gap's budget.
    flowEnds = deliverFlowEnds();
    let result = RESULT_OK;
    if (cmd === CMD_BATCH) {
      const batchPackets = Atomics.load(ctrl, CTRL.FIRST);
      if (batchPackets > 0) backend.newBatch(batchPackets);
      const count = Atomics.load(ctrl, CTRL.COUNT);
      const status = backend.runBatch(data, count, Atomics.load(ctrl, CTRL.DATA_USED), verdicts, verdictArgs, sink);
      if (status !== 0) {
        Atomics.store(ctrl, CTRL.STATUS, status);
        result = RESULT_STATUS;
      }
    }
    const bytes = backend.memoryBytes();
    Atomics.store(ctrl, CTRL.MEM_PAGES, Math.ceil(bytes / 65536));
    if (bytes > init.maxMemoryBytes) result = RESULT_MEMORY;
    finish(result, undefined, flowEnds && { flowEnds });
  } catch (e) {
    finish(RESULT_TRAP, e, flowEnds && { flowEnds });
  }
}
port.close();
