// A stand-in for the daemon on <state-dir>/control.sock that answers every
// request with a line the test chooses, so the CLI's handling of replies no
// real daemon would send can be exercised.
import { createServer, type Server } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { controlSocketPath } from '../../../host/control/protocol.js';
import type { DaemonStatus } from '../../../host/daemon/daemon.js';

export interface FakeDaemon {
  /** Methods asked, in order. */
  readonly methods: string[];
  close(): Promise<void>;
}

/** reply gets the request and returns the raw line to send (without the newline). */
export async function fakeDaemon(stateDir: string, reply: (req: { id: unknown; method: string }) => string): Promise<FakeDaemon> {
  mkdirSync(stateDir, { recursive: true });
  const path = controlSocketPath(stateDir);
  const methods: string[] = [];
  const server: Server = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as { id: unknown; method: string };
      buf = buf.slice(nl + 1);
      methods.push(req.method);
      c.write(`${reply(req)}\n`);
    });
    c.on('error', () => { /* the client hung up first */ });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    methods,
    close: () => new Promise<void>((resolve) => server.close(() => { rmSync(path, { force: true }); resolve(); })),
  };
}

/** Replies that break the protocol in one way each; every one must end as E_DAEMON. */
export const BAD_REPLIES: Array<{ name: string; line: (id: unknown) => string; says: RegExp }> = [
  { name: 'not ok without an error field', line: (id) => JSON.stringify({ id, ok: false }), says: /"error" is missing/ },
  { name: 'an error whose code is not a string', line: (id) => JSON.stringify({ id, ok: false, error: { code: 42, message: 'boom' } }), says: /"error\.code" is 42, not a string/ },
  { name: 'an error code that is not one of ours', line: (id) => JSON.stringify({ id, ok: false, error: { code: 'E_WHATEVER', message: 'boom' } }), says: /unknown error code "E_WHATEVER": boom/ },
  { name: 'ok without a result', line: (id) => JSON.stringify({ id, ok: true }), says: /says ok but "result" is missing/ },
  { name: 'garbage that is not JSON', line: () => '{"id": 1, "ok": tru', says: /not JSON/ },
];

/** A status result with every field the CLI renders, as a real daemon sends it. */
export function validStatus(): Record<string, unknown> {
  // Typed so the compiler keeps this in step with what the daemon really sends.
  const s: DaemonStatus = {
    daemon: { running: true, pid: 4242, version: '0.0.0-test', uptimeSec: 12, stateDir: '/tmp/x', config: null },
    interfaces: [{ iface: 'veth0', role: 'protected', xdpMode: 'generic', requestedMode: 'generic', fail: 'closed', pinDir: '/sys/fs/bpf/x', progId: 7 }],
    queues: [{
      queue: 0, sockets: [{ iface: 'veth0', queue: 0, bindMode: 'copy', fallbackReason: null, ringSize: 2048, rxPackets: 10, rxRingFull: 0, rxDropped: 0, fillRingEmpty: 0, txPackets: 3 }],
      delivery: null, packets: 10, batches: 2, delivered: 0, dropped: 0, sendFailed: 0, batchP50Us: 40, batchP99Us: 90,
      scheduling: { wanted: { policy: 'normal', nice: 0 }, applied: true, tid: 1, error: null },
    }],
    kernel: { rx: 100, pass: 90, drop: 10, invalid: 3, punt: 10, puntFallback: 0, rxPps: 5, puntPps: 1, passAll: false },
    verdicts: { pass: 8, drop: 2 },
    writeBack: {},
    maps: { flows: 3, flowsMax: 65536, penalty: 0, penaltyMax: 65536, flowTimeoutSec: 120, expiredFlows: 0, expiredPenalty: 0 },
    ringDrops: 0,
    verdictLatencyP99Us: 120,
    modules: [{ name: 'basic_inspect', policy: 'fail-closed', isolation: 'in-thread', status: 'ok', packets: 10, meanBatchUs: 20, p99BatchUs: 40, traps: 0, alerts: 0, quarantineReason: null }],
    rules: { count: 1, defaultPolicy: 'pass' },
  };
  return structuredClone(s) as unknown as Record<string, unknown>;
}
