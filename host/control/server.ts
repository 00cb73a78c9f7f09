// The daemon side of the control socket. Every line is parsed and checked
// before a handler sees it; whatever goes wrong (bad JSON, unknown method,
// bad params, a handler that throws) becomes an error reply on that
// connection, never an exception in the daemon.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, unlinkSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { basename } from 'node:path';
import { MAX_REQUEST_BYTES, MAX_SOCKET_PATH_BYTES, METHODS, socketPathTooLong, type ControlReply, type Method } from './protocol.js';

export type Handler = (params: Record<string, unknown>) => Promise<unknown> | unknown;

export interface ControlServerOptions {
  path: string;
  handlers: Partial<Record<Method, Handler>>;
  /** Group owning the socket (mode 0660): members may use it without root. */
  gid?: number;
  onError?: (message: string) => void;
  /** Connections served at once; default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** How long a connection may go without a complete request; default IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
}

/**
 * Each connection holds up to a line of MAX_REQUEST_BYTES being read; the CLI
 * uses one connection per command, so this is far above honest use while
 * bounding what idle or half-sent connections can make the daemon hold.
 */
export const MAX_CONNECTIONS = 64;
/** A connection is closed when this long passes with no complete request and none being handled. */
export const IDLE_TIMEOUT_MS = 30_000;
/** Lines read ahead of the one being handled; reading pauses beyond it. */
export const MAX_QUEUED_REQUESTS = 64;
/** A refused connection is destroyed after this even if its error line could not be written out. */
const REFUSED_LINGER_MS = 1000;
// Stands in the queue for "the next line was too long"; a real line never holds a newline.
const TOO_LONG = '\n';

/** A result JSON cannot carry (a BigInt, a cycle) is a bug to report, not an exception out of the socket. */
function serialise(reply: ControlReply): string {
  try {
    return `${JSON.stringify(reply)}\n`;
  } catch (e) {
    return `${JSON.stringify({ id: reply.id, ok: false, error: { code: 'E_INTERNAL', message: `reply cannot be sent as JSON: ${(e as Error).message}` } })}\n`;
  }
}

function errorOf(e: unknown): { code: string; message: string; hint?: string } {
  if (e instanceof SecuxflowError) return e.toJSON();
  return { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** True when something answers on the socket path (another daemon). */
export function socketAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(path)) {
      resolve(false);
      return;
    }
    const s = createConnection(path);
    const t = setTimeout(() => { s.destroy(); resolve(true); }, timeoutMs);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

export class ControlServer {
  private readonly server: Server;
  private readonly conns = new Set<Socket>();
  /** Connections being served; conns also holds refused ones until they close. */
  private served = 0;

  private constructor(private readonly opts: ControlServerOptions) {
    // Half-open, so a client that shuts down its side after its last request still gets the replies.
    this.server = createServer({ allowHalfOpen: true }, (c) => this.accept(c));
  }

  /** Listens on opts.path; a stale socket file (nobody answering) is replaced, a live one refused. */
  static async listen(opts: ControlServerOptions): Promise<ControlServer> {
    if (socketPathTooLong(opts.path)) {
      const bytes = Buffer.byteLength(opts.path);
      throw new SecuxflowError('E_STATE', `the control socket path ${opts.path} is ${bytes} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a Unix socket address holds`,
        `use a state directory whose path is at most ${MAX_SOCKET_PATH_BYTES - Buffer.byteLength(basename(opts.path)) - 1} bytes long (--state-dir or SECUXFLOW_STATE_DIR)`);
    }
    if (await socketAlive(opts.path)) {
      throw new SecuxflowError('E_DAEMON', `a secuxflow daemon is already running (control socket ${opts.path} answers)`,
        'stop it first (secuxflow status shows it), or use another --state-dir');
    }
    try {
      if (existsSync(opts.path)) unlinkSync(opts.path);
    } catch (e) {
      throw socketCreateError(opts.path, e);
    }
    const s = new ControlServer(opts);
    await new Promise<void>((resolve, reject) => {
      // The socket is created with the umask's mode; tighten it before anyone can connect usefully.
      const old = process.umask(0o117);
      const failed = (e: Error): void => {
        process.umask(old);
        reject(socketCreateError(opts.path, e));
      };
      s.server.once('error', failed);
      s.server.listen(opts.path, () => {
        process.umask(old);
        s.server.off('error', failed);
        resolve();
      });
    });
    try {
      chmodSync(opts.path, 0o660);
      if (opts.gid !== undefined) chownSync(opts.path, process.getuid?.() ?? 0, opts.gid);
    } catch (e) {
      // Listening already: left open, it would keep a failed start's process alive and answering.
      await s.close();
      throw socketSetupError(opts.path, opts.gid, e);
    }
    s.server.on('error', (e) => opts.onError?.(`control socket: ${e.message}`));
    return s;
  }

  private accept(c: Socket): void {
    this.conns.add(c);
    c.on('error', () => { /* a client that went away is not the daemon's problem */ });
    c.on('close', () => this.conns.delete(c));
    const max = this.opts.maxConnections ?? MAX_CONNECTIONS;
    if (this.served >= max) {
      // Nothing is read from it, so a refused client costs a socket, not memory.
      const reply: ControlReply = { id: null, ok: false, error: { code: 'E_DAEMON', message: `the daemon serves at most ${max} control connections at once`, hint: 'another client holds them open; retry when it is done' } };
      // Destroyed once the line is out rather than half-closed: nothing reads this socket,
      // so the client's own close would never be seen. The line stays readable on its side.
      c.end(`${JSON.stringify(reply)}\n`, () => c.destroy());
      const t = setTimeout(() => c.destroy(), REFUSED_LINGER_MS);
      c.on('close', () => clearTimeout(t));
      return;
    }
    this.served++;
    const idleMs = this.opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    c.setEncoding('utf8');
    let buf = '';
    // Lines taken from buf but not answered yet. Reading pauses while it is full
    // rather than refusing: a client that pipelines is not misbehaving, and
    // whatever it sends meanwhile waits in the kernel's socket buffer, not ours.
    const queue: string[] = [];
    let running = false;
    let handling = false;
    // No more requests will be read: the client half-closed, or sent an oversized line.
    let inputDone = false;
    let idle: NodeJS.Timeout | null = null;

    const armIdle = (): void => {
      if (idle) clearTimeout(idle);
      idle = null;
      // A request being handled is the daemon's time, not the client's: a module load may take long.
      if (handling || c.destroyed) return;
      idle = setTimeout(() => {
        const reply: ControlReply = { id: null, ok: false, error: { code: 'E_USAGE', message: `no complete request in ${idleMs} ms; closing the control connection`, hint: 'send one JSON object per line, newline-terminated' } };
        if (!c.writableEnded && !c.writableNeedDrain) c.write(`${JSON.stringify(reply)}\n`);
        c.destroy();
      }, idleMs);
    };

    const take = (): void => {
      let nl: number;
      while (queue.length < MAX_QUEUED_REQUESTS && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() !== '') queue.push(line);
      }
      if (!inputDone && queue.length < MAX_QUEUED_REQUESTS && Buffer.byteLength(buf) > MAX_REQUEST_BYTES) {
        buf = '';
        inputDone = true;
        queue.push(TOO_LONG);
      }
    };

    // Reads only while there is room for more requests and the client takes its replies,
    // so neither requests nor unread replies pile up in the daemon's memory.
    const flow = (): void => {
      if (c.destroyed) return;
      const read = !inputDone && queue.length < MAX_QUEUED_REQUESTS && !c.writableNeedDrain;
      if (read && c.isPaused()) c.resume();
      else if (!read && !c.isPaused()) c.pause();
    };

    // One request at a time, so replies go out in request order and a pipelining client gets no parallelism.
    const pump = async (): Promise<void> => {
      if (running) return;
      running = true;
      try {
        let sinceYield = 0;
        while (!c.destroyed && !c.writableNeedDrain) {
          if (queue.length === 0) take();
          const line = queue.shift();
          if (line === undefined) break;
          if (line === TOO_LONG) {
            const reply: ControlReply = { id: null, ok: false, error: { code: 'E_USAGE', message: `request line longer than ${MAX_REQUEST_BYTES} bytes`, hint: 'send one JSON object per line' } };
            // Reading has stopped, so the client's close would not be seen: destroy once the line is out.
            c.end(`${JSON.stringify(reply)}\n`, () => c.destroy());
            return;
          }
          handling = true;
          armIdle();
          const reply = await this.handle(line);
          handling = false;
          // The client is gone: its remaining requests are nobody's business any more.
          if (c.destroyed) return;
          c.write(serialise(reply));
          flow();
          // Synchronous handlers would otherwise run the whole queue in microtasks and
          // keep the event loop from noticing a close, a timer or another connection.
          if (++sinceYield >= MAX_QUEUED_REQUESTS) {
            sinceYield = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      } finally {
        running = false;
        handling = false;
        armIdle();
        flow();
        if (inputDone && queue.length === 0 && !c.destroyed && !c.writableEnded) c.end();
      }
    };

    c.on('data', (chunk: string) => {
      // A chunk read before the pause after an oversized line is the rest of that line, not requests.
      if (inputDone) return;
      buf += chunk;
      take();
      flow();
      void pump();
    });
    c.on('drain', () => {
      flow();
      void pump();
    });
    // The client sent its last request and half-closed: answer what it sent, then close.
    c.on('end', () => {
      inputDone = true;
      void pump();
    });
    c.on('close', () => {
      this.served--;
      if (idle) clearTimeout(idle);
      queue.length = 0;
      buf = '';
    });
    armIdle();
  }

  private async handle(line: string): Promise<ControlReply> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch (e) {
      return { id: null, ok: false, error: { code: 'E_USAGE', message: `request is not JSON: ${(e as Error).message}`, hint: 'send one JSON object per line: {"id":1,"method":"status"}' } };
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return { id: null, ok: false, error: { code: 'E_USAGE', message: 'request must be a JSON object', hint: '{"id":1,"method":"status"}' } };
    }
    const r = req as Record<string, unknown>;
    const id = typeof r.id === 'number' || typeof r.id === 'string' ? r.id : null;
    if (id === null) return { id: null, ok: false, error: { code: 'E_USAGE', message: 'request has no "id" (a number or a string)' } };
    if (typeof r.method !== 'string' || !(METHODS as readonly string[]).includes(r.method)) {
      return { id, ok: false, error: { code: 'E_USAGE', message: `unknown method ${JSON.stringify(r.method)}`, hint: `methods: ${METHODS.join(', ')}` } };
    }
    const params = r.params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return { id, ok: false, error: { code: 'E_USAGE', message: '"params" must be a JSON object' } };
    }
    const handler = this.opts.handlers[r.method as Method];
    if (!handler) return { id, ok: false, error: { code: 'E_USAGE', message: `method ${r.method} is not served by this daemon` } };
    try {
      const result = await handler(params as Record<string, unknown>);
      return { id, ok: true, result: result ?? {} };
    } catch (e) {
      return { id, ok: false, error: errorOf(e) };
    }
  }

  /** Open connections are destroyed, not waited for: a client must not be able to hold up the daemon's stop. */
  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.opts.path);
    } catch {
      // already gone
    }
  }
}

/** chmod/chown of the socket failed: the usual cause is a service without CAP_CHOWN for control_group. */
/**
 * The socket path cannot be made (a read-only state directory, say, under
 * systemd's ProtectSystem=strict without StateDirectory=, or something that is
 * no socket in its place): E_IO naming it, where it was an uncoded E_INTERNAL.
 */
function socketCreateError(path: string, e: unknown): SecuxflowError {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  if (code === 'EISDIR') {
    return new SecuxflowError('E_IO', `cannot create the control socket ${path}: a directory is in its place`,
      `remove it (rmdir ${path}), or use another --state-dir`);
  }
  return new SecuxflowError('E_IO', `cannot create the control socket ${path}: ${code}`,
    code === 'EROFS'
      ? 'the state directory is read-only: make it writable (systemd: StateDirectory= or ReadWritePaths= in the unit\'s drop-in), or use another --state-dir'
      : 'check the state directory\'s filesystem and permissions');
}

function socketSetupError(path: string, gid: number | undefined, e: unknown): SecuxflowError {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  const group = gid !== undefined ? ` to group ${gid}` : '';
  return new SecuxflowError('E_IO', `cannot give the control socket ${path}${group}: ${code}`,
    code === 'EPERM' && gid !== undefined
      ? 'changing its group needs CAP_CHOWN: add it to the service\'s capabilities (packaging/secuxflow@.service has it), or leave control_group out of the config'
      : 'check the state directory\'s filesystem and permissions');
}
