// The commander entry point only wires commands; each command's work lives in
// cli/commands/<name>.ts, which also exports it for programmatic use.
import { Command, CommanderError, type Option } from 'commander';
import { SecuxflowError } from '../host/errors.js';
import { printable } from '../host/text.js';
import { printJson, reportError } from './action.js';
import { contradictingOptions, repeatedSingleOption } from './options.js';
import { registerInspect } from './commands/inspect.js';
import { registerRule } from './commands/rule.js';
import { registerAttach } from './commands/attach.js';
import { registerModule } from './commands/module.js';
import { registerStatus } from './commands/status.js';
import { registerRun } from './commands/run.js';
import { registerAlerts } from './commands/alerts.js';
import { registerBlock } from './commands/block.js';
import { registerFlow } from './commands/flow.js';
import { VERSION } from './version.js';

// `secuxflow rule list | head -1`: a reader that stops early is not an error,
// and must not end in an unhandled 'error' event with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

const program = new Command('secuxflow')
  .description('WebAssembly packet inspection: XDP rules in the kernel, WASM inspectors in user space')
  .version(VERSION)
  .exitOverride();

for (const register of [registerInspect, registerRule, registerAttach, registerModule, registerStatus, registerRun, registerAlerts, registerBlock, registerFlow]) {
  register(program);
}

/**
 * Whether the command line asks `command` for --json. Its action never runs
 * when commander refuses the line (an unknown or repeated option), yet a
 * script that asked for JSON parses stdout and must find the error there too,
 * as it does for the errors an action reports.
 */
function askedForJson(command: Command): boolean {
  if (!(command.options as readonly Option[]).some((o) => o.long === '--json')) return false;
  const args = process.argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

// commander's own usage errors ("error: unknown option '--foo'") get the
// same form as every other error: the command, a stable code, a hint line.
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null && c !== program; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * `secuxflow rule delete 3`, as iptables users type it: commander says "too
 * many arguments", and where the command takes one value besides --state-dir,
 * and requires it, the hint shows the operand there (`secuxflow rule delete --id 3`).
 */
function operandHint(command: Command, name: string): string | null {
  const valued = (command.options as readonly Option[]).filter((o) => (o.required || o.optional) && o.long !== '--state-dir');
  const [arg] = command.args;
  if (valued.length !== 1 || !valued[0]!.description.endsWith('(required)') || arg === undefined) return null;
  const shown = printable(arg);
  const word = /^[\w.:/@%+,=-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`;
  return `${name} takes no operands: write it as ${name} ${valued[0]!.long} ${word}${command.args.length > 1 ? ' (one per command)' : ''}`;
}

(function useOneErrorFormat(command: Command): void {
  command.configureOutput({
    outputError: (text, write) => {
      const lines = text.replace(/^error: /, '').trimEnd().split('\n');
      const hints = lines.slice(1).map((l) => l.replace(/^\((.*)\)$/, '$1'));
      const name = command === program ? 'secuxflow' : `secuxflow ${commandPath(command)}`;
      const operand = lines[0]?.startsWith('too many arguments') ? operandHint(command, name) : null;
      if (operand !== null) hints.push(operand);
      hints.push(`${name} --help shows the usage`);
      write(`${name}: error[E_USAGE]: ${lines[0]}\n${hints.map((h) => `  hint: ${h}\n`).join('')}`);
      if (askedForJson(command)) printJson({ error: new SecuxflowError('E_USAGE', lines[0] ?? 'usage error', hints.join('; ')).toJSON() });
    },
  });
  for (const sub of command.commands as Command[]) useOneErrorFormat(sub);
})(program);

program.hook('preAction', (_root, command) => {
  const args = process.argv.slice(2);
  const repeated = repeatedSingleOption(command, args);
  const contradicting = repeated === null ? contradictingOptions(command, args) : null;
  if (repeated === null && contradicting === null) return;
  const err = repeated !== null
    ? new SecuxflowError('E_USAGE', `${repeated} is given more than once, so which value is meant is a guess`, `give ${repeated} once`)
    : new SecuxflowError('E_USAGE', `${contradicting![0]} and ${contradicting![1]} are both given, so which is meant is a guess`, 'give one of them');
  reportError(commandPath(command), err);
  if (askedForJson(command)) printJson({ error: err.toJSON() });
  throw new CommanderError(2, 'secuxflow.repeatedOption', err.message);
});

/**
 * `secuxflow help frob` printed the top-level help with status 2 and no word
 * about the name: it is read as `secuxflow frob`, which commander refuses
 * as an unknown command with the closest name.
 */
function argvForHelpOfUnknown(argv: readonly string[]): readonly string[] {
  const [first, second] = argv.slice(2);
  if (first !== 'help' || second === undefined || second.startsWith('-')) return argv;
  const known = (program.commands as Command[]).some((c) => c.name() === second || c.aliases().includes(second));
  return known ? argv : [...argv.slice(0, 2), second];
}

try {
  await program.parseAsync(argvForHelpOfUnknown(process.argv));
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed its message; keep its exit code (0 for --help/--version)
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    reportError('', e);
  }
}
