// Turns module bytes into a CompiledInspector after checking everything ABI v1
// requires, so a bad module is refused at load time with a message that names
// the problem, not at the first packet.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SecuxflowError } from '../errors.js';
import {
  ABI_MARKER_EXPORT, ABI_VERSION, HOSTCALLS, HOSTCALL_NAMESPACE, MEMORY_EXPORT, REQUIRED_EXPORTS, type AbiSignature,
} from './abi.js';
import { printable } from '../text.js';
import { formatFuncType, readLayout, type ExportEntry, type FuncType, type Limits, type WasmLayout } from './binary.js';

export interface CompiledInspector {
  name: string;
  module: WebAssembly.Module;
  /** Size of the binary in bytes. */
  size: number;
  layout: WasmLayout;
  abiVersion: number;
}

const WASM_PAGE = 65536;

function sameSignature(t: FuncType | undefined, want: AbiSignature): boolean {
  if (!t) return false;
  return t.params.length === want.params.length && t.results.length === want.results.length
    && t.params.every((p, i) => p === want.params[i]) && t.results.every((r, i) => r === want.results[i]);
}

function fmt(sig: AbiSignature): string {
  return formatFuncType({ params: [...sig.params], results: [...sig.results] });
}

function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

// Where the SDK's exports live differs: a scaffolded project copies the SDK next to index.ts, the shipped modules share ../sdk.
const SDK_EXPORTS = '`export * from "./sdk/exports"` in a project made by secuxflow module new (`"../sdk/exports"` in secuxflow\'s own modules/)';

function checkMarker(name: string, layout: WasmLayout): number {
  const marker = layout.exports.find((e) => e.name === ABI_MARKER_EXPORT);
  if (!marker) {
    throw new SecuxflowError('E_MODULE_ABI', `module ${name} has no ${ABI_MARKER_EXPORT} export: it was not built with the secuxflow SDK`,
      `AssemblyScript modules get it from ${SDK_EXPORTS}; WAT modules declare (global (export "secuxflow_abi_version") i32 (i32.const 1))`);
  }
  const g = marker.global;
  if (marker.kind !== 'global' || !g || g.type !== 'i32' || g.mutable || g.init === null) {
    // An immutable i32 global can still fail: say why, or the message contradicts itself.
    const found = g && g.type === 'i32' && !g.mutable ? `one whose value is ${g.imported ? 'imported' : 'not a constant'}` : describeExport(marker);
    throw new SecuxflowError('E_MODULE_ABI',
      `module ${name}: ${ABI_MARKER_EXPORT} must be an immutable i32 global with a constant value, found ${found}`,
      'declare it as (global (export "secuxflow_abi_version") i32 (i32.const 1))');
  }
  const version = Number(g.init);
  if (version !== ABI_VERSION) {
    throw new SecuxflowError('E_MODULE_ABI', `module ${name} was built for ABI ${version}; this host speaks ABI ${ABI_VERSION} (rebuild it against the v1 SDK)`,
      'AssemblyScript: build against the SDK of this secuxflow (secuxflow module new copies it into the project); WAT: (global (export "secuxflow_abi_version") i32 (i32.const 1))');
  }
  return version;
}

// What AssemblyScript's standard library imports from env, and the SDK call that does the job in the sandbox.
const AS_ENV_HINTS = new Map<string, string>([
  ['console.log', "AssemblyScript's console.log is not available in the sandbox: use the SDK's log(LogLevel.INFO, message)"],
  ['Date.now', "AssemblyScript's Date.now is not available in the sandbox: use the SDK's nowNs() (capture time offline, wall clock live)"],
  ['seed', "AssemblyScript's Math.random() imports env.seed, which the sandbox does not provide: derive values from the packet or nowNs() (the SDK's tables already hash with a seed of their own)"],
]);

function importHint(module: string, field: string): string {
  const asHint = module === 'env' ? AS_ENV_HINTS.get(field) : undefined;
  if (asHint !== undefined) return asHint;
  if (module === 'env' && (field === 'abort' || field === 'trace')) {
    return `AssemblyScript's env.${field} is not available: build with the project's asconfig.json (it redirects abort to the SDK), and do not use trace() or Math.random()`;
  }
  if (module.startsWith('wasi')) return 'WASI is not available to inspectors: build without a WASI target';
  return `only ${HOSTCALL_NAMESPACE}.* hostcalls (${Object.keys(HOSTCALLS).join(', ')}) may be imported`;
}

function checkImports(name: string, layout: WasmLayout): void {
  for (const imp of layout.imports) {
    // The names are the module's own bytes: a hostile one could put terminal escapes in them.
    const what = printable(`${imp.module}.${imp.field}`);
    if (imp.module !== HOSTCALL_NAMESPACE) {
      throw new SecuxflowError('E_MODULE_IMPORT', `module ${name} imports ${what} (${imp.kind}), which the inspector sandbox does not provide`, importHint(imp.module, imp.field));
    }
    const want = (HOSTCALLS as Record<string, AbiSignature>)[imp.field];
    if (!want) {
      throw new SecuxflowError('E_MODULE_IMPORT', `module ${name} imports ${what}, which is not a hostcall of ABI v${ABI_VERSION}`, importHint(imp.module, imp.field));
    }
    if (imp.kind !== 'function' || !sameSignature(imp.type, want)) {
      const found = imp.type ? formatFuncType(imp.type) : imp.kind;
      throw new SecuxflowError('E_MODULE_IMPORT', `module ${name} imports ${what} as ${found}; ABI v${ABI_VERSION} defines it as ${fmt(want)}`);
    }
  }
}

function describeExport(e: ExportEntry): string {
  if (e.kind === 'function') return `a function ${e.type ? formatFuncType(e.type) : ''}`.trimEnd();
  if (e.kind === 'global' && e.global) return `${e.global.mutable ? 'a mutable' : 'an immutable'} ${e.global.type} global`;
  return `a ${e.kind}`;
}

function checkExports(name: string, layout: WasmLayout): void {
  const byName = new Map(layout.exports.map((e) => [e.name, e]));
  const mem = byName.get(MEMORY_EXPORT);
  if (!mem || mem.kind !== 'memory') {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} does not export its linear memory as "${MEMORY_EXPORT}"${mem ? ` (it is ${describeExport(mem)})` : ''}`);
  }
  if (mem.limits?.memory64 || mem.limits?.shared) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name}: "${MEMORY_EXPORT}" must be a plain 32-bit memory (found ${mem.limits.memory64 ? 'memory64' : 'shared memory'})`);
  }
  for (const [fn, want] of Object.entries(REQUIRED_EXPORTS)) {
    const e = byName.get(fn);
    if (!e) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} does not export ${fn} ${fmt(want)}, which ABI v${ABI_VERSION} requires`,
        `AssemblyScript modules re-export it with ${SDK_EXPORTS}; WAT modules export it themselves with that signature (docs/abi/v1.md section 5)`);
    }
    if (e.kind !== 'function' || !sameSignature(e.type, want)) {
      throw new SecuxflowError('E_MODULE_INVALID', `module ${name} exports ${fn} as ${describeExport(e)}; ABI v${ABI_VERSION} needs a function ${fmt(want)}`);
    }
  }
}

/** Validates bytes against ABI v1 and compiles them (no instantiation). */
export async function compileInspector(name: string, bytes: Uint8Array): Promise<CompiledInspector> {
  if (!hasMagic(bytes)) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is not a WebAssembly binary (no \\0asm magic at offset 0)`, 'pass a .wasm file, or a .wat text file');
  }
  const layer = bytes.length >= 8 ? bytes[6]! | (bytes[7]! << 8) : 0;
  if (layer === 1) {
    // Components follow the WIT world in modules/wit, not this core ABI: host/modules/load.ts
    // (loadModuleFile, used by the CLI and loadModules) detects them and runs them through jco.
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a WebAssembly component; this loader reads core modules only; components run through jco`,
      'load it with loadModuleFile() from host/modules/load.js (secuxflow module load and --module do), which runs components through jco');
  }
  if (!WebAssembly.validate(bytes)) {
    let reason = 'invalid module';
    try { new WebAssembly.Module(bytes); } catch (e) { reason = e instanceof Error ? e.message : String(e); }
    // V8's words for a binary that stops inside a section: the usual result of an interrupted build or download.
    const cut = /past end|unexpected end|reached end|end of (the )?module/i.test(reason);
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is not a valid WebAssembly module: ${reason}`,
      cut ? 'the file ends too early: a build, copy or download was cut short; build or copy it again' : undefined);
  }
  let layout: WasmLayout;
  try {
    layout = readLayout(bytes);
  } catch (e) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name}: cannot read its sections: ${e instanceof Error ? e.message : String(e)}`);
  }
  const abiVersion = checkMarker(name, layout);
  checkImports(name, layout);
  checkExports(name, layout);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (e) {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${name} does not compile: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { name, module, size: bytes.length, layout, abiVersion };
}

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtPromise: Promise<Wabt> | null = null;

const WABT_NAME = 'input.wat';
const WABT_LOCATION = /input\.wat[^:\n]*:(\d+):(\d+):/g;

/** Compiles WebAssembly text with wabt; syntax and validation errors carry file:line:col. */
export async function watToWasm(text: string, filename: string): Promise<Uint8Array> {
  wabtPromise ??= import('wabt').then((m) => (m as unknown as { default: () => Promise<Wabt> }).default());
  const wabt = await wabtPromise;
  let mod: ReturnType<Wabt['parseWat']> | null = null;
  try {
    // wabt's messages sometimes carry stray bytes after a long file name, so
    // it gets a short fixed name and ours is put back into its messages.
    mod = wabt.parseWat(WABT_NAME, text, { mutable_globals: true, sat_float_to_int: true, sign_extension: true, bulk_memory: true, multi_value: true });
    mod.resolveNames();
    mod.validate();
    return new Uint8Array(mod.toBinary({ log: false, write_debug_names: true }).buffer);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      // wabt itself crashed (its stack ran out): that instance is broken for every later
      // module, so the next call gets a fresh one, and nothing of it is touched again.
      wabtPromise = null;
      mod = null;
      throw new SecuxflowError('E_MODULE_INVALID', `${filename} is too deeply nested or too large for the WebAssembly text compiler (wabt failed: ${e.message})`,
        'flatten the deepest expressions (e.g. with locals), or compile it to .wasm with another tool and load that');
    }
    const msg = (e instanceof Error ? e.message : String(e)).replace(/^(parseWat|validate) failed:\s*/, '').trim()
      .replace(WABT_LOCATION, (_m, line: string, col: string) => `${filename}:${line}:${col}:`)
      // wabt quotes the offending source line: the file's control characters must not reach the terminal.
      .split('\n').map(printable).join('\n');
    const first = msg.split('\n').find((l) => /:\d+:\d+:/.test(l)) ?? msg.split('\n')[0] ?? msg;
    throw new SecuxflowError('E_MODULE_INVALID', `${filename} is not valid WebAssembly text: ${first.trim()}`, msg.includes('\n') ? msg : undefined);
  } finally {
    mod?.destroy();
  }
}

/** Loads a .wasm or .wat file (decided by its magic bytes, then its extension) and compiles it. */
export async function loadInspectorFile(path: string, name?: string): Promise<CompiledInspector> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SecuxflowError('E_MODULE_NOT_FOUND', `module file ${path} does not exist`);
    throw new SecuxflowError('E_IO', `cannot read module file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const moduleName = name ?? basename(path, extname(path));
  if (!hasMagic(bytes)) {
    const ext = extname(path).toLowerCase();
    const looksText = ext === '.wat' || ext === '.wast' || /^\s*(\(|;;)/.test(new TextDecoder().decode(bytes.subarray(0, 64)));
    if (!looksText) {
      throw new SecuxflowError('E_MODULE_INVALID', `module file ${path} is neither a WebAssembly binary nor WebAssembly text`);
    }
    bytes = await watToWasm(new TextDecoder().decode(bytes), path);
  }
  return compileInspector(moduleName, bytes);
}

export interface ModuleDescription {
  name: string;
  abiVersion: number;
  size: number;
  imports: { name: string; kind: string; signature: string | null }[];
  exports: { name: string; kind: string; signature: string | null }[];
  memory: { initialPages: number; maxPages: number | null; initialBytes: number; maxBytes: number | null } | null;
}

/** What `module info` shows: the interface and memory limits of a compiled inspector. */
export function describeModule(compiled: CompiledInspector): ModuleDescription {
  const { layout } = compiled;
  const mem = layout.exports.find((e) => e.name === MEMORY_EXPORT)?.limits ?? layout.memories[0] ?? null;
  const memory = (l: Limits | null): ModuleDescription['memory'] => l === null ? null : {
    initialPages: l.min, maxPages: l.max, initialBytes: l.min * WASM_PAGE, maxBytes: l.max === null ? null : l.max * WASM_PAGE,
  };
  return {
    name: compiled.name,
    abiVersion: compiled.abiVersion,
    size: compiled.size,
    imports: layout.imports.map((i) => ({ name: `${i.module}.${i.field}`, kind: i.kind, signature: i.type ? formatFuncType(i.type) : null })),
    exports: layout.exports.map((e) => ({
      name: e.name,
      kind: e.kind,
      signature: e.type ? formatFuncType(e.type) : e.global ? `${e.global.mutable ? 'mut ' : ''}${e.global.type}${e.global.init !== null ? ` = ${e.global.init}` : ''}` : null,
    })),
    memory: memory(mem),
  };
}
