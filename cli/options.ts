// commander keeps the last value of an option given twice (`rule add --action
// drop --action pass` stores a pass rule). For options that take one value,
// that silent choice is refused instead.
import type { Command, Option } from 'commander';

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

/**
 * Repeatable options are variadic, or collect into an array: their parser
 * returns one (a probe call tells, with or without an array default).
 */
function repeatable(o: Option): boolean {
  if (o.variadic || Array.isArray(o.defaultValue)) return true;
  try {
    return Array.isArray(o.parseArg?.('x', undefined as unknown as string));
  } catch {
    return false;
  }
}

/** The first single-value option of `command` that `args` gives twice (as its long name), or null. */
export function repeatedSingleOption(command: Command, args: readonly string[]): string | null {
  const options = command.options as readonly Option[];
  const byFlag = new Map<string, Option>();
  for (const o of options) {
    if (o.long) byFlag.set(o.long, o);
    if (o.short) byFlag.set(o.short, o);
  }
  const seen = new Set<Option>();
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') break;
    const eq = token.indexOf('=');
    const flag = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token;
    const o = byFlag.get(flag);
    if (o === undefined) continue;
    if (takesValue(o) && flag === token) i++; // its value is the next token, whatever it looks like
    if (!takesValue(o) || repeatable(o)) continue;
    if (seen.has(o)) return o.long ?? o.short ?? flag;
    seen.add(o);
  }
  return null;
}

/**
 * An option and its negation both given (`--config FILE --no-config`):
 * commander keeps whichever came last. Returns the two flags, or null.
 */
export function contradictingOptions(command: Command, args: readonly string[]): [string, string] | null {
  const options = command.options as readonly Option[];
  const byFlag = new Map<string, Option>();
  for (const o of options) if (o.long) byFlag.set(o.long, o);
  const given = new Map<string, string>(); // attribute -> the flag that set it first
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') break;
    const eq = token.indexOf('=');
    const flag = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token;
    const o = byFlag.get(flag);
    if (o === undefined) continue;
    if (takesValue(o) && flag === token) i++;
    const first = given.get(o.attributeName());
    if (first !== undefined && first !== flag) return [first, flag];
    if (first === undefined) given.set(o.attributeName(), flag);
  }
  return null;
}
