// Reads a module file of any supported kind (core .wasm, .wat text, or a
// component), pins its sha256, and prepares it for the sandbox: a core
// module's declared maximum memory is lowered to the ceiling before it is
// compiled; a component is transpiled through jco.
import { createHash } from 'node:crypto';
import { FileTooLarge, NotARegularFile, readRegularFile } from '../fs/read-regular.js';
import { basename, extname, resolve } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { compileInspector, watToWasm, type CompiledInspector } from '../wasm/loader.js';
import { capMemory, type MemoryCapResult } from '../sandbox/memory-cap.js';
import { memoryCeilingPages, resolveLimits, type SandboxLimits } from '../sandbox/limits.js';
import type { SandboxModule } from '../sandbox/sandboxed.js';
import { compileComponent, type CompiledComponent } from '../wasm/component.js';

export type ModuleKind = 'core' | 'wat' | 'component';

export interface LoadedModule {
  name: string;
  kind: ModuleKind;
  /** Absolute path of the file. */
  path: string;
  /** sha256 of the file's bytes as read (hex). */
  sha256: string;
  size: number;
  abiVersion: number;
  /** Core and wat modules (after the memory cap). */
  compiled: CompiledInspector | null;
  component: CompiledComponent | null;
  memory: MemoryCapResult | null;
  /** What the sandbox worker runs. */
  source: SandboxModule;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A name from a file name: lower case, [a-z0-9_-]. */
export function nameFromPath(path: string): string {
  const n = basename(path, extname(path)).replace(/[^a-z0-9_-]/gi, '_').toLowerCase();
  return /^[a-z]/.test(n) ? n : `m_${n}`;
}

/** What --max-module-mib can allow at most: a bound for reads that name no limit. */
const MAX_MODULE_FILE_BYTES = 1024 * 1024 * 1024;

export function readModuleBytes(path: string, maxBytes = MAX_MODULE_FILE_BYTES): Uint8Array {
  try {
    const bytes = readRegularFile(path, maxBytes);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch (e) {
    if (e instanceof FileTooLarge) {
      throw new SecuxflowError('E_MODULE_LIMIT', `module file ${path} is ${(e.size / 1048576).toFixed(1)} MiB, above the size limit of ${maxBytes / 1048576} MiB`,
        'inspectors are usually well under 1 MiB; raise the limit with --max-module-mib if this one really needs it');
    }
    if (e instanceof NotARegularFile) {
      throw new SecuxflowError('E_MODULE_INVALID', `${path} is ${e.kind}, not a module file`, 'pass a .wasm or .wat file');
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SecuxflowError('E_MODULE_NOT_FOUND', `module file ${path} does not exist`);
    if (code === 'EISDIR') throw new SecuxflowError('E_MODULE_INVALID', `${path} is a directory, not a module file`);
    throw new SecuxflowError('E_IO', `cannot read module file ${path}: ${code ?? String(e)}`);
  }
}

function hasMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
}

/** Detects the kind from the bytes: the layer field of the header tells a component from a core module. */
export function detectKind(path: string, bytes: Uint8Array): ModuleKind {
  // wabt reads an empty .wat as an empty module, which would then be "not built with the SDK".
  if (!hasMagic(bytes) && /^\s*$/.test(new TextDecoder().decode(bytes))) {
    throw new SecuxflowError('E_MODULE_INVALID', `module file ${path} is empty`, 'an interrupted build or copy leaves empty files: build or copy it again');
  }
  if (hasMagic(bytes)) return bytes.length >= 8 && (bytes[6]! | (bytes[7]! << 8)) === 1 ? 'component' : 'core';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new SecuxflowError('E_MODULE_INVALID', `module file ${path} is gzip-compressed, not a module`, 'decompress it first (gunzip -c FILE > module.wasm)');
  }
  const ext = extname(path).toLowerCase();
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  if (/^\s*<(!doctype html|html)/i.test(head)) {
    throw new SecuxflowError('E_MODULE_INVALID', `module file ${path} is an HTML page, not a module`, 'a download probably saved an error page: fetch the .wasm again and check the URL');
  }
  if (ext === '.wat' || ext === '.wast' || /^\s*(\(|;;)/.test(head)) return 'wat';
  throw new SecuxflowError('E_MODULE_INVALID', `module file ${path} is neither a WebAssembly binary, a component, nor WebAssembly text`,
    'pass a .wasm core module or component, or a .wat text module');
}

/** Loads and validates (without instantiating) a module file. */
export async function loadModuleFile(path: string, opts: { name?: string; limits?: Partial<SandboxLimits>; bytes?: Uint8Array } = {}): Promise<LoadedModule> {
  const abs = resolve(path);
  const limits = resolveLimits(opts.limits);
  // The size limit is checked before the file is read: a huge file costs nothing.
  const bytes = opts.bytes ?? readModuleBytes(abs, limits.maxModuleMiB * 1024 * 1024);
  const name = opts.name ?? nameFromPath(abs);
  if (bytes.length > limits.maxModuleMiB * 1024 * 1024) {
    throw new SecuxflowError('E_MODULE_LIMIT', `module ${name} is ${(bytes.length / 1048576).toFixed(1)} MiB, above the size limit of ${limits.maxModuleMiB} MiB`,
      'inspectors are usually well under 1 MiB; raise the limit with --max-module-mib if this one really needs it');
  }
  const sha256 = sha256Hex(bytes);
  const kind = detectKind(abs, bytes);
  if (kind === 'component') {
    const component = await compileComponent(name, bytes, sha256);
    return {
      name, kind, path: abs, sha256, size: bytes.length, abiVersion: component.abiVersion, compiled: null, component, memory: null,
      source: { name, kind: 'component', componentEntry: component.entry },
    };
  }
  let wasm = bytes;
  if (kind === 'wat') wasm = await watToWasm(new TextDecoder().decode(bytes), abs);
  let memory: MemoryCapResult;
  try {
    memory = capMemory(name, wasm, memoryCeilingPages(limits));
  } catch (e) {
    // An ABI problem explains more than the memory limit does: report it first.
    await compileInspector(name, wasm);
    throw e;
  }
  const compiled = await compileInspector(name, memory.bytes);
  return {
    name, kind, path: abs, sha256, size: bytes.length, abiVersion: compiled.abiVersion, compiled, component: null, memory,
    source: { name, kind: 'core', module: compiled.module },
  };
}
