// The daemon's configuration file (JSON or YAML): which modules run, how deep
// flows are inspected, when kernel flow entries expire, and what happens to
// traffic when the daemon stops. Every field is checked before anything is
// applied, so a bad file (at start or on SIGHUP) is refused as a whole.
import { readFileSync } from 'node:fs';
import { resolve, dirname, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SecuxflowError } from '../errors.js';
import { FileTooLarge, NotARegularFile, readRegularFile } from '../fs/read-regular.js';
import { MODULE_POLICIES, type ModulePolicy } from '../sandbox/limits.js';
import { DEFAULT_STREAM_MEMCAP, MAX_STREAM_DEPTH, MIN_STREAM_MEMCAP, ZERO_STREAM_DEPTH_HINT } from '../flow/stream.js';
import { suggestName } from '../rules/suggest.js';
import { parseNeverBlock } from '../engine/never-block.js';

export type StopPolicy = 'detach' | 'pass-all';
/** Where modules run: in their queue's thread under the watchdog (watchdog.ts), or each in its own sandbox worker. */
export type ModuleIsolation = 'thread' | 'worker';
export const MODULE_ISOLATIONS: readonly ModuleIsolation[] = ['thread', 'worker'];
export type CapPolicy = 'allow' | 'block';
/**
 * How the queue threads (and only they) are scheduled: realtime is
 * SCHED_FIFO at `priority`; normal is the default policy at `nice`.
 */
export type QueueScheduling = { policy: 'realtime'; priority: number } | { policy: 'normal'; nice: number };

/** "realtime 10" or "normal, nice -5": how the log and status name a scheduling. */
export function describeScheduling(s: QueueScheduling): string {
  return s.policy === 'realtime' ? `realtime ${s.priority}` : `normal, nice ${s.nice}`;
}

export interface DaemonModuleConfig {
  /** Registered or shipped module name, or a .wasm/.wat path. */
  name: string;
  /** Path of the module's own config file (relative paths are relative to the daemon config file). */
  config: string | null;
  /** Overrides the registered failure policy. */
  policy: ModulePolicy | null;
}

/** The event types the daemon writes to EVE: records, module events by protocol. */
export const EVE_TYPES = ['alert', 'drop', 'flow', 'http', 'dns', 'tls', 'ssh', 'other', 'anomaly', 'stats'] as const;
export type EveType = (typeof EVE_TYPES)[number];
/** All but anomaly: decoder anomalies are off unless asked for, as Suricata's are, since malformed traffic is cheap to send. */
export const DEFAULT_EVE_TYPES: readonly EveType[] = EVE_TYPES.filter((t) => t !== 'anomaly');

export interface DaemonConfig {
  /** Modules every worker runs, in order. Empty: the registry's modules, or the shipped default. */
  modules: DaemonModuleConfig[];
  /** In-order TCP bytes kept per direction for L7 modules. */
  streamDepth: number;
  /** Bytes of stream buffers per queue; a segment past it is dropped (docs/reassembly.md). */
  streamMemcap: number;
  /** Packets and bytes of one flow punted to the modules while undecided. */
  inspectCap: { packets: number; bytes: number; policy: CapPolicy };
  /** Seconds a kernel flow entry may see no packet before it is deleted (Suricata's bypassed timeout). */
  flowTimeoutSec: number;
  /** How often the expiry walk runs. */
  expiryIntervalSec: number;
  /** BLOCK_SRC ttl when a module gives none. */
  defaultBlockTtlSec: number;
  /** What a BLOCK_SRC of an IPv6 source blocks: its /64 (a host picks any address in it) or the address alone. */
  blockIpv6Prefix: 64 | 128;
  /** CIDRs (canonical text) no BLOCK_SRC puts in the penalty box: such a verdict blocks the flow instead. */
  neverBlock: readonly string[];
  /** Seconds between EVE `stats` records (Suricata's stats.interval); 0: none. */
  statsIntervalSec: number;
  /** What SIGTERM leaves behind: no program (detach), or the program passing everything (pass-all). */
  onStop: StopPolicy;
  /** Inline mode: the interface passed packets leave by. */
  peer: string | null;
  /** Frames taken from a socket per batch. */
  batchSize: number;
  /** Descriptors per AF_XDP ring; each socket's UMEM holds twice as many frames (2 KiB each). */
  ringSize: number;
  /** thread (default): no thread hop per batch, a module past its CPU budget is moved to a worker; worker: every module sandboxed from the start. */
  moduleIsolation: ModuleIsolation;
  /** Group that may use the control socket (mode 0660); null: root only. */
  controlGroup: string | number | null;
  /** The queue threads' scheduling (docs/live.md, "Scheduling"). */
  queueScheduling: QueueScheduling;
  /** EVE event types written (Suricata's eve-log `types`); records of the others are not made. */
  eveTypes: readonly EveType[];
  /** Where the file came from (null: built-in defaults). */
  source: string | null;
}

/** Below the kernel's threaded interrupt handlers (SCHED_FIFO 50), so a queue thread never delays them. */
export const DEFAULT_REALTIME_PRIORITY = 10;

export const DEFAULT_CONFIG: Readonly<DaemonConfig> = Object.freeze<DaemonConfig>({
  modules: [],
  streamDepth: 64 * 1024,
  streamMemcap: DEFAULT_STREAM_MEMCAP,
  inspectCap: { packets: 512, bytes: 1024 * 1024, policy: 'allow' },
  flowTimeoutSec: 100,
  expiryIntervalSec: 5,
  defaultBlockTtlSec: 60,
  blockIpv6Prefix: 64,
  neverBlock: [],
  statsIntervalSec: 8,
  onStop: 'detach',
  peer: null,
  batchSize: 64,
  ringSize: 4096,
  moduleIsolation: 'thread',
  controlGroup: null,
  queueScheduling: { policy: 'realtime', priority: DEFAULT_REALTIME_PRIORITY },
  eveTypes: DEFAULT_EVE_TYPES,
  source: null,
});

const TOP_KEYS = ['modules', 'stream_depth', 'stream_memcap', 'inspect_cap', 'flow_timeout', 'expiry_interval', 'default_block_ttl', 'block_ipv6_prefix', 'never_block', 'stats_interval', 'on_stop', 'peer', 'batch_size', 'ring_size', 'module_isolation', 'control_group', 'queue_scheduling', 'eve_types'];
const SCHEDULING_KEYS = ['policy', 'priority', 'nice'];
const CAP_KEYS = ['packets', 'bytes', 'policy'];
const MODULE_KEYS = ['name', 'config', 'policy'];

function bad(where: string, what: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', `${where}: ${what}`, hint);
}

/** JSON.stringify turns Infinity and NaN (YAML .inf, .nan) into "null", which misleads. */
function shown(v: unknown): string {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

function int(v: unknown, where: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw bad(where, `must be an integer in ${lo}..${hi}, got ${shown(v)}`, intHint(v));
  }
  return v;
}

/** A number written as text: quoted ("100"), or with a unit as Suricata's YAML takes them (1mb, 60s). */
function intHint(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (/^\s*-?\d+\s*$/.test(v)) return `write the number without quotes: ${v.trim()}`;
  if (/^\s*\d+(\.\d+)?\s*[a-z]+\s*$/i.test(v)) return 'sizes are plain numbers of bytes (1048576 for 1 MiB) and times plain numbers of seconds, without a unit';
  return undefined;
}

/** "did you mean" for a name close to one of `known`, else undefined. */
function guess(name: unknown, known: readonly string[]): string | undefined {
  const g = typeof name === 'string' ? suggestName(name, known) : undefined;
  return g !== undefined ? `did you mean "${g}"?` : undefined;
}

function oneOf<T extends string>(v: unknown, where: string, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw bad(where, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`, guess(v, allowed));
}

/** What each mapping looks like, for the hint when something else stands there. */
const MAPPING_EXAMPLES = new Map<readonly string[], string>([
  [TOP_KEYS, 'the file is a mapping of the keys below, e.g. "modules: [basic_inspect]" on one line and "flow_timeout: 100" on the next (docs/live.md, The config file)'],
  [CAP_KEYS, 'for example inspect_cap: { packets: 512, bytes: 1048576, policy: allow }'],
  [SCHEDULING_KEYS, 'for example queue_scheduling: { policy: realtime, priority: 10 } or { policy: normal, nice: 0 }'],
  [MODULE_KEYS, 'give a module name, or { name: NAME, config: FILE, policy: fail-open }'],
]);

function unknownKey(where: string, key: string, keys: readonly string[]): SecuxflowError {
  return bad(where, `unknown key "${key}"`, [guess(key, keys), `known keys: ${keys.join(', ')}`].filter(Boolean).join(' '));
}

/** `v` as a mapping; with checkKeys, a key not in `keys` is refused (the top level collects those itself). */
function object(v: unknown, where: string, keys: readonly string[], checkKeys = true): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw bad(where, `must be a mapping, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : shown(v)}`, MAPPING_EXAMPLES.get(keys));
  }
  const o = v as Record<string, unknown>;
  for (const k of checkKeys ? Object.keys(o) : []) {
    if (!keys.includes(k)) throw unknownKey(where, k, keys);
  }
  return o;
}

function moduleEntry(v: unknown, where: string, baseDir: string): DaemonModuleConfig {
  if (typeof v === 'string') {
    if (v.trim() === '') throw bad(where, 'module name is empty');
    // Paths resolve from the config file, as in the {name: ...} form, not from wherever the daemon was started.
    return { name: v.includes('/') && !isAbsolute(v) ? resolve(baseDir, v) : v, config: null, policy: null };
  }
  const o = object(v, where, MODULE_KEYS);
  if (typeof o.name !== 'string' || o.name.trim() === '') throw bad(`${where}.name`, 'must be a module name or path');
  let config: string | null = null;
  if (o.config !== undefined && o.config !== null) {
    if (typeof o.config !== 'string' || o.config === '') throw bad(`${where}.config`, 'must be a file path');
    config = isAbsolute(o.config) ? o.config : resolve(baseDir, o.config);
  }
  const policy = o.policy === undefined || o.policy === null ? null : oneOf(o.policy, `${where}.policy`, MODULE_POLICIES);
  const name = o.name.includes('/') && !isAbsolute(o.name) ? resolve(baseDir, o.name) : o.name;
  return { name, config, policy };
}

/**
 * Validates a parsed document; `source` names the file in messages and
 * anchors relative paths. Every key is checked, and all the problems found
 * are reported together, so a file with three mistakes takes one edit.
 */
export function validateDaemonConfig(doc: unknown, source: string | null): DaemonConfig {
  const where = source ?? 'config';
  const baseDir = source ? dirname(resolve(source)) : process.cwd();
  if (doc === null || doc === undefined) return { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap }, source };
  const o = object(doc, where, TOP_KEYS, false);
  const out: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap }, modules: [], source };
  const problems: SecuxflowError[] = [];
  const check = (fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SecuxflowError)) throw e;
      problems.push(e);
    }
  };
  for (const k of Object.keys(o)) {
    if (!TOP_KEYS.includes(k)) problems.push(unknownKey(where, k, TOP_KEYS));
  }
  check(() => {
    if (o.modules === undefined) return;
    if (!Array.isArray(o.modules)) throw bad(`${where}: modules`, 'must be a list of module names or {name, config, policy}');
    out.modules = o.modules.map((m, i) => moduleEntry(m, `${where}: modules[${i}]`, baseDir));
    const seen = new Set<string>();
    for (const m of out.modules) {
      if (seen.has(m.name)) throw bad(`${where}: modules`, `"${m.name}" is listed twice`);
      seen.add(m.name);
    }
  });
  check(() => {
    if (o.stream_depth === 0) throw bad(`${where}: stream_depth`, 'must be at least 1 byte: 0 would give TCP modules no stream bytes', ZERO_STREAM_DEPTH_HINT);
    if (o.stream_depth !== undefined) out.streamDepth = int(o.stream_depth, `${where}: stream_depth`, 1, MAX_STREAM_DEPTH);
  });
  check(() => { if (o.stream_memcap !== undefined) out.streamMemcap = int(o.stream_memcap, `${where}: stream_memcap`, MIN_STREAM_MEMCAP, Number.MAX_SAFE_INTEGER); });
  check(() => {
    if (o.inspect_cap === undefined) return;
    const c = object(o.inspect_cap, `${where}: inspect_cap`, CAP_KEYS);
    check(() => { if (c.packets !== undefined) out.inspectCap.packets = int(c.packets, `${where}: inspect_cap.packets`, 1, 1_000_000_000); });
    check(() => { if (c.bytes !== undefined) out.inspectCap.bytes = int(c.bytes, `${where}: inspect_cap.bytes`, 1, Number.MAX_SAFE_INTEGER); });
    check(() => { if (c.policy !== undefined) out.inspectCap.policy = oneOf(c.policy, `${where}: inspect_cap.policy`, ['allow', 'block'] as const); });
  });
  check(() => { if (o.flow_timeout !== undefined) out.flowTimeoutSec = int(o.flow_timeout, `${where}: flow_timeout`, 1, 86_400); });
  check(() => { if (o.expiry_interval !== undefined) out.expiryIntervalSec = int(o.expiry_interval, `${where}: expiry_interval`, 1, 3_600); });
  check(() => { if (o.default_block_ttl !== undefined) out.defaultBlockTtlSec = int(o.default_block_ttl, `${where}: default_block_ttl`, 1, 65_535); });
  check(() => {
    if (o.block_ipv6_prefix === undefined) return;
    if (o.block_ipv6_prefix !== 64 && o.block_ipv6_prefix !== 128) {
      throw bad(`${where}: block_ipv6_prefix`, `must be 64 or 128, got ${shown(o.block_ipv6_prefix)}`, '64 blocks the /64 an IPv6 source is in, 128 the address alone');
    }
    out.blockIpv6Prefix = o.block_ipv6_prefix;
  });
  check(() => {
    if (o.never_block === undefined || o.never_block === null) return;
    if (!Array.isArray(o.never_block)) {
      throw bad(`${where}: never_block`, `must be a list of CIDRs, got ${shown(o.never_block)}`, 'for example never_block: ["192.0.2.53", "10.0.0.0/8", "2001:db8::/48"]');
    }
    out.neverBlock = parseNeverBlock(o.never_block, `${where}: never_block`);
  });
  check(() => { if (o.stats_interval !== undefined) out.statsIntervalSec = int(o.stats_interval, `${where}: stats_interval`, 0, 3_600); });
  check(() => { if (o.on_stop !== undefined) out.onStop = oneOf(o.on_stop, `${where}: on_stop`, ['detach', 'pass-all'] as const); });
  check(() => {
    if (o.peer === undefined || o.peer === null) return;
    if (typeof o.peer !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(o.peer) || o.peer === '.' || o.peer === '..') {
      throw bad(`${where}: peer`, `must be an interface name, got ${JSON.stringify(o.peer)}`, 'names are 1-15 bytes with no "/", ":" or whitespace; list interfaces with: ip -br link');
    }
    out.peer = o.peer;
  });
  check(() => { if (o.batch_size !== undefined) out.batchSize = int(o.batch_size, `${where}: batch_size`, 1, 2048); });
  check(() => {
    if (o.ring_size === undefined) return;
    const r = int(o.ring_size, `${where}: ring_size`, 256, 16384);
    if ((r & (r - 1)) !== 0) throw bad(`${where}: ring_size`, `must be a power of two, got ${r}`, 'use 2048, 4096 (the default) or 8192');
    out.ringSize = r;
  });
  check(() => { if (o.module_isolation !== undefined) out.moduleIsolation = oneOf(o.module_isolation, `${where}: module_isolation`, MODULE_ISOLATIONS); });
  check(() => {
    if (o.control_group === undefined || o.control_group === null) return;
    if (typeof o.control_group === 'number') out.controlGroup = int(o.control_group, `${where}: control_group`, 0, 2 ** 31 - 1);
    else if (typeof o.control_group === 'string' && /^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(o.control_group)) out.controlGroup = o.control_group;
    else throw bad(`${where}: control_group`, `must be a group name or gid, got ${JSON.stringify(o.control_group)}`);
  });
  check(() => { if (o.queue_scheduling !== undefined) out.queueScheduling = scheduling(o.queue_scheduling, `${where}: queue_scheduling`); });
  check(() => { if (o.eve_types !== undefined) out.eveTypes = eveTypes(o.eve_types, `${where}: eve_types`); });
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    // One line: messages are printed with control characters escaped, newlines included.
    const items = problems.map((p, i) => `(${i + 1}) ${p.message.startsWith(`${where}: `) ? p.message.slice(where.length + 2) : p.message}${p.hint ? ` [${p.hint}]` : ''}`);
    throw new SecuxflowError('E_USAGE', `${where} has ${problems.length} problems: ${items.join('; ')}`, 'fix them all, then start again (docs/live.md, The config file)');
  }
  return out;
}

function eveTypes(v: unknown, where: string): EveType[] {
  if (!Array.isArray(v)) throw bad(where, `must be a list of event types (${EVE_TYPES.join(', ')})`, 'for example eve_types: [alert, drop, http, dns, tls]');
  const out: EveType[] = [];
  v.forEach((t, i) => {
    const type = oneOf(t, `${where}[${i}]`, EVE_TYPES);
    if (!out.includes(type)) out.push(type);
  });
  return out;
}

function scheduling(v: unknown, where: string): QueueScheduling {
  const o = object(v, where, SCHEDULING_KEYS);
  const policy = oneOf(o.policy, `${where}.policy`, ['realtime', 'normal'] as const);
  if (policy === 'realtime') {
    if (o.nice !== undefined) throw bad(`${where}.nice`, 'applies to policy normal only', 'give priority (1..99) with policy realtime');
    return { policy, priority: o.priority === undefined ? DEFAULT_REALTIME_PRIORITY : int(o.priority, `${where}.priority`, 1, 99) };
  }
  if (o.priority !== undefined) throw bad(`${where}.priority`, 'applies to policy realtime only', 'give nice (-20..19) with policy normal');
  return { policy, nice: o.nice === undefined ? 0 : int(o.nice, `${where}.nice`, -20, 19) };
}

/** The groups of /etc/group as [name, gid]; none when it cannot be read. */
function groupEntries(): Array<[string, number]> {
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    // no group database: no names
  }
  const out: Array<[string, number]> = [];
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name !== undefined && gid !== undefined && /^\d+$/.test(gid)) out.push([name, Number(gid)]);
  }
  return out;
}

/** The gid of a group name (from /etc/group) or the gid itself. */
export function resolveGroup(group: string | number): number {
  if (typeof group === 'number') return group;
  const found = groupEntries().find(([name]) => name === group);
  if (found) return found[1];
  throw new SecuxflowError('E_USAGE', `control_group: no group named "${group}"`, `create it (groupadd ${group}) or give a gid`);
}

/** A gid's name from /etc/group, or the number when it has none. */
export function groupName(gid: number): string {
  return groupEntries().find(([, g]) => g === gid)?.[0] ?? String(gid);
}

/** Parses JSON or YAML text (YAML is a superset, so one parser reads both). */
export function parseDaemonConfig(text: string, source: string | null): DaemonConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    // The parser's message is "what at line L, column C:" then the lines around it and a caret.
    const [first = '', ...excerpt] = (e as Error).message.split('\n');
    const shownExcerpt = excerpt.join('\n').replace(/^\n+|\n+$/g, '');
    throw new SecuxflowError('E_USAGE', `${source ?? 'config'}: not valid JSON or YAML: ${first.replace(/:$/, '')}`,
      `fix the syntax; see docs/live.md for the config file format${shownExcerpt ? `:\n${shownExcerpt}` : ''}`);
  }
  return validateDaemonConfig(doc, source);
}

/** Larger than any real config; stops a device or a runaway file from filling memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads the config file without ever blocking the main thread: a FIFO is
 * refused, not waited on, and no more than MAX_CONFIG_BYTES is read.
 */
function readConfigText(path: string): string {
  try {
    return readRegularFile(path, MAX_CONFIG_BYTES).toString('utf8');
  } catch (e) {
    if (e instanceof NotARegularFile) {
      const st = e.stats;
      throw new SecuxflowError('E_IO', `config file ${path} is not a regular file (${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'a device or socket'})`, 'give the path of a JSON or YAML file');
    }
    if (e instanceof FileTooLarge) {
      throw new SecuxflowError('E_USAGE', e.exact
        ? `config file ${path} is ${e.size} bytes, more than the ${MAX_CONFIG_BYTES} a config may have`
        : `config file ${path} is more than the ${MAX_CONFIG_BYTES} bytes a config may have`, 'a daemon config is a few lines; check that this is the right file');
    }
    throw new SecuxflowError('E_IO', `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'give the path of a JSON or YAML file');
  }
}

export function loadDaemonConfig(path: string | undefined): DaemonConfig {
  if (path === undefined) return validateDaemonConfig(null, null);
  return parseDaemonConfig(readConfigText(path), resolve(path));
}
