// One wrapper for every command action: errors print as
// "secuxflow <cmd>: error[E_CODE]: message" plus a hint, and set the exit code.
import { SecuxflowError, describeError } from '../host/errors.js';
import { printable } from '../host/text.js';

export type ActionFn<A extends unknown[]> = (...args: A) => Promise<void> | void;

export function action<A extends unknown[]>(command: string, fn: ActionFn<A>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      reportError(command, e);
      // A script that asked for --json parses stdout: it gets the error there too, as JSON.
      if (wantsJson(args)) printJson({ error: errorJson(e) });
    }
  };
}

function wantsJson(args: unknown[]): boolean {
  return args.some((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && (a as { json?: unknown }).json === true);
}

function errorJson(e: unknown): { code: string; message: string; hint?: string } {
  if (e instanceof SecuxflowError) return e.toJSON();
  return { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export function reportError(command: string, e: unknown): void {
  const code = e instanceof SecuxflowError ? e.code : 'E_INTERNAL';
  process.stderr.write(`secuxflow ${command}: error[${code}]: ${shownError(e)}\n`);
  if (!(e instanceof SecuxflowError) && e instanceof Error && process.env.SECUXFLOW_DEBUG) {
    process.stderr.write(`${e.stack}\n`);
  }
  // 2 = usage error, 1 = anything else
  if (!process.exitCode || process.exitCode === 0) process.exitCode = code === 'E_USAGE' ? 2 : 1;
}

/**
 * describeError() on its way to a terminal. A message may quote what came
 * from outside (a module's import name, a file name, a flag value) and not
 * every place that builds one escapes it, so it is escaped here, once for
 * all: no terminal escape, and no line break that could forge a line of our
 * own. A hint keeps its own lines (wabt's source excerpt, for one).
 */
function shownError(e: unknown): string {
  if (!(e instanceof SecuxflowError)) return printable(describeError(e));
  const message = printable(e.message);
  return e.hint ? `${message}\n  hint: ${e.hint.split('\n').map(printable).join('\n')}` : message;
}

/** Writes JSON to stdout, one document, newline-terminated. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
