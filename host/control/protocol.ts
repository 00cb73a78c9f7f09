// The control protocol: newline-delimited JSON over a Unix socket in the state
// directory. One request per line, one reply per request, matched by id:
//   -> {"id": 1, "method": "status", "params": {}}
//   <- {"id": 1, "ok": true, "result": {...}}
//   <- {"id": 1, "ok": false, "error": {"code": "E_USAGE", "message": "...", "hint": "..."}}
// Error codes are the CLI's (host/errors.ts), so scripts branch the same way
// on both. docs/live.md lists the methods and their params.
import { join } from 'node:path';
import { resolveStateDir } from '../state/store.js';

export const CONTROL_SOCKET = 'control.sock';
/** A request line longer than this is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export const METHODS = ['status', 'rules.reload', 'modules.list', 'modules.load', 'modules.unload', 'config.reload', 'penalty.release', 'flow.release', 'shutdown'] as const;
export type Method = (typeof METHODS)[number];

export interface ControlRequest {
  id: number | string;
  method: Method;
  params?: Record<string, unknown>;
}

export interface ControlError {
  code: string;
  message: string;
  hint?: string;
}

export type ControlReply =
  | { id: number | string | null; ok: true; result: unknown }
  | { id: number | string | null; ok: false; error: ControlError };

export function controlSocketPath(stateDir?: string): string {
  return join(resolveStateDir(stateDir), CONTROL_SOCKET);
}

/**
 * A Unix socket address holds 108 bytes with the closing NUL. bind and
 * connect silently cut a longer path, so the socket would be made (and
 * looked for) somewhere else: a truncated name in a parent directory.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export function socketPathTooLong(path: string): boolean {
  return Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES;
}
