// Reads the few sections of a core wasm binary the loader needs and the JS API
// does not expose in Node 20 (function signatures of imports and exports,
// global types and constant initialisers, memory limits). The input has
// already passed WebAssembly.validate, so this reader can stay small; it
// stops at the first section it does not understand instead of guessing.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | `0x${string}`;

export interface FuncType { params: ValType[]; results: ValType[] }
export interface Limits { min: number; max: number | null; shared: boolean; memory64: boolean }

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface ImportEntry {
  module: string;
  field: string;
  kind: ExternKind;
  /** Functions only. */
  type?: FuncType;
  /** Memories only. */
  limits?: Limits;
}

export interface GlobalInfo {
  type: ValType;
  mutable: boolean;
  /** Value of a constant i32/i64 initialiser, null for anything else. */
  init: bigint | null;
  imported: boolean;
}

export interface ExportEntry {
  name: string;
  kind: ExternKind;
  index: number;
  type?: FuncType;
  global?: GlobalInfo;
  limits?: Limits;
}

export interface WasmLayout {
  /** 0 for a core module, 1 for a component (component model). */
  layer: number;
  version: number;
  imports: ImportEntry[];
  exports: ExportEntry[];
  memories: Limits[];
}

const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

function valType(b: number): ValType {
  switch (b) {
    case 0x7f: return 'i32';
    case 0x7e: return 'i64';
    case 0x7d: return 'f32';
    case 0x7c: return 'f64';
    case 0x7b: return 'v128';
    case 0x70: return 'funcref';
    case 0x6f: return 'externref';
    default: return `0x${b.toString(16)}`;
  }
}

export function formatFuncType(t: FuncType): string {
  return `(${t.params.join(', ')}) -> ${t.results.length === 0 ? '()' : t.results.join(', ')}`;
}

class Cursor {
  pos: number;
  constructor(readonly bytes: Uint8Array, pos: number, readonly end: number) {
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.end) throw new RangeError(`unexpected end of section at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RangeError(`LEB128 too long at byte ${this.pos}`);
    }
  }
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return result;
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  limits(): Limits {
    const flags = this.byte();
    const memory64 = (flags & 0x04) !== 0;
    const min = this.u32();
    const max = flags & 0x01 ? this.u32() : null;
    return { min, max, shared: (flags & 0x02) !== 0, memory64 };
  }
  /** Constant expression: only i32/i64.const are evaluated; others yield null. */
  constExpr(): bigint | null {
    let value: bigint | null = null;
    let ops = 0;
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return ops === 1 ? value : null;
      ops++;
      if (op === 0x41 || op === 0x42) value = this.sleb();
      else if (op === 0x23 || op === 0xd2) { this.u32(); value = null; }
      else if (op === 0x43) { this.pos += 4; value = null; }
      else if (op === 0x44) { this.pos += 8; value = null; }
      else if (op === 0xd0) { this.byte(); value = null; }
      else if (op === 0xfd && this.u32() === 12) { this.pos += 16; value = null; } // v128.const: valid SIMD, no i32 marker
      else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) value = null;
      else throw new RangeError(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
    }
  }
}

/** The module's header and interface; throws RangeError on bytes it cannot read. */
export function readLayout(bytes: Uint8Array): WasmLayout {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new RangeError('missing the \\0asm magic');
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  const layout: WasmLayout = { layer, version, imports: [], exports: [], memories: [] };
  if (layer !== 0) return layout;

  const types: FuncType[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const globals: GlobalInfo[] = [];
  const rawExports: { name: string; kind: ExternKind; index: number }[] = [];

  let pos = 8;
  while (pos < bytes.length) {
    const head = new Cursor(bytes, pos, bytes.length);
    const id = head.byte();
    const size = head.u32();
    const c = new Cursor(bytes, head.pos, head.pos + size);
    pos = head.pos + size;
    switch (id) {
      case 1: {
        const n = c.u32();
        for (let i = 0; i < n; i++) {
          const form = c.byte();
          if (form !== 0x60) throw new RangeError(`type ${i}: form 0x${form.toString(16)} is not a plain function type`);
          const params: ValType[] = [];
          for (let p = c.u32(); p > 0; p--) params.push(valType(c.byte()));
          const results: ValType[] = [];
          for (let r = c.u32(); r > 0; r--) results.push(valType(c.byte()));
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = c.u32();
        for (let i = 0; i < n; i++) {
          const module = c.name();
          const field = c.name();
          const kindByte = c.byte();
          const kind = KINDS[kindByte];
          if (!kind) throw new RangeError(`import ${module}.${field}: unknown kind ${kindByte}`);
          const entry: ImportEntry = { module, field, kind };
          if (kind === 'function') {
            const t = c.u32();
            funcTypes.push(t);
            entry.type = types[t]!;
          } else if (kind === 'table') {
            c.byte();
            c.limits();
          } else if (kind === 'memory') {
            entry.limits = c.limits();
            layout.memories.push(entry.limits);
          } else if (kind === 'global') {
            const type = valType(c.byte());
            const mutable = c.byte() === 1;
            globals.push({ type, mutable, init: null, imported: true });
          } else {
            c.byte();
            c.u32();
          }
          layout.imports.push(entry);
        }
        break;
      }
      case 3: {
        for (let n = c.u32(); n > 0; n--) funcTypes.push(c.u32());
        break;
      }
      case 5: {
        for (let n = c.u32(); n > 0; n--) layout.memories.push(c.limits());
        break;
      }
      case 6: {
        for (let n = c.u32(); n > 0; n--) {
          const type = valType(c.byte());
          const mutable = c.byte() === 1;
          globals.push({ type, mutable, init: c.constExpr(), imported: false });
        }
        break;
      }
      case 7: {
        for (let n = c.u32(); n > 0; n--) {
          const name = c.name();
          const kind = KINDS[c.byte()] ?? 'tag';
          rawExports.push({ name, kind, index: c.u32() });
        }
        break;
      }
      default:
        break;
    }
  }

  for (const e of rawExports) {
    const entry: ExportEntry = { ...e };
    if (e.kind === 'function') {
      const t = funcTypes[e.index];
      if (t !== undefined) entry.type = types[t]!;
    } else if (e.kind === 'global') {
      entry.global = globals[e.index]!;
    } else if (e.kind === 'memory') {
      entry.limits = layout.memories[e.index]!;
    }
    layout.exports.push(entry);
  }
  return layout;
}
