// Byte sizes on the command line, as Suricata's YAML writes them (`depth:
// 1mb`): a whole number with an optional binary unit. Units are powers of
// 1024 whatever their spelling, since the figures are memory budgets.
import { SecuxflowError } from '../host/errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** Parses "65536", "64KiB", "1mb", "256 MiB" into bytes, within [min, max]; else E_USAGE naming the flag. */
export function parseByteSize(flag: string, text: string, min: number, max: number): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new SecuxflowError('E_USAGE', `${flag} "${text}": not a size`, `give bytes, or a number with KiB, MiB or GiB, for example ${flag} 1MiB`);
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) {
    throw new SecuxflowError('E_USAGE', `${flag} ${text}: out of range`, `give ${describeBytes(min)} to ${describeBytes(max)}`);
  }
  return bytes;
}

function describeBytes(n: number): string {
  for (const [suffix, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${suffix}`;
  }
  return n === 1 ? '1 byte' : `${n} bytes`;
}
