// The CLI side of the control socket. requestDaemon returns null when no
// daemon is running (no socket, or nobody listening), so commands can fall
// back to working on the state directory and pins directly.
import { createConnection } from 'node:net';
import { SecuxflowError, type ErrorCode } from '../errors.js';
import { controlSocketPath, type ControlReply, type Method } from './protocol.js';

export interface RequestOptions {
  /** Whole request budget; default 30 s (a module load compiles in every worker). */
  timeoutMs?: number;
}

let nextId = 1;

/**
 * Sends one request and resolves with its result; null when no daemon runs.
 * A refused request throws a SecuxflowError with the daemon's code and message.
 */
export function requestDaemon(stateDir: string | undefined, method: Method, params: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<unknown | null> {
  const path = controlSocketPath(stateDir);
  const id = nextId++;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    let buf = '';
    const sock = createConnection(path);
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new SecuxflowError('E_DAEMON', `the daemon did not answer "${method}" within ${timeoutMs} ms (socket ${path})`,
      'check its log; if it hangs, restart it (systemctl restart secuxflow)'))), timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify({ id, method, params })}\n`));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') done(() => resolve(null));
      else if (e.code === 'EACCES') done(() => reject(new SecuxflowError('E_DAEMON', `no permission to talk to the daemon on ${path}`, 'run as root, or as a member of the socket\'s group')));
      else done(() => reject(new SecuxflowError('E_DAEMON', `control socket ${path}: ${e.message}`)));
    });
    sock.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: ControlReply;
      try {
        reply = JSON.parse(buf.slice(0, nl)) as ControlReply;
      } catch {
        done(() => reject(new SecuxflowError('E_DAEMON', `the daemon sent a reply that is not JSON on ${path}`)));
        return;
      }
      if (reply.ok) done(() => resolve(reply.result));
      else done(() => reject(new SecuxflowError(reply.error.code as ErrorCode, reply.error.message, reply.error.hint)));
    });
    sock.on('close', () => done(() => reject(new SecuxflowError('E_DAEMON', `the daemon closed the control connection before answering "${method}"`))));
  });
}

/**
 * Tells a running daemon to pick up something the CLI changed on disk
 * (rules.json, modules.json). Never throws: the change is already stored and
 * applies at the next start anyway; the returned note says what happened.
 */
export async function notifyDaemon(stateDir: string | undefined, method: Method, params: Record<string, unknown> = {}): Promise<{ running: boolean; error: string | null }> {
  try {
    const r = await requestDaemon(stateDir, method, params, { timeoutMs: 15_000 });
    return { running: r !== null, error: null };
  } catch (e) {
    return { running: true, error: e instanceof Error ? e.message : String(e) };
  }
}
