// What `module info` shows about a file, read even when the module would be
// refused (so the user sees the offending import or export).
import { resolve } from 'node:path';
import { ABI_MARKER_EXPORT, HOSTCALLS, HOSTCALL_NAMESPACE } from '../wasm/abi.js';
import { formatFuncType, readLayout } from '../wasm/binary.js';
import { watToWasm } from '../wasm/loader.js';
import { describeComponentFile } from '../wasm/component.js';
import { memoryCeilingPages, resolveLimits, type SandboxLimits } from '../sandbox/limits.js';
import { detectKind, readModuleBytes, sha256Hex, type ModuleKind } from './load.js';

export interface InterfaceEntry {
  name: string;
  kind: string;
  signature: string | null;
}

export interface ModuleFileDescription {
  path: string;
  kind: ModuleKind;
  size: number;
  sha256: string;
  abiVersion: number | null;
  imports: (InterfaceEntry & { allowed: boolean })[];
  exports: InterfaceEntry[];
  memory: { initialPages: number; maxPages: number | null; sandboxMaxPages: number } | null;
}

export async function describeModuleFile(file: string, limits: Partial<SandboxLimits> = {}): Promise<ModuleFileDescription> {
  const path = resolve(file);
  const bytes = readModuleBytes(path);
  const kind = detectKind(path, bytes);
  const base = { path, kind, size: bytes.length, sha256: sha256Hex(bytes) };
  if (kind === 'component') return { ...base, ...(await describeComponentFile(bytes)) };
  const wasm = kind === 'wat' ? await watToWasm(new TextDecoder().decode(bytes), path) : bytes;
  let layout;
  try {
    layout = readLayout(wasm);
  } catch {
    return { ...base, abiVersion: null, imports: [], exports: [], memory: null };
  }
  const marker = layout.exports.find((e) => e.name === ABI_MARKER_EXPORT);
  const abiVersion = marker?.global?.init != null ? Number(marker.global.init) : null;
  const mem = layout.exports.find((e) => e.kind === 'memory')?.limits ?? layout.memories[0] ?? null;
  return {
    ...base,
    abiVersion,
    imports: layout.imports.map((i) => ({
      name: `${i.module}.${i.field}`, kind: i.kind, signature: i.type ? formatFuncType(i.type) : null,
      allowed: i.module === HOSTCALL_NAMESPACE && i.field in HOSTCALLS && i.kind === 'function',
    })),
    exports: layout.exports.map((e) => ({
      name: e.name, kind: e.kind,
      signature: e.type ? formatFuncType(e.type) : e.global ? `${e.global.mutable ? 'mut ' : ''}${e.global.type}${e.global.init !== null ? ` = ${e.global.init}` : ''}` : null,
    })),
    memory: mem === null ? null : {
      initialPages: mem.min, maxPages: mem.max,
      sandboxMaxPages: Math.min(mem.max ?? Infinity, memoryCeilingPages(resolveLimits(limits))),
    },
  };
}
