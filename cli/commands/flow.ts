// `secuxflow flow list|delete|clear`: the flows the kernel decides without a
// punt, the fast path the daemon's ALLOW_FLOW and BLOCK_FLOW verdicts (and
// rule changes that drop allowed flows) fill. `status` counts them; `list`
// names them, with the packets XDP handled for each, so an operator can see
// why a connection is dropped with no punt, or what the fast path saves.
// `delete` and `clear` forget verdicts, as `conntrack -D` and `-F` do: the
// flows' next packets meet the rules, and the modules, again. A blocked flow
// whose client keeps retrying never goes idle, so without them a module's
// false positive would hold until the client gave up.
import type { Command } from 'commander';
import { SecuxflowError } from '../../host/errors.js';
import { deleteKernelFlows, listKernelFlows, selectableFlow, type KernelFlow, type KernelFlowList } from '../../host/kernel/flow-entries.js';
import { formatIp, parseIp } from '../../host/packet/addr.js';
import { ALL_FLOWS, hasPorts, hostName, isSelective, selectsFlow, type FlowSelector } from '../../host/flow/selector.js';
import { notifyDaemon } from '../../host/control/client.js';
import { requireAttached } from '../../host/kernel/attached-change.js';
import { protoName } from '../../host/eve/format.js';
import { SF } from '../../host/kernel/codec.js';
import { StateStore } from '../../host/state/store.js';
import { action, printJson } from '../action.js';
import { endpoint, table, thousands } from '../format.js';
import type { StateDirOption } from './rule.js';

/** The selectors as typed: `flow list`, `delete` and `clear` take the same ones. */
export interface FlowFilterOptions extends StateDirOption {
  verdict?: string;
  host?: string;
  port?: string;
}

export interface FlowListOptions extends FlowFilterOptions {
  limit?: string;
}

export interface FlowListResult extends KernelFlowList {
  /** Flows in the kernel before the filters (`flows` holds those that passed them). */
  total: number;
}

const DEFAULT_LIMIT = 50;

/** "198.18.64.2:53976 ⇄ 198.18.64.1:80/tcp vlan 10", as the demo and EVE name a flow. */
export function flowName(f: KernelFlow): string {
  const k = f.key;
  const ports = hasPorts(k.proto);
  const vlan = k.vlanOuter ? ` vlan ${k.vlanOuter}${k.vlanInner ? `/${k.vlanInner}` : ''}` : '';
  return `${endpoint(k.src, k.sport, ports)} ⇄ ${endpoint(k.dst, k.dport, ports)}/${protoName(k.proto).toLowerCase()}${vlan}`;
}

/** The selector the options name; a bad one is refused naming the option. */
export function flowSelector(opts: FlowFilterOptions): FlowSelector {
  const { verdict, host, port } = opts;
  if (verdict !== undefined && verdict !== 'allow' && verdict !== 'block') {
    throw new SecuxflowError('E_USAGE', `--verdict ${JSON.stringify(verdict)}: not a flow verdict`, 'give --verdict allow or --verdict block');
  }
  let hostText: string | null = null;
  if (host !== undefined) {
    try {
      if (host.includes('/')) throw new Error('a network; flows are picked by one address');
      hostText = hostName(parseIp(host));
    } catch (e) {
      throw new SecuxflowError('E_USAGE', `--host ${JSON.stringify(host)}: not an IPv4 or IPv6 address${e instanceof Error ? ` (${e.message})` : ''}`,
        'give one address at either end of the flows, for example 192.0.2.7 or 2001:db8::7');
    }
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
    throw new SecuxflowError('E_USAGE', `--port ${JSON.stringify(port)}: not a port number`, 'give a TCP or UDP port, 0 to 65535, at either end of the flows');
  }
  return { host: hostText, port: port === undefined ? null : Number(port), verdict: verdict ?? null };
}

export function listFlows(opts: FlowListOptions = {}): FlowListResult {
  const sel = flowSelector(opts);
  const stateDir = new StateStore(opts.stateDir).dir;
  const all = listKernelFlows(stateDir);
  return { ...all, flows: all.flows.filter((f) => selectsFlow(sel, selectableFlow(f))), total: all.flows.length };
}

export interface FlowDeleteResult {
  deleted: KernelFlow[];
  ifaces: string[];
  daemon: { running: boolean; error: string | null };
}

/**
 * Deletes the kernel entries of the flows the options pick (`all`: every
 * one the verdict filter lets through) on every attached interface, after
 * telling a running daemon to forget their verdicts: in the other order, a
 * packet of a busy flow punted in between would meet the engine's old
 * verdict, which writes the entries back.
 */
export async function deleteFlows(opts: FlowFilterOptions & { all?: boolean }): Promise<FlowDeleteResult> {
  const sel = flowSelector(opts);
  if (!opts.all && !isSelective(sel)) {
    throw new SecuxflowError('E_USAGE', 'name the flows to delete with --host, --port or --verdict', 'see them with: secuxflow flow list; or delete them all: secuxflow flow clear');
  }
  if (opts.all && (sel.host !== null || sel.port !== null)) {
    throw new SecuxflowError('E_USAGE', 'flow clear takes no --host or --port', 'to delete some flows: secuxflow flow delete --host ADDR or --port N');
  }
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    requireAttached(store.dir, 'the flow verdict map');
    if (!opts.all && !listKernelFlows(store.dir).flows.some((f) => selectsFlow(sel, selectableFlow(f)))) {
      throw new SecuxflowError('E_NO_FLOW', `no flow decided in the kernel matches ${describeSelector(sel)}; nothing was deleted`, 'see them with: secuxflow flow list');
    }
    const daemon = await notifyDaemon(store.dir, 'flow.release', { ...sel });
    const r = deleteKernelFlows(store.dir, opts.all ? { ...ALL_FLOWS, verdict: sel.verdict } : sel);
    return { deleted: r.deleted, ifaces: r.ifaces, daemon };
  });
}

function describeSelector(sel: FlowSelector): string {
  const parts: string[] = [];
  if (sel.host !== null) parts.push(`host ${sel.host}`);
  if (sel.port !== null) parts.push(`port ${sel.port}`);
  if (sel.verdict !== null) parts.push(`verdict ${sel.verdict}`);
  return parts.join(', ');
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(text) || Number(text) > SF.MAX_FLOWS) {
    throw new SecuxflowError('E_USAGE', `--limit ${JSON.stringify(text)}: not a number of flows`, `give 0 (all) to ${SF.MAX_FLOWS}`);
  }
  return Number(text);
}

export function formatFlowList(list: FlowListResult, limit: number): string {
  const lines: string[] = [];
  if (list.ifaces.length === 0 && list.unreadable.length === 0) {
    lines.push('nothing is attached, so the kernel decides no flow (secuxflow attach --iface IF, or secuxflow run --iface IF)');
  } else if (list.total === 0) {
    lines.push(`no flow is decided in the kernel (${list.ifaces.join(', ')})`);
  } else if (list.flows.length === 0) {
    lines.push(`none of the ${list.total} flow${list.total === 1 ? '' : 's'} decided in the kernel matches`);
  } else {
    const shown = limit === 0 ? list.flows : list.flows.slice(0, limit);
    const counts = (f: KernelFlow, what: 'packets' | 'bytes'): string => `${thousands(f.forward[what])}/${f.reverse ? thousands(f.reverse[what]) : '-'}`;
    const rows = shown.map((f) => [flowName(f), f.verdict, f.origin, counts(f, 'packets'), counts(f, 'bytes'), f.iface]);
    lines.push(table([['FLOW', 'VERDICT', 'BY', 'PACKETS →/←', 'BYTES →/←', 'INTERFACE'], ...rows], ''));
    const more = list.flows.length - shown.length;
    lines.push(`${list.flows.length} flow${list.flows.length === 1 ? '' : 's'} decided in the kernel${more > 0 ? `; ${more} more not shown (--limit 0 shows all)` : ''}; XDP counts each direction in its own entry`);
  }
  for (const u of list.unreadable) lines.push(`warning: cannot read the flow entries of ${u.iface}: ${u.error}`);
  return lines.join('\n');
}

const STATE_DIR_HELP = 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)';
/** Flows named in a delete's output; more are counted. */
const NAMED_IN_OUTPUT = 10;

function flowJson(f: KernelFlow): Record<string, unknown> {
  return {
    interface: f.iface, src_ip: formatIp(f.key.src), src_port: f.key.sport, dest_ip: formatIp(f.key.dst), dest_port: f.key.dport,
    proto: protoName(f.key.proto), vlan: f.key.vlanOuter ? [f.key.vlanOuter, ...(f.key.vlanInner ? [f.key.vlanInner] : [])] : [],
    verdict: f.verdict, origin: f.origin, forward: f.forward, reverse: f.reverse,
  };
}

export function formatFlowDeletion(r: FlowDeleteResult): string {
  const n = r.deleted.length;
  const lines = [`deleted ${n} flow${n === 1 ? '' : 's'} on ${r.ifaces.join(', ')}${r.daemon.running && !r.daemon.error ? ' and in the running daemon' : ''}`];
  for (const f of r.deleted.slice(0, NAMED_IN_OUTPUT)) lines.push(`  ${flowName(f)} (${f.verdict}, ${f.iface})`);
  if (n > NAMED_IN_OUTPUT) lines.push(`  and ${n - NAMED_IN_OUTPUT} more`);
  if (r.daemon.error) {
    lines.push(`warning: the running daemon did not take the release (${r.daemon.error}): the packets of these flows it is punted meet its old verdicts, which it writes back`);
  }
  return lines.join('\n');
}

export function registerFlow(program: Command): void {
  const flow = program.command('flow').description('the flows the kernel decides without a punt (ALLOW_FLOW and BLOCK_FLOW verdicts)');
  flow.command('list')
    .description('show the flows in the kernel fast path, busiest first, with the packets XDP handled in each direction')
    .option('--verdict <verdict>', 'only allow or only block')
    .option('--host <addr>', 'only flows with this address at either end')
    .option('--port <n>', 'only TCP and UDP flows with this port at either end')
    .option('--limit <n>', `at most this many rows (default ${DEFAULT_LIMIT}; 0: all)`)
    .option('--json', 'print JSON (every matching flow)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('flow list', async (opts: FlowListOptions & { json?: boolean }) => {
      const limit = parseLimit(opts.limit);
      const list = listFlows(opts);
      if (opts.json) {
        printJson({
          interfaces: list.ifaces, unreadable: list.unreadable,
          flows: list.flows.map(flowJson),
        });
      } else {
        process.stdout.write(`${formatFlowList(list, limit)}\n`);
      }
    }));

  flow.command('delete')
    .description('forget the verdicts of some flows: their next packets meet the rules and the modules again (example: flow delete --host 192.0.2.7 --verdict block)')
    .option('--host <addr>', 'flows with this address at either end')
    .option('--port <n>', 'TCP and UDP flows with this port at either end')
    .option('--verdict <verdict>', 'only allowed or only blocked flows')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('flow delete', async (opts: FlowFilterOptions & { json?: boolean }) => {
      const r = await deleteFlows(opts);
      if (opts.json) printJson({ deleted: r.deleted.map(flowJson), interfaces: r.ifaces, daemon: r.daemon });
      else process.stdout.write(`${formatFlowDeletion(r)}\n`);
    }));

  flow.command('clear')
    .description('forget the verdicts of every flow in the kernel fast path')
    .option('--verdict <verdict>', 'only allowed or only blocked flows')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(action('flow clear', async (opts: FlowFilterOptions & { json?: boolean }) => {
      const r = await deleteFlows({ ...opts, all: true });
      if (opts.json) printJson({ deleted: r.deleted.map(flowJson), interfaces: r.ifaces, daemon: r.daemon });
      else process.stdout.write(`${formatFlowDeletion(r)}\n`);
    }));
}
