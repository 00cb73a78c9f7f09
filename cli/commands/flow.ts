// `secuxflow flow list`: the flows the kernel decides without a punt, the
// fast path the daemon's ALLOW_FLOW and BLOCK_FLOW verdicts (and rule
// changes that drop allowed flows) fill. `status` counts them; this names
// them, with the packets XDP handled for each, so an operator can see why a
// connection is dropped with no punt, or what the fast path saves.
import type { Command } from 'commander';
import { SecuxflowError } from '../../host/errors.js';
import { listKernelFlows, type KernelFlow, type KernelFlowList } from '../../host/kernel/flow-entries.js';
import { formatIp } from '../../host/packet/addr.js';
import { protoName } from '../../host/eve/format.js';
import { SF } from '../../host/kernel/codec.js';
import { StateStore } from '../../host/state/store.js';
import { action, printJson } from '../action.js';
import { endpoint, table, thousands } from '../format.js';
import { parseSource } from './block.js';
import type { StateDirOption } from './rule.js';

export interface FlowListOptions extends StateDirOption {
  verdict?: string;
  host?: string;
  limit?: string;
}

export interface FlowListResult extends KernelFlowList {
  /** Flows in the kernel before the filters (`flows` holds those that passed them). */
  total: number;
}

const DEFAULT_LIMIT = 50;

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17;
}

/** "198.18.64.2:53976 ⇄ 198.18.64.1:80/tcp vlan 10", as the demo and EVE name a flow. */
export function flowName(f: KernelFlow): string {
  const k = f.key;
  const ports = hasPorts(k.proto);
  const vlan = k.vlanOuter ? ` vlan ${k.vlanOuter}${k.vlanInner ? `/${k.vlanInner}` : ''}` : '';
  return `${endpoint(k.src, k.sport, ports)} ⇄ ${endpoint(k.dst, k.dport, ports)}/${protoName(k.proto).toLowerCase()}${vlan}`;
}

export function listFlows(opts: FlowListOptions = {}): FlowListResult {
  const verdict = opts.verdict;
  if (verdict !== undefined && verdict !== 'allow' && verdict !== 'block') {
    throw new SecuxflowError('E_USAGE', `--verdict ${JSON.stringify(verdict)}: not a flow verdict`, 'give --verdict allow or --verdict block');
  }
  const host = opts.host === undefined ? null : formatIp(parseSource(opts.host));
  const stateDir = new StateStore(opts.stateDir).dir;
  const all = listKernelFlows(stateDir);
  const flows = all.flows.filter((f) => (verdict === undefined || f.verdict === verdict)
    && (host === null || formatIp(f.key.src) === host || formatIp(f.key.dst) === host));
  return { ...all, flows, total: all.flows.length };
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

export function registerFlow(program: Command): void {
  const flow = program.command('flow').description('the flows the kernel decides without a punt (ALLOW_FLOW and BLOCK_FLOW verdicts)');
  flow.command('list')
    .description('show the flows in the kernel fast path, busiest first, with the packets XDP handled in each direction')
    .option('--verdict <verdict>', 'only allow or only block')
    .option('--host <addr>', 'only flows with this address at either end')
    .option('--limit <n>', `at most this many rows (default ${DEFAULT_LIMIT}; 0: all)`)
    .option('--json', 'print JSON (every matching flow)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('flow list', async (opts: FlowListOptions & { json?: boolean }) => {
      const limit = parseLimit(opts.limit);
      const list = listFlows(opts);
      if (opts.json) {
        printJson({
          interfaces: list.ifaces, unreadable: list.unreadable,
          flows: list.flows.map((f) => ({
            interface: f.iface, src_ip: formatIp(f.key.src), src_port: f.key.sport, dest_ip: formatIp(f.key.dst), dest_port: f.key.dport,
            proto: protoName(f.key.proto), vlan: f.key.vlanOuter ? [f.key.vlanOuter, ...(f.key.vlanInner ? [f.key.vlanInner] : [])] : [],
            verdict: f.verdict, origin: f.origin, forward: f.forward, reverse: f.reverse,
          })),
        });
      } else {
        process.stdout.write(`${formatFlowList(list, limit)}\n`);
      }
    }));
}
