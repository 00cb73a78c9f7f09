// The commander entry point only wires commands; each command's work lives in
// cli/commands/<name>.ts, which also exports it for programmatic use.
import { Command, CommanderError } from 'commander';
import { SecuxflowError } from '../host/errors.js';
import { reportError } from './action.js';
import { repeatedSingleOption } from './options.js';
import { registerInspect } from './commands/inspect.js';
import { registerRule } from './commands/rule.js';
import { registerAttach } from './commands/attach.js';
import { registerModule } from './commands/module.js';
import { registerStatus } from './commands/status.js';
import { registerRun } from './commands/run.js';
import { registerAlerts } from './commands/alerts.js';
import { VERSION } from './version.js';

const program = new Command('secuxflow')
  .description('WebAssembly packet inspection: XDP rules in the kernel, WASM inspectors in user space')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of [registerInspect, registerRule, registerAttach, registerModule, registerStatus, registerRun, registerAlerts]) {
  register(program);
}

program.hook('preAction', (_root, command) => {
  const repeated = repeatedSingleOption(command, process.argv.slice(2));
  if (repeated === null) return;
  const names: string[] = [];
  for (let c: Command | null = command; c !== null && c !== program; c = c.parent) names.unshift(c.name());
  reportError(names.join(' '), new SecuxflowError('E_USAGE', `${repeated} is given more than once, so which value is meant is a guess`,
    `give ${repeated} once`));
  throw new CommanderError(2, 'secuxflow.repeatedOption', `${repeated} is given more than once`);
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed its message; keep its exit code (0 for --help/--version)
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    reportError('', e);
  }
}
