// Turns raw request pieces into the text the back end will see: percent-
// decoding repeated until stable (double encoding), %uXXXX, overlong UTF-8,
// '+' as space in query strings and forms. One module-level buffer holds the
// value being inspected; nothing is allocated per value.
import { percentDecodeRepeat, rounds, PercentFlag } from "../sdk/lib";

export const VALUE_CAP = 65536;
export const value = new Uint8Array(VALUE_CAP);
export let valueLen: i32 = 0;
/** Decoding passes that changed the last value (2+ = double encoding). */
export let valueRounds: i32 = 0;

/** Copies [p, p+n) into `value` and decodes it; returns the decoded length. */
export function decodeInto(p: usize, n: i32, form: bool): i32 {
  if (n > VALUE_CAP) n = VALUE_CAP;
  if (n < 0) n = 0;
  memory.copy(value.dataStart, p, <usize>n);
  const flags = PercentFlag.U_ESCAPES | PercentFlag.OVERLONG | (form ? PercentFlag.PLUS_SPACE : 0);
  valueLen = percentDecodeRepeat(value.dataStart, n, flags, 4);
  valueRounds = rounds();
  return valueLen;
}

/** Copies without decoding (header values other than cookies). */
export function copyInto(p: usize, n: i32): i32 {
  if (n > VALUE_CAP) n = VALUE_CAP;
  if (n < 0) n = 0;
  memory.copy(value.dataStart, p, <usize>n);
  valueLen = n;
  valueRounds = 0;
  return n;
}
