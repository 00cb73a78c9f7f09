// `secuxflow block list|add|delete|clear`: the kernel's penalty box, where
// BLOCK_SRC verdicts put sources for a while. An operator needs to see who is
// in it, to release a false positive at once rather than wait out its TTL,
// and to put a source in by hand. Changes go to every attached interface's
// maps (host/kernel/blocked-sources.ts); a running daemon is told of releases,
// since its engines keep a penalty box of their own for punted packets.
import type { Command } from 'commander';
import { SecuxflowError } from '../../host/errors.js';
import { blockSource, listBlockedSources, releaseSources, type BlockedSourcesList } from '../../host/kernel/blocked-sources.js';
import { requireAttached } from '../../host/kernel/attached-change.js';
import { recentAlerts } from '../../host/daemon/alerts.js';
import { daemonEvePath } from './alerts.js';
import { notifyDaemon } from '../../host/control/client.js';
import { parseIp } from '../../host/packet/addr.js';
import { net6Of, parsePenaltyEntry, penaltyEntryName } from '../../host/kernel/penalty-entry.js';
import { SF } from '../../host/kernel/codec.js';
import { StateStore } from '../../host/state/store.js';
import { action, printJson } from '../action.js';
import { table, thousands } from '../format.js';
import { describeDuration, parseDuration } from '../../host/duration.js';
import type { StateDirOption } from './rule.js';

/** The default time a source stays blocked by hand: fail2ban's order of magnitude, long enough to look into it. */
export const DEFAULT_BLOCK_TTL_SEC = 3600;
/** Longer than this is a rule's job: the penalty box is for blocks that end. */
export const MAX_BLOCK_TTL_SEC = 30 * 86_400;

const STATE_DIR_HELP = 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)';

/** One entry as typed: a source address, or an IPv6 /64 (the penalty box holds no other networks). */
export function parseSource(text: string): Uint8Array {
  return parsePenaltyEntry(text);
}

/** The alert that last blocked a source, as the daemon's EVE file has it. */
export interface BlockingAlert {
  signatureId: number;
  signature: string;
  timestamp: string;
}

export interface BlockedList extends BlockedSourcesList {
  stateDir: string;
  /** By source; absent for a source blocked by hand, or by an alert older than the ones read. */
  lastBlockingAlert: Map<string, BlockingAlert>;
}

/** How many of the EVE file's latest alerts `block list` reads for the reason of each block. */
const ALERTS_READ = 5000;

export async function listBlocked(opts: StateDirOption = {}): Promise<BlockedList> {
  const stateDir = new StateStore(opts.stateDir).dir;
  const list = listBlockedSources(stateDir);
  return { stateDir, ...list, lastBlockingAlert: list.sources.length > 0 ? lastBlockingAlerts(await daemonEvePath(stateDir), new Set(list.sources.map((s) => s.addr))) : new Map() };
}

/**
 * Why each source is in the box, as far as the EVE file tells: its latest
 * alert with action "blocked" among the file's last ALERTS_READ alerts (read
 * backwards, bounded). Best effort: an unreadable file gives no reasons.
 */
function lastBlockingAlerts(evePath: string, sources: Set<string>): Map<string, BlockingAlert> {
  const out = new Map<string, BlockingAlert>();
  let alerts;
  try {
    alerts = recentAlerts(evePath, 0, ALERTS_READ, { partialTail: true }).alerts;
  } catch {
    return out;
  }
  for (const a of alerts) {
    const r = a.record as { src_ip?: unknown; alert?: { action?: unknown; signature_id?: unknown; signature?: unknown } };
    if (typeof r.src_ip !== 'string' || r.alert?.action !== 'blocked') continue;
    const entry = blockedEntryOf(r.src_ip, sources);
    if (entry === null) continue;
    // Oldest first: a later alert replaces an earlier one.
    out.set(entry, { signatureId: Number(r.alert.signature_id), signature: String(r.alert.signature ?? ''), timestamp: a.timestamp });
  }
  return out;
}

/** The entry that holds a source: the source itself, or its /64. */
function blockedEntryOf(src: string, entries: Set<string>): string | null {
  if (entries.has(src)) return src;
  let net: Uint8Array | null = null;
  try {
    net = net6Of(parseIp(src));
  } catch {
    return null;
  }
  const name = net === null ? null : penaltyEntryName(net);
  return name !== null && entries.has(name) ? name : null;
}

export interface BlockResult {
  addr: string;
  ttlSec: number;
  ifaces: string[];
}

export async function addBlock(opts: StateDirOption & { addr?: string; ttl?: string }): Promise<BlockResult> {
  if (opts.addr === undefined) throw new SecuxflowError('E_USAGE', 'the source address is required', 'secuxflow block add 192.0.2.7 --ttl 1h');
  const addr = parseSource(opts.addr);
  const ttlSec = opts.ttl === undefined ? DEFAULT_BLOCK_TTL_SEC : parseDuration('--ttl', opts.ttl, 1, MAX_BLOCK_TTL_SEC);
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => ({ addr: penaltyEntryName(addr), ttlSec, ifaces: blockSource(store.dir, addr, ttlSec).ifaces }));
}

export interface ReleaseCommandResult {
  released: string[];
  ifaces: string[];
  daemon: { running: boolean; error: string | null };
}

/** Releases the given sources (every one when `addrs` is null); a source in no interface's box is refused, with nothing changed. */
export async function releaseBlocks(opts: StateDirOption & { addrs: string[] | null }): Promise<ReleaseCommandResult> {
  const addrs = opts.addrs === null ? null : opts.addrs.map(parseSource);
  if (addrs !== null && addrs.length === 0) throw new SecuxflowError('E_USAGE', 'name at least one source address', 'see them with: secuxflow block list; or release all: secuxflow block clear');
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    requireAttached(store.dir, 'the penalty box');
    if (addrs !== null) {
      const live = new Set(listBlockedSources(store.dir).sources.map((s) => s.addr));
      const absent = addrs.map(penaltyEntryName).filter((a) => !live.has(a));
      if (absent.length > 0) {
        throw new SecuxflowError('E_NOT_BLOCKED', `${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} not in the penalty box${addrs.length > 1 ? '; nothing was released' : ''}`,
          'see the blocked sources with: secuxflow block list');
      }
    }
    const r = releaseSources(store.dir, addrs);
    const daemon = await notifyDaemon(store.dir, 'penalty.release', { addresses: addrs === null ? null : addrs.map(penaltyEntryName) });
    return { released: r.released, ifaces: r.ifaces, daemon };
  });
}

export function formatBlockList(list: BlockedList): string {
  const lines: string[] = [];
  if (list.ifaces.length === 0 && list.unreadable.length === 0) {
    lines.push('nothing is attached, so there is no penalty box (secuxflow attach --iface IF, or secuxflow run --iface IF)');
  } else if (list.sources.length === 0) {
    lines.push(`the penalty box is empty (${list.ifaces.join(', ')})`);
  } else {
    const why = (addr: string): string => {
      const a = list.lastBlockingAlert.get(addr);
      return a ? `[${a.signatureId}] ${a.signature.length > 60 ? `${a.signature.slice(0, 59)}…` : a.signature}` : '-';
    };
    const rows = list.sources.map((s) => [s.addr, describeDuration(s.expiresInSec), String(s.hits), s.ifaces.join(','), why(s.addr)]);
    lines.push(table([['SOURCE', 'EXPIRES IN', 'DROPPED', 'INTERFACES', 'LAST BLOCKING ALERT'], ...rows], ''));
    lines.push(`${list.sources.length} source${list.sources.length === 1 ? '' : 's'} blocked (the box holds ${thousands(SF.MAX_PENALTY)})`);
  }
  if (list.expired > 0) lines.push(`${list.expired} expired entr${list.expired === 1 ? 'y' : 'ies'} not shown: the program ignores them, the daemon's sweep removes them`);
  for (const u of list.unreadable) lines.push(`warning: cannot read the penalty box of ${u.iface}: ${u.error}`);
  return lines.join('\n');
}

function daemonNote(d: ReleaseCommandResult['daemon']): string {
  if (d.error) return `\n  warning: the running daemon did not take the release (${d.error}): packets of these sources that it inspects stay dropped until their block's time runs out`;
  return d.running ? ' and the running daemon' : '';
}

export function registerBlock(program: Command): void {
  const block = program.command('block').description('the penalty box: sources dropped in the kernel for a time (BLOCK_SRC verdicts, or by hand)');

  block.command('list')
    .description('show the blocked sources, the time left and the packets dropped')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('block list', async (opts: StateDirOption & { json?: boolean }) => {
      const list = await listBlocked(opts);
      if (opts.json) {
        const alertJson = (a: BlockingAlert | undefined) => (a ? { signature_id: a.signatureId, signature: a.signature, timestamp: a.timestamp } : null);
        printJson({
          interfaces: list.ifaces, expired: list.expired, unreadable: list.unreadable,
          sources: list.sources.map((s) => ({ addr: s.addr, expires_in_sec: s.expiresInSec, dropped: s.hits, interfaces: s.ifaces, last_blocking_alert: alertJson(list.lastBlockingAlert.get(s.addr)) })),
        });
      } else {
        process.stdout.write(`${formatBlockList(list)}\n`);
      }
    }));

  block.command('add')
    .description('drop every packet from a source in the kernel for a time (example: block add 192.0.2.7 --ttl 30m)')
    .argument('<addr>', 'source IPv4 or IPv6 address, or an IPv6 /64 (2001:db8:1:2::/64)')
    .option('--ttl <duration>', `how long: seconds, or with s, m, h or d (default ${describeDuration(DEFAULT_BLOCK_TTL_SEC)}, at most ${describeDuration(MAX_BLOCK_TTL_SEC)})`)
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('block add', async (addr: string, opts: StateDirOption & { ttl?: string; json?: boolean }) => {
      const r = await addBlock({ ...opts, addr });
      if (opts.json) printJson({ addr: r.addr, ttl_sec: r.ttlSec, interfaces: r.ifaces });
      else process.stdout.write(`blocked ${r.addr} for ${describeDuration(r.ttlSec)} on ${r.ifaces.join(', ')}\n`);
    }));

  block.command('delete')
    .description('release sources from the penalty box now (flows a module blocked stay blocked: secuxflow flow delete)')
    .argument('<addr...>', 'entries as block list names them: addresses, or IPv6 /64s')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('block delete', async (addrs: string[], opts: StateDirOption & { json?: boolean }) => {
      const r = await releaseBlocks({ ...opts, addrs });
      if (opts.json) printJson({ released: r.released, interfaces: r.ifaces, daemon: r.daemon });
      else process.stdout.write(`released ${r.released.join(', ')} on ${r.ifaces.join(', ')}${daemonNote(r.daemon)}\n`);
    }));

  block.command('clear')
    .description('release every source from the penalty box')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('block clear', async (opts: StateDirOption & { json?: boolean }) => {
      const r = await releaseBlocks({ ...opts, addrs: null });
      if (opts.json) printJson({ released: r.released, interfaces: r.ifaces, daemon: r.daemon });
      else process.stdout.write(`released ${r.released.length} source${r.released.length === 1 ? '' : 's'} on ${r.ifaces.join(', ')}${daemonNote(r.daemon)}\n`);
    }));
}
