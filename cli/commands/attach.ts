// `secuxflow attach` and `secuxflow detach`: thin wrappers over
// host/kernel/attach.ts that validate flags and say what happened.
import type { Command } from 'commander';
import { action, printJson } from '../action.js';
import { SecuxflowError, codedMessage } from '../../host/errors.js';
import { attach, detach, keptFailMode, listAttachments, type AttachMode, type AttachResult, type DetachResult, type FailMode, type PolicyName } from '../../host/kernel/attach.js';
import { assertIfaceName } from '../../host/kernel/ifname.js';
import { currentNetns } from '../../host/kernel/iface.js';
import { pinDir } from '../../host/kernel/pins.js';
import { describeReplacedPins } from '../../host/kernel/kept-pins.js';
import { assertCanManageXdp } from '../../host/kernel/privilege.js';
import { resolveStateDir } from '../../host/state/store.js';
import { notifyDaemon, requestDaemon } from '../../host/control/client.js';

export interface AttachCommandOptions {
  iface: string;
  mode?: string;
  policy?: string;
  fail?: string;
  stateDir?: string;
  json?: boolean;
}

export interface DetachCommandOptions {
  iface: string;
  keepMaps?: boolean;
  /** Detach even while a daemon of this state directory runs on the interface. */
  force?: boolean;
  stateDir?: string;
  json?: boolean;
}

const MODES: readonly AttachMode[] = ['native', 'skb', 'auto'];
const POLICIES: readonly PolicyName[] = ['allow', 'deny'];
const FAILS: readonly FailMode[] = ['open', 'closed'];

// The rule commands' words for the same choices (`rule default pass|drop`), so the hint can translate.
const SYNONYMS: Record<string, string> = { pass: 'allow', accept: 'allow', drop: 'deny', block: 'deny', native: 'native', xdpdrv: 'native', xdpgeneric: 'skb', generic: 'skb' };

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const guess = allowed.find((a) => a === SYNONYMS[value.toLowerCase()] || a === value.toLowerCase());
  throw new SecuxflowError('E_USAGE', `${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`,
    guess !== undefined ? `did you mean ${flag} ${guess}?` : `use ${flag} ${allowed.join('|')}`);
}

function requireIface(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SecuxflowError('E_USAGE', '--iface is required', 'name the interface to attach to, e.g. --iface eth0 (list them with: ip -br link)');
  }
  assertIfaceName(value);
  return value;
}

export interface AttachCommandResult extends AttachResult {
  /** When --policy changed the rule set: whether a running daemon took it (error: it did not), as the rule commands report. */
  daemon?: { running: boolean; error: string | null };
}

/**
 * The fail mode a re-attach without --fail keeps: the record's, else that of the
 * config map a `detach --keep-maps` left, else open. Taking the flag's default
 * instead turned a fail-closed interface fail-open on a mere re-attach, as
 * `secuxflow run` (which keeps it the same way) and --policy never did.
 */
function keptFail(iface: string, stateDir: string): FailMode {
  const netns = currentNetns();
  return listAttachments(stateDir).find((a) => a.iface === iface && a.netns === netns)?.fail ?? keptFailMode(pinDir(iface)) ?? 'open';
}

/** Validates the options, attaches, and returns what the kernel gave us. */
export async function attachCommand(opts: AttachCommandOptions): Promise<AttachCommandResult> {
  const iface = requireIface(opts.iface);
  const mode = oneOf('--mode', opts.mode, MODES, 'auto');
  const policy = opts.policy === undefined ? undefined : oneOf('--policy', opts.policy, POLICIES, 'allow');
  const stateDir = resolveStateDir(opts.stateDir);
  // Before the kept fail mode is read: a user who cannot attach hears that, not that the state is unreadable.
  if (opts.fail === undefined) assertCanManageXdp('attach');
  const fail = opts.fail === undefined ? keptFail(iface, stateDir) : oneOf('--fail', opts.fail, FAILS, 'open');
  const r = await attach({ iface, mode, ...(policy ? { policy } : {}), fail, stateDir });
  if (!r.policyChanged) return r;
  // The rule set's default changed: a running daemon's engine must follow, as after `rule default`.
  return { ...r, daemon: await notifyDaemon(stateDir, 'rules.reload') };
}

/** What `auto` gave: native, a fallback (with the reason), or, on a re-attach, the mode the interface already had. */
function autoNote(r: AttachResult): string {
  if (r.requestedMode !== 'auto') return '';
  if (r.mode === 'native') return ' (auto: native mode worked)';
  if (r.fallbackReason !== null) return ` (native mode failed: ${r.fallbackReason}; fell back to skb)`;
  return r.reattached ? ` (auto: kept the ${r.mode} mode it was attached in; --mode native changes it)` : '';
}

function daemonNote(r: AttachCommandResult): string {
  return r.daemon?.running && !r.daemon.error ? ' and the running daemon' : '';
}

/**
 * A detach under a running daemon left it running with no XDP program: no
 * packet reached it, and status still said it ran on the interface. The
 * daemon of this state directory is asked which interfaces it runs on; with
 * no daemon (a stopped service) detach goes ahead; an attachment this state
 * directory has no record of needs --force in any case (host/kernel/attach.ts).
 */
async function refuseWhileDaemonRuns(iface: string, stateDir: string): Promise<void> {
  const force = `or, to detach anyway and leave the daemon without its XDP program: secuxflow detach --iface ${iface} --force`;
  let status: unknown;
  try {
    status = await requestDaemon(stateDir, 'status', {}, { timeoutMs: 10_000 });
  } catch (e) {
    const why = codedMessage(e);
    throw new SecuxflowError('E_DAEMON', `cannot tell whether a secuxflow daemon is running on ${iface}: the daemon of ${stateDir} did not give its status (${why})`,
      `stop the daemon (SIGTERM, or systemctl stop secuxflow@${iface}), then detach; ${force}`);
  }
  if (status === null) return;
  const s = status as { daemon?: { pid?: unknown }; interfaces?: unknown };
  const ifaces = Array.isArray(s.interfaces) ? s.interfaces : [];
  if (!ifaces.some((i) => typeof i === 'object' && i !== null && (i as { iface?: unknown }).iface === iface)) return;
  const pid = typeof s.daemon?.pid === 'number' ? s.daemon.pid : null;
  // packaging/secuxflow@.service is a template whose instance is the protected interface (an inline daemon's peer is not one).
  const protectedIf = ifaces.find((i) => typeof i === 'object' && i !== null && (i as { role?: unknown }).role === 'protected') as { iface?: unknown } | undefined;
  const unit = `secuxflow@${typeof protectedIf?.iface === 'string' ? protectedIf.iface : iface}`;
  throw new SecuxflowError('E_DAEMON',
    `a secuxflow daemon${pid !== null ? ` (pid ${pid})` : ''} is running on ${iface} from ${stateDir}: detaching would leave it running with no XDP program, seeing no packets`,
    `stop the daemon first (${pid !== null ? `kill -TERM ${pid}` : 'send it SIGTERM'}, or systemctl stop ${unit}), then detach; ${force}`);
}

export async function detachCommand(opts: DetachCommandOptions): Promise<DetachResult> {
  const iface = requireIface(opts.iface);
  const stateDir = resolveStateDir(opts.stateDir);
  // Without root the daemon cannot be asked, and detach could not proceed anyway: say that first.
  assertCanManageXdp('detach');
  if (opts.force !== true) await refuseWhileDaemonRuns(iface, stateDir);
  return detach({ iface, keepMaps: opts.keepMaps === true, stateDir, force: opts.force === true });
}

/** The line that says flows blocked by an earlier rule change run again (attach and the rule commands). */
export function flowsRestoredLine(n: number): string {
  return `${n} flow${n === 1 ? '' : 's'} an earlier rule change had blocked and the rules no longer drop ${n === 1 ? 'is' : 'are'} allowed again`;
}

export function describeAttach(r: AttachCommandResult): string {
  const lines = [
    `${r.reattached ? 'updated' : 'attached'} secuxflow on ${r.iface} (ifindex ${r.ifindex}) in ${r.mode} mode${autoNote(r)}`,
    `  default policy: ${r.defaultPolicy} for packets no rule matches${r.policyChanged ? ` (changed for the whole rule set, every attached interface${daemonNote(r)})` : ''}`,
    `  fail mode: ${r.fail} (${r.fail === 'open' ? 'pass' : 'drop'} packets to inspect when no inspector is bound)`,
    `  rules applied: ${r.rulesApplied}`,
    `  maps pinned in: ${r.pinDir}`,
  ];
  if (r.flowsBlocked > 0) lines.push(`  ${r.flowsBlocked} flow${r.flowsBlocked === 1 ? '' : 's'} the kept maps had allowed and the rules drop ${r.flowsBlocked === 1 ? 'is' : 'are'} now blocked`);
  if (r.flowsRestored > 0) lines.push(`  ${flowsRestoredLine(r.flowsRestored)}`);
  if (r.replacedPins.length > 0) lines.push(`  warning: ${describeReplacedPins(r.replacedPins)}`);
  if (r.obsoletePinsRemoved.length > 0) lines.push(`  unpinned maps an older version left and this one does not use: ${r.obsoletePinsRemoved.join(', ')}`);
  if (r.daemon?.error) lines.push(`  warning: the running daemon did not take the new default policy: ${r.daemon.error}`);
  return `${lines.join('\n')}\n`;
}

export function describeDetach(r: DetachResult): string {
  return (
    `detached secuxflow from ${r.iface}` +
    (r.keptMaps ? `; maps kept in ${r.pinDir} for the next attach\n` : `; unpinned ${r.pinDir}\n`) +
    r.notes.map((n) => `  note: ${n}\n`).join('')
  );
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('load the XDP program on an interface, apply the stored rules, and pin its maps')
    .option('--iface <name>', 'interface to attach to (required)')
    .option('--mode <mode>', 'XDP mode: native, skb, or auto (native, falling back to skb)', 'auto')
    .option('--policy <policy>', 'set the rule set\'s default policy: allow (pass) or deny (drop); default: keep the stored one (pass for a new rule set)')
    .option('--fail <mode>', 'packets to inspect when no inspector is bound: open (pass) or closed (drop); default: keep the one set before (open the first time)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the result as JSON')
    .action(
      action('attach', async (opts: AttachCommandOptions) => {
        const r = await attachCommand(opts);
        if (opts.json) printJson(r);
        else process.stdout.write(describeAttach(r));
      }),
    );

  program
    .command('detach')
    .description('remove the XDP program from an interface and unpin its maps')
    .option('--iface <name>', 'interface to detach from (required)')
    .option('--keep-maps', 'leave the maps pinned so the next attach reuses them')
    .option('--force', 'detach even while a daemon of this state directory runs on the interface (it is left with no XDP program), or when this state directory has no record of the attachment (an interrupted attach)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the result as JSON')
    .action(
      action('detach', async (opts: DetachCommandOptions) => {
        const r = await detachCommand(opts);
        if (opts.json) printJson(r);
        else process.stdout.write(describeDetach(r));
      }),
    );
}
