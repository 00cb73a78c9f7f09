// Everything `module load` and `module info` check before a module is
// accepted: the file compiles, its imports and exports are ABI v1's, and it
// instantiates in the sandbox, accepts its config and runs one batch of
// ordinary packets without trapping or overrunning its budgets.
import { buildPacket, type PacketSpec } from '../packet/build.js';
import { decodePacket } from '../packet/decode.js';
import { LinkType } from '../packet/types.js';
import type { InspectItem, ModuleLogLevel } from '../wasm/types.js';
import { MetaFlag } from '../wasm/abi.js';
import type { ModulePolicy, SandboxLimits } from '../sandbox/limits.js';
import { createModuleRunner } from '../sandbox/runner.js';
import type { RunnerCounters } from '../sandbox/governor.js';
import { loadModuleFile, type LoadedModule } from './load.js';
import { SecuxflowError } from '../errors.js';
import { ModuleRunFailure } from '../sandbox/sandboxed.js';

export interface ValidationResult {
  module: LoadedModule;
  counters: RunnerCounters;
  verdicts: number[];
  logs: { level: ModuleLogLevel; message: string }[];
}

const PROBES: PacketSpec[] = [
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: 0x02 },
  { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n' },
  { src: '198.18.0.3', dst: '198.18.0.53', proto: 'udp', srcPort: 5353, dstPort: 53, payload: new Uint8Array(29) },
  { src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp' },
];

function probeItems(): InspectItem[] {
  return PROBES.map((spec, i) => {
    const pkt = decodePacket(buildPacket(spec), LinkType.ETHERNET, 1_767_225_600 + i, 0);
    const first = i !== 1;
    const payload = spec.proto === 'tcp' && pkt.payloadLength > 0 ? pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength) : null;
    return { pkt, flowId: i === 1 ? 1 : i + 1, direction: 0 as const, flags: first ? MetaFlag.FLOW_START : 0, stream: payload, streamNew: payload?.length ?? 0 };
  });
}

/**
 * A failed probe batch, worded for a module being validated: the runner's own
 * message ends with what happens next at run time ("the instance keeps
 * running", "the module is quarantined"), which is wrong here: nothing was
 * loaded or registered.
 */
function refusal(e: unknown): unknown {
  if (!(e instanceof SecuxflowError)) return e;
  const failure = e instanceof ModuleRunFailure ? e.failure : e.message;
  const hint = e.code === 'E_MODULE_LIMIT'
    ? 'make the module stay within its budgets on ordinary packets, or raise them (--cpu-budget-ms, --memory-mib), then load it again'
    : 'fix the module so that it handles ordinary packets without failing, then load it again';
  return new SecuxflowError(e.code, `${failure} while it was being validated on a probe batch; nothing was loaded or registered`, e.hint ?? hint);
}

/**
 * At run time a failed status or a verdict byte past 5 only turns into
 * CONTINUE and a counter, so a module making either mistake on ordinary
 * packets would be registered and then never decide anything.
 */
function unusableVerdicts(name: string, c: RunnerCounters, packets: number): void {
  const fix = 'nothing was loaded or registered';
  if (c.batchErrors > 0) {
    const status = /status (\d+)/.exec(c.lastError ?? '')?.[1] ?? 'non-zero';
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} returned status ${status} from on_batch for the probe batch, which says the batch failed; ${fix}`,
      'return 0 (OK) from on_batch once the verdicts are written; a non-zero status makes the host treat every verdict of the batch as CONTINUE (docs/abi/v1.md section 5)');
  }
  if (c.verdictErrors > 0) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} wrote ${c.verdictErrors} verdict${c.verdictErrors === 1 ? '' : 's'} outside 0..5 for the ${packets} probe packets; ${fix}`,
      "write 0 CONTINUE, 1 PASS, 2 ALLOW_FLOW, 3 DROP, 4 BLOCK_FLOW or 5 BLOCK_SRC into each meta record's VERDICT byte (offset 61); the host treats any other value as CONTINUE (docs/abi/v1.md section 6)");
  }
}

/**
 * The runtime's hint for a refused start ("check the module's README for its
 * config fields") fits neither a module that has no inspector registered nor
 * a config file the user could fix if it were named.
 */
export function explainStartRefusal(e: unknown, configPath: string | undefined, giveConfig = '--config FILE'): unknown {
  if (!(e instanceof SecuxflowError) || e.code !== 'E_MODULE_CONFIG') return e;
  const hint = /init status 4\)/.test(e.message)
    ? 'on_init returned NOT_FOUND (4): an AssemblyScript module calls register(new YourInspector()) at the top level of index.ts, or the SDK finds no inspector to hand packets to'
    : configPath !== undefined
      ? `fix ${configPath} (${/refused its configuration \([^)]*\)$/.test(e.message) ? 'the module did not log why' : "the module's words above say what it could not take"}; its README lists the config fields)`
      : `it does not start without a configuration: give one with ${giveConfig} (the module's README lists the config fields)`;
  return new SecuxflowError(e.code, e.message, hint);
}

/** Loads, instantiates (config, on_init) and runs one probe batch; throws the module's SecuxflowError when it fails. */
export async function validateModule(path: string, opts: {
  name?: string; config?: string; policy?: ModulePolicy; limits?: Partial<SandboxLimits>; bytes?: Uint8Array;
  /** Where config came from, for the hint when the module refuses it. */
  configPath?: string;
}): Promise<ValidationResult> {
  const mod = await loadModuleFile(path, { ...(opts.name ? { name: opts.name } : {}), ...(opts.limits ? { limits: opts.limits } : {}), ...(opts.bytes ? { bytes: opts.bytes } : {}) });
  const logs: ValidationResult['logs'] = [];
  const runner = await createModuleRunner(mod, {
    ...(opts.config !== undefined ? { config: opts.config } : {}),
    policy: opts.policy ?? 'fail-closed',
    ...(opts.limits ? { limits: opts.limits } : {}),
    clock: 'packet',
    logger: (_m, level, message) => { if (logs.length < 100) logs.push({ level, message }); },
  }).catch((e: unknown) => { throw explainStartRefusal(e, opts.configPath); });
  try {
    const items = probeItems();
    const out = { verdicts: new Uint8Array(items.length), verdictArgs: new Uint16Array(items.length), alerts: [], events: [] };
    try {
      runner.inspect(items, items.length, out);
    } catch (e) {
      throw refusal(e);
    }
    const before = runner.stats();
    unusableVerdicts(mod.name, before, items.length);
    for (const id of new Set(items.map((it) => it.flowId))) runner.flowEnded(id);
    // The sandbox delivers flow ends after the caller yields and only counts their
    // failures: wait for them, or an on_flow_end that loops or traps passes validation.
    await new Promise((r) => setImmediate(r));
    const after = runner.stats();
    if (after.traps > before.traps || after.cpuKills > before.cpuKills || after.memoryKills > before.memoryKills) {
      throw new SecuxflowError(after.traps > before.traps ? 'E_MODULE_TRAP' : 'E_MODULE_LIMIT',
        `module ${mod.name} failed when told a flow ended (on_flow_end): ${after.lastError ?? 'no detail'}`,
        'fix its on_flow_end: at run time each failure there counts against the module like a failed batch');
    }
    return { module: mod, counters: after, verdicts: [...out.verdicts], logs };
  } finally {
    runner.close();
  }
}
