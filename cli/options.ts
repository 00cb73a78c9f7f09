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

/** Each option of `command` that `args` gives, in order, with the flag it was given as (its value skipped). */
function* givenOptions(command: Command, args: readonly string[]): Generator<{ flag: string; option: Option }> {
  const byFlag = new Map<string, Option>();
  for (const o of command.options as readonly Option[]) {
    if (o.long) byFlag.set(o.long, o);
    if (o.short) byFlag.set(o.short, o);
  }
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') break;
    const eq = token.indexOf('=');
    const flag = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token;
    const option = byFlag.get(flag);
    if (option === undefined) continue;
    if (takesValue(option) && flag === token) i++; // its value is the next token, whatever it looks like
    yield { flag, option };
  }
}

/** The first single-value option of `command` that `args` gives twice (as its long name), or null. */
export function repeatedSingleOption(command: Command, args: readonly string[]): string | null {
  const seen = new Set<Option>();
  for (const { flag, option: o } of givenOptions(command, args)) {
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
  const given = new Map<string, string>(); // attribute -> the long flag that set it first
  for (const { option: o } of givenOptions(command, args)) {
    const flag = o.long ?? o.short ?? '';
    const first = given.get(o.attributeName());
    if (first !== undefined && first !== flag) return [first, flag];
    if (first === undefined) given.set(o.attributeName(), flag);
  }
  return null;
}
