// The daemon side of the control socket. Every line is parsed and checked
// before a handler sees it; whatever goes wrong (bad JSON, unknown method,
// bad params, a handler that throws) becomes an error reply on that
// connection, never an exception in the daemon.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, unlinkSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { MAX_REQUEST_BYTES, METHODS, type ControlReply, type Method } from './protocol.js';

export type Handler = (params: Record<string, unknown>) => Promise<unknown> | unknown;

export interface ControlServerOptions {
  path: string;
  handlers: Partial<Record<Method, Handler>>;
  /** Group owning the socket (mode 0660): members may use it without root. */
  gid?: number;
  onError?: (message: string) => void;
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

  private constructor(private readonly opts: ControlServerOptions) {
    this.server = createServer((c) => this.accept(c));
  }

  /** Listens on opts.path; a stale socket file (nobody answering) is replaced, a live one refused. */
  static async listen(opts: ControlServerOptions): Promise<ControlServer> {
    if (await socketAlive(opts.path)) {
      throw new SecuxflowError('E_DAEMON', `a secuxflow daemon is already running (control socket ${opts.path} answers)`,
        'stop it first (secuxflow status shows it), or use another --state-dir');
    }
    if (existsSync(opts.path)) unlinkSync(opts.path);
    const s = new ControlServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      // The socket is created with the umask's mode; tighten it before anyone can connect usefully.
      const old = process.umask(0o117);
      s.server.listen(opts.path, () => {
        process.umask(old);
        s.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(opts.path, 0o660);
    if (opts.gid !== undefined) chownSync(opts.path, process.getuid?.() ?? 0, opts.gid);
    s.server.on('error', (e) => opts.onError?.(`control socket: ${e.message}`));
    return s;
  }

  private accept(c: Socket): void {
    this.conns.add(c);
    c.setEncoding('utf8');
    let buf = '';
    // Replies go out in request order even when handlers finish out of order.
    let chain: Promise<void> = Promise.resolve();
    c.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        chain = chain.then(() => this.handle(line)).then((reply) => {
          if (!c.destroyed) c.write(`${JSON.stringify(reply)}\n`);
        });
      }
      if (Buffer.byteLength(buf) > MAX_REQUEST_BYTES) {
        const reply: ControlReply = { id: null, ok: false, error: { code: 'E_USAGE', message: `request line longer than ${MAX_REQUEST_BYTES} bytes`, hint: 'send one JSON object per line' } };
        buf = '';
        c.end(`${JSON.stringify(reply)}\n`);
      }
    });
    c.on('error', () => { /* a client that went away is not the daemon's problem */ });
    c.on('close', () => this.conns.delete(c));
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
