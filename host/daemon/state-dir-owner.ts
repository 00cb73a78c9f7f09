// A second `secuxflow run` on the same state directory is refused (its rules,
// modules and control socket belong to the daemon already there). Admins hit
// it when they start the systemd template for a second interface, so the
// refusal names the daemon in the way and how to give the new one its own.
import { requestDaemon } from '../control/client.js';
import { SecuxflowError } from '../errors.js';

/** Rewrites "a daemon is already running" into who runs where, and what to do; other errors pass through. */
export async function explainStateDirTaken(e: unknown, stateDir: string, iface: string): Promise<unknown> {
  if (!(e instanceof SecuxflowError) || e.code !== 'E_DAEMON' || !e.message.includes('already running')) return e;
  let who = 'a secuxflow daemon';
  let pidPart = '';
  let runsOnIface = false;
  try {
    const s = await requestDaemon(stateDir, 'status', {}, { timeoutMs: 3000 }) as { daemon?: { pid?: unknown }; interfaces?: { iface?: unknown }[] } | null;
    pidPart = typeof s?.daemon?.pid === 'number' ? ` (pid ${s.daemon.pid})` : '';
    const ifaces = (s?.interfaces ?? []).map((i) => i.iface).filter((x): x is string => typeof x === 'string');
    who = `a secuxflow daemon${pidPart}${ifaces.length > 0 ? ` on ${ifaces.join(' and ')}` : ''}`;
    runsOnIface = ifaces.includes(iface);
  } catch {
    // It answered the liveness check a moment ago; without its status, say less.
  }
  if (runsOnIface) {
    // The same interface: a second daemon is not what is missing; a restart of the first may be.
    return new SecuxflowError('E_DAEMON', `a secuxflow daemon${pidPart} already runs from ${stateDir} and protects ${iface}`,
      `it is running: see it with secuxflow status${stateDir === '/var/lib/secuxflow' ? '' : ` --state-dir ${stateDir}`}; to restart it, stop it first (systemctl restart secuxflow@${iface}, or kill -TERM its pid)`);
  }
  return new SecuxflowError('E_DAEMON', `${who} already runs from ${stateDir}: one daemon per state directory (its rules, modules and control socket)`,
    `to protect ${iface} as well, give its daemon a state directory of its own: secuxflow run --iface ${iface} --state-dir /var/lib/secuxflow-${iface} ` +
    `(systemd: a drop-in for secuxflow@${iface} with Environment=SECUXFLOW_STATE_DIR=/var/lib/secuxflow-${iface}); rule and module commands then take the same --state-dir`);
}
