// Lowers a core module's declared maximum memory to the sandbox ceiling by
// rewriting its memory section, so memory.grow past the ceiling returns -1
// inside the module instead of the host finding out after the fact. Node's
// worker resourceLimits do not cover WebAssembly memory, so this is the only
// hard bound on a module's memory.
import { SecuxflowError } from '../errors.js';

const MEMORY_SECTION = 5;

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const byte = b[pos++];
    if (byte === undefined) throw new RangeError('truncated LEB128');
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
  throw new RangeError('LEB128 longer than 5 bytes');
}

function writeU32(v: number, out: number[]): void {
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

export interface MemoryCapResult {
  bytes: Uint8Array;
  /** Declared maximum before the cap, null when the module declared none. */
  declaredMaxPages: number | null;
  minPages: number;
  /** Maximum after the cap. */
  maxPages: number;
  changed: boolean;
}

/**
 * Returns bytes whose (single, non-imported) memory has max <= ceilingPages.
 * A module whose initial memory already exceeds the ceiling is refused.
 */
export function capMemory(name: string, bytes: Uint8Array, ceilingPages: number): MemoryCapResult {
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, body] = readU32(bytes, pos + 1);
    const end = body + size;
    if (id === MEMORY_SECTION) {
      let [count, p] = readU32(bytes, body);
      if (count !== 1) return { bytes, declaredMaxPages: null, minPages: 0, maxPages: 0, changed: false };
      const flags = bytes[p++]!;
      if (flags & ~0x01) {
        throw new SecuxflowError('E_MODULE_INVALID', `module ${name}: its memory has flags 0x${flags.toString(16)} (shared or 64-bit), which the sandbox does not run`);
      }
      let min: number;
      [min, p] = readU32(bytes, p);
      let max: number | null = null;
      if (flags & 0x01) [max, p] = readU32(bytes, p);
      if (min > ceilingPages) {
        throw new SecuxflowError('E_MODULE_INVALID',
          `module ${name} starts with ${min} pages (${(min * 64) / 1024} MiB) of memory, above the sandbox ceiling of ${ceilingPages} pages (${(ceilingPages * 64) / 1024} MiB)`,
          'raise the ceiling with --memory-mib, or build the module with a smaller initial memory');
      }
      const capped = max === null ? ceilingPages : Math.min(max, ceilingPages);
      if (max !== null && max === capped) return { bytes, declaredMaxPages: max, minPages: min, maxPages: max, changed: false };
      const entry: number[] = [];
      writeU32(1, entry);
      entry.push(0x01);
      writeU32(min, entry);
      writeU32(capped, entry);
      const header: number[] = [MEMORY_SECTION];
      writeU32(entry.length, header);
      const out = new Uint8Array(pos + header.length + entry.length + (bytes.length - end));
      out.set(bytes.subarray(0, pos), 0);
      out.set(header, pos);
      out.set(entry, pos + header.length);
      out.set(bytes.subarray(end), pos + header.length + entry.length);
      return { bytes: out, declaredMaxPages: max, minPages: min, maxPages: capped, changed: true };
    }
    pos = end;
  }
  return { bytes, declaredMaxPages: null, minPages: 0, maxPages: 0, changed: false };
}
