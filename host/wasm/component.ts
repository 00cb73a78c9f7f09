// Component-model inspectors (world secuxflow:inspector/inspector in
// modules/wit). A component is transpiled by jco into JS plus core modules,
// once per sha256 (cached on disk), and run through the generated bindings:
// its imports may only be secuxflow:inspector/host, the WIT twin of the ABI v1
// hostcalls, with the same budgets and size caps. Packets go in as records
// (the meta fields plus the frame and stream bytes); jco copies each frame
// into the component's memory, which is the one copy per packet.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SecuxflowError } from '../errors.js';
import { ABI_VERSION, DEFAULT_LIMITS, EventKind, META, META_ABSENT_U16, MetaFlag, Status } from './abi.js';
import { isVerdict } from '../verdict.js';
import { capMemory } from '../sandbox/memory-cap.js';
import { ensurePrivateDir } from '../sandbox/private-dir.js';
import { makeDirs, type MakeDirsOptions } from '../fs/make-dirs.js';
import { configRefused } from './instance.js';
import { printable } from '../text.js';
import { moduleJsonObject, newStats, OutputBudgets, type OutputBudget } from './hostcalls.js';
import { packageRoot } from '../paths.js';
import { exportTypes, isTypeNode, TYPE_FORMAT, typeDifference, withoutCode, type TypeNode } from './component-types.js';
import type { BatchOutput, FlowEndOutput, InspectItem, InspectorLogger, InspectorOptions, ModuleEventKind, ModuleLogLevel } from './types.js';

export const COMPONENT_HOST_IMPORT = 'secuxflow:inspector/host';
const REQUIRED_EXPORTS = ['abiVersion', 'init', 'inspectBatch', 'flowEnd'];
const JCO = '@bytecodealliance/jco';

export interface CompiledComponent {
  name: string;
  sha256: string;
  /** The transpiled entry (component.js) in the cache directory. */
  entry: string;
  abiVersion: number;
  imports: string[];
  exports: string[];
}

/** The packet record of the WIT world, as jco's bindings read it. */
export interface PacketRecord {
  flowId: bigint;
  tsSec: number;
  tsNsec: number;
  wireLen: number;
  payloadLen: number;
  streamNew: number;
  frame: Uint8Array;
  streamBytes: Uint8Array;
  l3Off: number;
  l4Off: number;
  payloadOff: number;
  srcPort: number;
  dstPort: number;
  vlanId: number;
  ipVersion: number;
  l4Proto: number;
  tcpFlags: number;
  direction: number;
  metaFlags: number;
}

interface ComponentExports {
  abiVersion(): number;
  init(config: Uint8Array): number;
  inspectBatch(packets: PacketRecord[]): { action: number; arg: number }[];
  flowEnd(flowId: bigint): void;
}

type Transpile = (bytes: Uint8Array, opts: Record<string, unknown>) => Promise<{ files: Record<string, Uint8Array>; imports: string[]; exports: [string, string][] }>;
interface Jco {
  transpile: Transpile;
  componentWit(bytes: Uint8Array): Promise<string>;
  print(bytes: Uint8Array): Promise<string>;
  componentEmbed(o: Record<string, unknown>): Promise<Uint8Array>;
  componentNew(bytes: Uint8Array): Promise<Uint8Array>;
}

async function loadJco(): Promise<Jco> {
  try {
    return await import(JCO) as Jco;
  } catch {
    throw new SecuxflowError('E_MODULE_INVALID', 'component inspectors need @bytecodealliance/jco, which is not installed',
      `npm install ${JCO} next to secuxflow, or build the inspector as a core module with the SDK`);
  }
}

export function componentCacheDir(): string {
  return process.env.SECUXFLOW_COMPONENT_CACHE || join(tmpdir(), `secuxflow-components-${process.getuid?.() ?? 'u'}`);
}

/**
 * signatures: the world's export signatures without parameter names; exportTypes: the structure of
 * the exported functions' types (TYPE_FORMAT typeFormat). Either is absent in caches written before
 * it was checked, and then computed from the component again.
 */
interface Manifest { imports: string[]; exports: string[]; signatures?: Record<string, string>; typeFormat?: number; exportTypes?: Record<string, TypeNode> }

// What world inspector exports, as exportSignatures() renders them: a component
// with these names but other types would be called with values it cannot take.
const WORLD_SIGNATURES: Record<string, string> = {
  'abi-version': 'func() -> u32',
  init: 'func(list<u8>) -> s32',
  'inspect-batch': 'func(list<packet>) -> list<verdict>',
  'flow-end': 'func(u64)',
};

/** `export init: func(config: list<u8>) -> s32;` in the component's WIT becomes init -> `func(list<u8>) -> s32`. */
async function exportSignatures(jco: Jco, name: string, bytes: Uint8Array): Promise<Record<string, string>> {
  let wit: string;
  try {
    wit = await jco.componentWit(bytes);
  } catch (e) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component whose interface jco cannot read: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const out: Record<string, string> = {};
  for (const m of wit.matchAll(/^\s*export ([a-z0-9-]+): (func\(.*)$/gm)) out[m[1]!] = m[2]!.replace(/;\s*$/, '').replace(/[a-z0-9-]+: /g, '');
  return out;
}

/** The structure of the exported functions' types, from the component's text (componentWit does not show imported records' fields). */
async function readExportTypes(jco: Jco, name: string, bytes: Uint8Array): Promise<Record<string, TypeNode>> {
  try {
    return exportTypes(await jco.print(withoutCode(bytes)), Object.keys(WORLD_SIGNATURES));
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component whose export types secuxflow cannot read (${why}), so they cannot be checked against world secuxflow:inspector/inspector`,
      'build it against modules/wit/inspector.wit with jco or wit-component, as one component (not composed of others)');
  }
}

let world: Promise<Record<string, TypeNode>> | null = null;

/** The export types of world inspector in modules/wit, from a component jco builds of that WIT alone (once per process). */
function worldExportTypes(jco: Jco): Promise<Record<string, TypeNode>> {
  world ??= (async () => {
    const file = join(packageRoot(), 'modules', 'wit', 'inspector.wit');
    let wit: string;
    try {
      wit = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SecuxflowError('E_IO', `component inspectors are checked against ${file}, which cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        'the secuxflow install is incomplete: reinstall it (modules/wit ships with the package)');
    }
    const dummy = await jco.componentNew(await jco.componentEmbed({ dummy: true, witSource: wit, world: 'inspector', stringEncoding: 'utf8' }));
    return exportTypes(await jco.print(dummy), Object.keys(WORLD_SIGNATURES));
  })();
  world.catch(() => { world = null; });
  return world;
}

function strings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** A cache entry's manifest, or null when the entry is incomplete or damaged (then it is transpiled again). */
function cachedManifest(dir: string): Manifest | null {
  if (!existsSync(join(dir, 'component.js'))) return null;
  let m: Partial<Manifest> | null;
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Partial<Manifest> | null;
  } catch {
    return null;
  }
  if (m === null || typeof m !== 'object' || !strings(m.imports) || !strings(m.exports)) return null;
  const sig = m.signatures;
  const okSig = typeof sig === 'object' && sig !== null && Object.values(sig).every((v) => typeof v === 'string');
  const types = m.exportTypes;
  const okTypes = m.typeFormat === TYPE_FORMAT && typeof types === 'object' && types !== null && !Array.isArray(types) && Object.values(types).every((v) => isTypeNode(v));
  return { imports: m.imports, exports: m.exports, ...(okSig ? { signatures: sig } : {}), ...(okTypes ? { typeFormat: TYPE_FORMAT, exportTypes: types } : {}) };
}

/** Completes an older cache entry's manifest with what it lacks, so the next load need not compute it again. */
async function completeManifest(dir: string, name: string, bytes: Uint8Array, m: Manifest): Promise<void> {
  if (m.signatures !== undefined && m.exportTypes !== undefined) return;
  const jco = await loadJco();
  m.signatures ??= await exportSignatures(jco, name, bytes);
  if (m.exportTypes === undefined) {
    m.exportTypes = await readExportTypes(jco, name, bytes);
    m.typeFormat = TYPE_FORMAT;
  }
  const tmp = join(dir, `manifest.json.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(m));
    renameSync(tmp, join(dir, 'manifest.json'));
  } catch {
    rmSync(tmp, { force: true }); // checked all the same; the entry is completed by a later load
  }
}

/** Transpiles (or finds in the cache) a component and checks its imports and exports against the WIT world. */
export async function compileComponent(name: string, bytes: Uint8Array, sha256: string): Promise<CompiledComponent> {
  const dir = join(ensurePrivateDir(componentCacheDir()), sha256);
  const entry = join(dir, 'component.js');
  let manifest = cachedManifest(dir);
  if (manifest !== null) {
    await completeManifest(dir, name, bytes, manifest);
  } else {
    const jco = await loadJco();
    let out: Awaited<ReturnType<Transpile>>;
    try {
      out = await jco.transpile(bytes, { name: 'component', instantiation: 'sync', noTypescript: true, base64Cutoff: 0, quiet: true });
    } catch (e) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component jco cannot transpile: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    manifest = {
      imports: out.imports, exports: out.exports.map(([n]) => n), signatures: await exportSignatures(jco, name, bytes),
      typeFormat: TYPE_FORMAT, exportTypes: await readExportTypes(jco, name, bytes),
    };
    // Written to a private directory first, then renamed: parallel loaders never see half a cache entry.
    const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
    const entryDirs: MakeDirsOptions = { what: 'component cache entry', code: 'E_STATE', instead: 'point SECUXFLOW_COMPONENT_CACHE at another directory' };
    makeDirs(tmp, entryDirs);
    for (const [file, data] of Object.entries(out.files)) {
      if (file.endsWith('.d.ts')) continue;
      makeDirs(dirname(join(tmp, file)), entryDirs);
      writeFileSync(join(tmp, file), data);
    }
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(tmp, 'package.json'), '{"type":"module"}');
    try {
      renameSync(tmp, dir);
    } catch {
      // Another loader finished first (its entry is as good as this one), or a damaged entry
      // is in the way: that one is replaced, or the component would fail the same way forever.
      if (cachedManifest(dir) === null) {
        const stale = `${dir}.${process.pid}.${Date.now()}.stale`;
        try {
          renameSync(dir, stale);
          renameSync(tmp, dir);
        } catch { /* a parallel loader replaced it first */ }
        rmSync(stale, { recursive: true, force: true });
      }
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  for (const imp of manifest.imports) {
    if (imp.replace(/@[^/]*$/, '') !== COMPONENT_HOST_IMPORT) {
      throw new SecuxflowError('E_MODULE_IMPORT', `module ${name} imports ${imp}, which the inspector sandbox does not provide`,
        imp.startsWith('wasi:') ? "WASI is not available to inspectors: build the component against modules/wit (world inspector) only; with componentize-js: pass disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'] (docs/modules.md)"
          : `components may import only ${COMPONENT_HOST_IMPORT}@1.0.0`);
    }
  }
  for (const ex of REQUIRED_EXPORTS) {
    if (!manifest.exports.includes(ex)) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component without the ${kebab(ex)} export of world secuxflow:inspector/inspector`,
        'build it against modules/wit/inspector.wit');
    }
  }
  for (const [ex, want] of Object.entries(WORLD_SIGNATURES)) {
    const found = manifest.signatures?.[ex];
    if (found !== want) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component whose ${ex} export is ${found ?? 'not a function'}; world secuxflow:inspector/inspector needs ${want}`,
        'build it against modules/wit/inspector.wit');
    }
  }
  const want = await worldExportTypes(await loadJco());
  for (const ex of Object.keys(WORLD_SIGNATURES)) {
    const got = manifest.exportTypes?.[ex];
    const diff = got === undefined ? 'not a function' : typeDifference(got, want[ex] ?? null);
    if (diff !== null) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component whose ${ex} export does not take or give the types of world secuxflow:inspector/inspector: ${diff}`,
        'its WIT has types of the world\'s names with other contents (a copy or an older version of the world?): build it against modules/wit/inspector.wit as shipped');
    }
  }
  return { name, sha256, entry, abiVersion: ABI_VERSION, imports: manifest.imports, exports: manifest.exports };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** What `module info` shows for a component. */
export async function describeComponentFile(bytes: Uint8Array): Promise<{ abiVersion: number | null; imports: { name: string; kind: string; signature: string | null; allowed: boolean }[]; exports: { name: string; kind: string; signature: string | null }[]; memory: null }> {
  const { createHash } = await import('node:crypto');
  const sha = createHash('sha256').update(bytes).digest('hex');
  let c: CompiledComponent | null = null;
  try {
    c = await compileComponent('component', bytes, sha);
  } catch {
    const manifest = cachedManifest(join(componentCacheDir(), sha));
    if (manifest === null) return { abiVersion: null, imports: [], exports: [], memory: null };
    c = { name: 'component', sha256: sha, entry: '', abiVersion: ABI_VERSION, imports: manifest.imports, exports: manifest.exports };
  }
  return {
    abiVersion: c.abiVersion,
    imports: c.imports.map((i) => ({ name: i, kind: 'instance', signature: null, allowed: i.replace(/@[^/]*$/, '') === COMPONENT_HOST_IMPORT })),
    exports: c.exports.map((e) => ({ name: kebab(e), kind: 'function', signature: null })),
    memory: null,
  };
}

const EVENT_KINDS = new Map<number, ModuleEventKind>([
  [EventKind.DNS, 'dns'], [EventKind.TLS, 'tls'], [EventKind.HTTP, 'http'], [EventKind.SSH, 'ssh'], [EventKind.OTHER, 'other'],
]);
const LEVELS: ModuleLogLevel[] = ['debug', 'info', 'warn', 'error'];
const utf8 = new TextEncoder();

export interface ComponentSink {
  alerts: BatchOutput['alerts'];
  events: BatchOutput['events'];
}

/**
 * One instantiated component with its hostcalls. Used in the host's thread
 * (ComponentInspector) and inside sandbox workers (ComponentBackend).
 */
export class ComponentRuntime {
  private sink: ComponentSink | null = null;
  private count = 0;
  private readonly budgets: OutputBudgets;
  private budget: OutputBudget;
  private lastError: string | null = null;
  packetSec = 0;
  packetNsec = 0;
  /** The counters the core hostcalls keep, for the ones a component can move (alerts, events, logs). */
  readonly stats = newStats();

  private constructor(
    readonly name: string,
    private readonly exports: ComponentExports,
    private readonly limits: Required<Pick<InspectorOptions, 'alertBudget' | 'eventBudget' | 'logBudget' | 'maxJsonBytes' | 'maxMessageBytes'>>,
    private readonly logger: InspectorLogger,
    private readonly clock: 'wall' | 'packet',
  ) {
    this.budgets = new OutputBudgets(limits);
    this.budget = this.budgets.batch;
  }

  private memories: WebAssembly.Memory[] = [];

  /**
   * maxMemoryPages: the sandbox ceiling, applied to every core module inside
   * the component by lowering its declared maximum (as for core modules).
   */
  static async create(name: string, entry: string, opts: InspectorOptions & { logger: InspectorLogger; maxMemoryPages?: number }): Promise<ComponentRuntime> {
    const mod = await import(pathToFileURL(entry).href) as {
      instantiate: (get: (f: string) => WebAssembly.Module, imports: Record<string, unknown>, core: (m: WebAssembly.Module, i: WebAssembly.Imports) => WebAssembly.Instance) => ComponentExports;
    };
    const memories: WebAssembly.Memory[] = [];
    const dir = dirname(entry);
    const limits = {
      alertBudget: opts.alertBudget ?? DEFAULT_LIMITS.ALERTS_PER_BATCH,
      eventBudget: opts.eventBudget ?? DEFAULT_LIMITS.EVENTS_PER_BATCH,
      logBudget: opts.logBudget ?? DEFAULT_LIMITS.LOGS_PER_CALL,
      maxJsonBytes: opts.maxJsonBytes ?? DEFAULT_LIMITS.MAX_JSON_BYTES,
      maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_LIMITS.MAX_MESSAGE_BYTES,
    };
    let self: ComponentRuntime | null = null;
    const host = {
      emitAlert: (i: number, sid: number, sev: number, msg: string, meta: string) => self!.emitAlert(i, sid, sev, msg, meta),
      emitEvent: (i: number, kind: number, json: string) => self!.emitEvent(i, kind, json),
      logMessage: (level: number, msg: string) => self!.log(level, msg),
      getTimeNs: () => self!.now(),
    };
    let exports: ComponentExports;
    try {
      const getCore = (f: string): WebAssembly.Module => {
        const bytes = new Uint8Array(readFileSync(join(dir, f)));
        return new WebAssembly.Module(opts.maxMemoryPages === undefined ? bytes : capMemory(name, bytes, opts.maxMemoryPages).bytes);
      };
      const instantiateCore = (m: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance => {
        const inst = new WebAssembly.Instance(m, imports);
        for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
        return inst;
      };
      exports = mod.instantiate(getCore, { [COMPONENT_HOST_IMPORT]: host }, instantiateCore);
    } catch (e) {
      // capMemory's refusal (a core module starting above the ceiling) is no trap: keep its code and hint.
      if (e instanceof SecuxflowError) throw e;
      throw new SecuxflowError('E_MODULE_TRAP', `module ${name} trapped while instantiating: ${e instanceof Error ? e.message : String(e)}`);
    }
    self = new ComponentRuntime(name, exports, limits, opts.logger, opts.clock ?? 'wall');
    self.memories = memories;
    const version = self.call('abi-version', () => exports.abiVersion());
    if (version !== ABI_VERSION) {
      throw new SecuxflowError('E_MODULE_ABI', `module ${name} was built for ABI ${version}; this host speaks ABI ${ABI_VERSION} (its abi-version export must return 1)`);
    }
    const cfg = typeof opts.config === 'string' ? utf8.encode(opts.config) : opts.config ?? new Uint8Array(0);
    const status = self.enter(null, 0, self.budgets.batch, () => self!.call('init', () => exports.init(cfg)));
    if (status !== 0) throw configRefused(name, `init status ${status}`, self.lastError);
    return self;
  }

  /** Bytes of linear memory of the component's core instances. */
  memoryBytes(): number {
    let n = 0;
    for (const m of this.memories) n += m.buffer.byteLength;
    return n;
  }

  /** An engine batch begins: its inspect-batch calls, and the flow ends after it, get fresh output budgets. */
  newBatch(packets: number): void {
    this.budgets.renew(packets);
  }

  /** Runs records[0..count); verdicts/args written to the given arrays at [0..count). */
  run(records: PacketRecord[], count: number, verdicts: Uint8Array, args: Uint16Array, sink: ComponentSink): void {
    const batch = count === records.length ? records : records.slice(0, count);
    if (this.clock === 'packet') {
      for (let i = 0; i < count; i++) {
        const r = records[i]!;
        if (r.tsSec > this.packetSec || (r.tsSec === this.packetSec && r.tsNsec > this.packetNsec)) { this.packetSec = r.tsSec; this.packetNsec = r.tsNsec; }
      }
    }
    const result = this.enter(sink, count, this.budgets.batch, () => this.call('inspect-batch', () => this.exports.inspectBatch(batch)));
    // An action outside the verdicts (or a list too short: 0xff) is written as it is: the
    // caller counts it as an invalid verdict and makes it CONTINUE, as for a core module.
    for (let i = 0; i < count; i++) {
      const v = result[i];
      const ok = v !== undefined && isVerdict(v.action);
      verdicts[i] = v === undefined ? 0xff : v.action & 0xff;
      args[i] = ok ? v.arg : 0;
    }
  }

  /** What flow-end raises goes to sink (index -1: it belongs to the flow); without one it is dropped and counted. */
  flowEnd(flowId: bigint, sink: ComponentSink | null = null): void {
    this.enter(sink, 0, this.budgets.flowEnd(), () => this.call('flow-end', () => this.exports.flowEnd(BigInt.asUintN(64, flowId))));
  }

  private enter<T>(sink: ComponentSink | null, count: number, budget: OutputBudget, fn: () => T): T {
    this.sink = sink;
    this.count = count;
    this.budget = budget;
    this.lastError = null;
    try {
      return fn();
    } finally {
      this.sink = null;
    }
  }

  private call<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SecuxflowError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new SecuxflowError('E_MODULE_TRAP', `module ${this.name} trapped in ${what}: ${msg}${this.lastError ? ` (module said: ${printable(this.lastError)})` : ''}`);
    }
  }

  private index(i: number): number {
    if (i === -1) return -1;
    return i >= 0 && i < this.count ? i : -2;
  }

  /**
   * The core hostcalls' rules (size, depth, containers, lone surrogates), so a
   * component cannot hand the EVE writer what a core module may not. A string
   * has at least as many UTF-8 bytes as UTF-16 units: a long one is refused unencoded.
   */
  private json(text: string): Record<string, unknown> | number {
    return text.length > this.limits.maxJsonBytes ? Status.LIMIT_REACHED : moduleJsonObject(utf8.encode(text), this.limits.maxJsonBytes);
  }

  private emitAlert(i: number, sid: number, sev: number, msg: string, meta: string): number {
    const index = this.index(i);
    if (index === -2 || sid <= 0 || sev < 1 || sev > 255) return 1;
    // Checked before the metadata is parsed, as in the core hostcalls: past the budget a call costs the host nothing.
    if (utf8.encode(msg).length > this.limits.maxMessageBytes || this.budget.alerts <= 0) { this.stats.alertsDropped++; return Status.LIMIT_REACHED; }
    let metadata: Record<string, unknown> | null = null;
    if (meta !== '') {
      const m = this.json(meta);
      if (typeof m === 'number') { if (m === Status.LIMIT_REACHED) this.stats.alertsDropped++; return m; }
      metadata = m;
    }
    this.budget.alerts--;
    // Without a sink (init, a flow-end nobody collects) it is accepted but reaches no output: counted as dropped.
    if (this.sink === null) { this.stats.alertsDropped++; return 0; }
    this.stats.alerts++;
    this.sink.alerts.push({ index, sigId: sid, severity: sev, message: msg, metadata });
    return 0;
  }

  private emitEvent(i: number, kind: number, json: string): number {
    const index = this.index(i);
    const k = EVENT_KINDS.get(kind);
    if (index === -2 || k === undefined) return 1;
    if (this.budget.events <= 0) { this.stats.eventsDropped++; return Status.LIMIT_REACHED; }
    const data = this.json(json);
    if (typeof data === 'number') { if (data === Status.LIMIT_REACHED) this.stats.eventsDropped++; return data; }
    this.budget.events--;
    if (this.sink === null) { this.stats.eventsDropped++; return 0; }
    this.stats.events++;
    this.sink.events.push({ index, kind: k, data });
    return 0;
  }

  private log(level: number, msg: string): number {
    if (level < 0 || level > 3) return 1;
    // Escaped as the core hostcalls escape theirs: no terminal escapes, no forged lines.
    const text = printable(msg.length > this.limits.maxMessageBytes ? `${msg.slice(0, this.limits.maxMessageBytes)}…` : msg);
    if (level === 3) this.lastError = text;
    if (this.budget.logs <= 0) { this.stats.logsDropped++; return 3; }
    this.budget.logs--;
    this.logger(this.name, LEVELS[level]!, text);
    return 0;
  }

  private now(): bigint {
    if (this.clock === 'packet') return BigInt(this.packetSec) * 1_000_000_000n + BigInt(this.packetNsec);
    return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  }
}

const EMPTY = new Uint8Array(0);

export function emptyRecord(): PacketRecord {
  return {
    flowId: 0n, tsSec: 0, tsNsec: 0, wireLen: 0, payloadLen: 0, streamNew: 0, frame: EMPTY, streamBytes: EMPTY,
    l3Off: 0, l4Off: 0, payloadOff: 0, srcPort: 0, dstPort: 0, vlanId: 0, ipVersion: 0, l4Proto: 0, tcpFlags: 0, direction: 0, metaFlags: 0,
  };
}

function off16(v: number): number {
  return v < 0 || v >= META_ABSENT_U16 ? META_ABSENT_U16 : v;
}

/** Fills a pooled record from an engine item (the in-thread path). */
export function recordFromItem(r: PacketRecord, item: InspectItem): void {
  const p = item.pkt;
  let flags = item.flags & 0xff;
  if (p.malformed !== null) flags |= MetaFlag.MALFORMED;
  if (p.wireLen > p.data.length) flags |= MetaFlag.TRUNCATED;
  r.flowId = BigInt(item.flowId);
  r.tsSec = p.tsSec >>> 0;
  r.tsNsec = p.tsNsec >>> 0;
  r.wireLen = p.wireLen >>> 0;
  r.payloadLen = p.payloadOffset < 0 ? 0 : p.payloadLength;
  r.frame = p.data;
  r.streamBytes = item.stream ?? EMPTY;
  r.streamNew = item.stream ? Math.min(item.streamNew >>> 0, item.stream.length) : 0;
  r.l3Off = off16(p.l3Offset);
  r.l4Off = off16(p.l4Offset);
  r.payloadOff = off16(p.payloadOffset);
  r.srcPort = p.srcPort;
  r.dstPort = p.dstPort;
  r.vlanId = p.vlans.length > 0 ? p.vlans[0]! : 0;
  r.ipVersion = p.ipVersion;
  r.l4Proto = p.proto;
  r.tcpFlags = p.tcpFlags;
  r.direction = item.direction;
  r.metaFlags = flags;
}

/** Fills a pooled record from a meta record in a batch-area buffer whose pointers are offsets into `data` (the worker path). */
export function recordFromMeta(r: PacketRecord, data: Uint8Array, dv: DataView, m: number): void {
  const pktPtr = dv.getUint32(m + META.PKT_PTR, true);
  const pktLen = dv.getUint32(m + META.PKT_LEN, true);
  const sPtr = dv.getUint32(m + META.STREAM_PTR, true);
  const sLen = dv.getUint32(m + META.STREAM_LEN, true);
  r.flowId = dv.getBigUint64(m + META.FLOW_ID, true);
  r.tsSec = dv.getUint32(m + META.TS_SEC, true);
  r.tsNsec = dv.getUint32(m + META.TS_NSEC, true);
  r.wireLen = dv.getUint32(m + META.WIRE_LEN, true);
  r.payloadLen = dv.getUint32(m + META.PAYLOAD_LEN, true);
  r.streamNew = dv.getUint32(m + META.STREAM_NEW, true);
  r.frame = data.subarray(pktPtr, pktPtr + pktLen);
  r.streamBytes = sLen > 0 ? data.subarray(sPtr, sPtr + sLen) : EMPTY;
  r.l3Off = dv.getUint16(m + META.L3_OFF, true);
  r.l4Off = dv.getUint16(m + META.L4_OFF, true);
  r.payloadOff = dv.getUint16(m + META.PAYLOAD_OFF, true);
  r.srcPort = dv.getUint16(m + META.SRC_PORT, true);
  r.dstPort = dv.getUint16(m + META.DST_PORT, true);
  r.vlanId = dv.getUint16(m + META.VLAN_ID, true);
  r.ipVersion = data[m + META.IP_VERSION]!;
  r.l4Proto = data[m + META.L4_PROTO]!;
  r.tcpFlags = data[m + META.TCP_FLAGS]!;
  r.direction = data[m + META.DIRECTION]!;
  r.metaFlags = data[m + META.FLAGS]!;
}

const defaultLogger: InspectorLogger = (module, level, message) => {
  if (level !== 'debug') process.stderr.write(`[${module}] ${level}: ${message}\n`);
};

/** A component behind the in-thread InspectorInstance interface (--unsafe-in-thread, benchmarks). */
export class ComponentInspector {
  private readonly pool: PacketRecord[] = [];
  private readonly verdicts = new Uint8Array(DEFAULT_LIMITS.BATCH_CAPACITY);
  private readonly args = new Uint16Array(DEFAULT_LIMITS.BATCH_CAPACITY);

  private constructor(readonly name: string, private readonly runtime: ComponentRuntime, private readonly batchCapacity: number) {}

  static async create(c: CompiledComponent, opts: InspectorOptions & { maxMemoryPages?: number } = {}): Promise<ComponentInspector> {
    const runtime = await ComponentRuntime.create(c.name, c.entry, { ...opts, logger: opts.logger ?? defaultLogger });
    return new ComponentInspector(c.name, runtime, Math.min(opts.batchCapacity ?? DEFAULT_LIMITS.BATCH_CAPACITY, DEFAULT_LIMITS.BATCH_CAPACITY));
  }

  get memoryBytes(): number {
    return this.runtime.memoryBytes();
  }

  get stats(): ComponentRuntime['stats'] {
    return this.runtime.stats;
  }

  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    const cap = this.batchCapacity;
    this.runtime.newBatch(count);
    for (let start = 0; start < count; start += cap) {
      const n = Math.min(cap, count - start);
      while (this.pool.length < n) this.pool.push(emptyRecord());
      for (let i = 0; i < n; i++) recordFromItem(this.pool[i]!, items[start + i]!);
      const sink: ComponentSink = { alerts: [], events: [] };
      const t0 = performance.now();
      this.runtime.run(this.pool, n, this.verdicts, this.args, sink);
      this.runtime.stats.timeNs += Math.round((performance.now() - t0) * 1e6);
      for (let i = 0; i < n; i++) {
        if (isVerdict(this.verdicts[i]!)) continue;
        this.runtime.stats.verdictErrors++;
        this.verdicts[i] = 0;
      }
      out.verdicts.set(this.verdicts.subarray(0, n), start);
      out.verdictArgs.set(this.args.subarray(0, n), start);
      for (const a of sink.alerts) out.alerts.push({ ...a, index: a.index < 0 ? -1 : a.index + start });
      for (const e of sink.events) out.events.push({ ...e, index: e.index < 0 ? -1 : e.index + start });
    }
  }

  flowEnded(flowId: number, output?: FlowEndOutput): void {
    const sink: ComponentSink | null = output === undefined ? null : { alerts: [], events: [] };
    this.runtime.flowEnd(BigInt(flowId), sink);
    if (output !== undefined && sink !== null && (sink.alerts.length > 0 || sink.events.length > 0)) output(sink.alerts, sink.events);
  }
}
