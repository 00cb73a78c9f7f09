// Where module log lines go by default: stderr, prefixed with the module name.
// Only warnings and errors show unless SECUXFLOW_LOG asks for more, so a run's
// output stays readable while a module's start-up chatter is one variable away.
import type { InspectorLogger, ModuleLogLevel } from './types.js';

const RANK: Record<ModuleLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function threshold(): number {
  const wanted = (process.env.SECUXFLOW_LOG ?? 'warn').toLowerCase() as ModuleLogLevel;
  return RANK[wanted] ?? RANK.warn;
}

export const defaultLogger: InspectorLogger = (module, level, message) => {
  if (RANK[level] < threshold()) return;
  process.stderr.write(`[${module}] ${level}: ${message}\n`);
};
