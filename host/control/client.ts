// The CLI side of the control socket. requestDaemon returns null when no
// daemon is running (no socket, or nobody listening), so commands can fall
// back to working on the state directory and pins directly.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { SecuxflowError, codedMessage, type ErrorCode } from '../errors.js';
import { controlSocketPath, socketPathTooLong, type Method } from './protocol.js';
import { groupName } from '../daemon/config.js';

export interface RequestOptions {
  /** Whole request budget; default 30 s (a module load compiles in every worker). */
  timeoutMs?: number;
}

let nextId = 1;

/** A reply line longer than this is not waited for: no status is anywhere near it. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

// A Record rather than a list so the compiler insists every code in
// host/errors.ts is here: a code missing would be reported as E_DAEMON.
const KNOWN_CODES: Record<ErrorCode, true> = {
  E_USAGE: true, E_RULE_INVALID: true, E_RULE_DUPLICATE: true, E_RULE_NOT_FOUND: true, E_RULEFILE: true, E_CAPTURE: true,
  E_IO: true, E_STATE: true, E_MODULE_NOT_FOUND: true, E_MODULE_INVALID: true, E_MODULE_ABI: true, E_MODULE_IMPORT: true,
  E_MODULE_TRAP: true, E_MODULE_CONFIG: true, E_MODULE_LIMIT: true, E_MODULE_QUARANTINED: true, E_MODULE_CHANGED: true, E_MODULE_IN_USE: true,
  E_KERNEL: true, E_NO_ROOT: true, E_NO_BPFFS: true, E_BPFFS_READONLY: true, E_NO_IFACE: true, E_XDP_BUSY: true, E_NOT_ATTACHED: true,
  E_MAP_FULL: true, E_NOT_BLOCKED: true, E_NO_FLOW: true, E_NATIVE_MISSING: true, E_XSK: true, E_DAEMON: true, E_INTERNAL: true,
};

const isKnownCode = (c: string): c is ErrorCode => Object.hasOwn(KNOWN_CODES, c);

const RESTART_HINT = 'the daemon and this CLI may be of different versions, or something else listens on the socket: check the daemon\'s log, restart it (systemctl restart secuxflow@IFACE)';

function malformed(method: Method, what: string): SecuxflowError {
  return new SecuxflowError('E_DAEMON', `the daemon's reply to "${method}" is malformed: ${what}`, RESTART_HINT);
}

const show = (v: unknown): string => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
};

const field = (name: string, v: unknown, want: string): string => (v === undefined ? `"${name}" is missing` : `"${name}" is ${show(v)}, not ${want}`);

/**
 * The one place a reply line is trusted: it returns the result, or throws the
 * daemon's refusal or E_DAEMON, always with a code of ours, so callers never
 * see a daemon's (or an impostor's) arbitrary shapes or codes.
 */
export function parseReply(line: string, id: number, method: Method): unknown {
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch {
    throw malformed(method, `not JSON: ${show(line)}`);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) throw malformed(method, `not a JSON object: ${show(reply)}`);
  const r = reply as Record<string, unknown>;
  // The server answers with id null when it could not read the request's id.
  if (r.id !== id && !(r.id === null && r.ok === false)) throw malformed(method, field('id', r.id, `the request's ${id}`));
  if (typeof r.ok !== 'boolean') throw malformed(method, field('ok', r.ok, 'true or false'));
  if (r.ok) {
    // null is what requestDaemon says when no daemon runs; a daemon never sends it.
    if (r.result === undefined || r.result === null) throw malformed(method, `it says ok but ${field('result', r.result, 'a value')}`);
    return r.result;
  }
  const e = r.error;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw malformed(method, `it says not ok but ${field('error', e, 'an object')}`);
  const { code, message, hint } = e as Record<string, unknown>;
  if (typeof code !== 'string') throw malformed(method, field('error.code', code, 'a string'));
  if (typeof message !== 'string') throw malformed(method, field('error.message', message, 'a string'));
  if (hint !== undefined && typeof hint !== 'string') throw malformed(method, field('error.hint', hint, 'a string'));
  if (!isKnownCode(code)) {
    throw new SecuxflowError('E_DAEMON', `the daemon refused "${method}" with an unknown error code ${show(code)}: ${message}`, hint ?? RESTART_HINT);
  }
  throw new SecuxflowError(code, message, hint);
}

const mode = (st: Stats): string => `0${(st.mode & 0o777).toString(8).padStart(3, '0')}`;

/**
 * What keeps this user from the socket, named: a directory on the way that
 * does not let them through, or the socket's own group and mode. "A member of
 * the socket's group" left a member of control_group, stopped by a 0700
 * state directory, with nothing to go on.
 */
function noPermission(path: string): SecuxflowError {
  const dir = dirname(path);
  const parts = dir.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const d = `/${parts.slice(0, i).join('/')}`;
    try {
      accessSync(d, constants.X_OK);
    } catch {
      let what = '';
      try {
        const st = statSync(d);
        what = ` (mode ${mode(st)}, group ${groupName(st.gid)})`;
      } catch {
        // its parent let us through, so this is rare; the path alone still says where
      }
      return new SecuxflowError('E_DAEMON', `no permission to reach the daemon's control socket ${path}: the directory ${d}${what} does not let you through`,
        `run as root; for the members of control_group to use the socket, ${d} must let its group through too (chgrp GROUP ${d}; chmod g+x ${d})`);
    }
  }
  try {
    const st = statSync(path);
    const group = groupName(st.gid);
    return new SecuxflowError('E_DAEMON', `no permission to talk to the daemon on ${path} (mode ${mode(st)}, group ${group})`,
      st.gid === 0
        ? 'run as root; to let other users in, name their group in the daemon config (control_group: GROUP) and reload it (systemctl reload secuxflow@IFACE)'
        : `run as root, or as a member of group ${group} (the daemon config's control_group; \`id\` shows your groups, and a new membership needs a new login)`);
  } catch {
    return new SecuxflowError('E_DAEMON', `no permission to talk to the daemon on ${path}`, 'run as root, or as a member of the socket\'s group');
  }
}

/**
 * Sends one request and resolves with its result; null when no daemon runs.
 * A refused request throws a SecuxflowError with the daemon's code and message.
 */
export function requestDaemon(stateDir: string | undefined, method: Method, params: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<unknown | null> {
  const path = controlSocketPath(stateDir);
  // No daemon listens there (it refuses such a path), and a connect would reach the truncated path instead.
  if (socketPathTooLong(path)) return Promise.resolve(null);
  const id = nextId++;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    let buf = '';
    const sock = createConnection(path);
    // Decoded by the stream so a character split across chunks stays whole.
    sock.setEncoding('utf8');
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new SecuxflowError('E_DAEMON', `the daemon did not answer "${method}" within ${timeoutMs} ms (socket ${path})`,
      'check its log; if it hangs, restart it (systemctl restart secuxflow@IFACE)'))), timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify({ id, method, params })}\n`));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') done(() => resolve(null));
      else if (e.code === 'ENOTDIR') {
        done(() => reject(new SecuxflowError('E_STATE', `the state directory ${dirname(path)} is not a directory (a part of it is a file)`,
          'give the directory itself with --state-dir (or SECUXFLOW_STATE_DIR), not a file in it')));
      } else if (e.code === 'EACCES') done(() => reject(noPermission(path)));
      else done(() => reject(new SecuxflowError('E_DAEMON', `control socket ${path}: ${e.message}`)));
    });
    // An exception thrown in a socket handler would kill the CLI with a stack
    // trace, lock file left behind: everything here ends in done() instead.
    sock.on('data', (chunk: string) => {
      if (settled) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REPLY_BYTES) done(() => reject(malformed(method, `no end of line after ${MAX_REPLY_BYTES} bytes`)));
        return;
      }
      try {
        const result = parseReply(buf.slice(0, nl), id, method);
        done(() => resolve(result));
      } catch (e) {
        done(() => reject(e instanceof SecuxflowError ? e : malformed(method, e instanceof Error ? e.message : String(e))));
      }
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
    // The code goes into the note so a warning still says E_DAEMON from E_STATE.
    return { running: true, error: codedMessage(e) };
  }
}
