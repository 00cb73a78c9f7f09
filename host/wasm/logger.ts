// Where module log lines go by default: stderr, prefixed with the module name.
// Only warnings and errors show unless SECUXFLOW_LOG asks for more, so a run's
// output stays readable while a module's start-up chatter is one variable away.
import type { InspectorLogger, ModuleLogLevel } from './types.js';

const RANK: Record<ModuleLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Lines per module per second that reach stderr. A module's log budget is per
 * callback and every on_flow_end gets a fresh one, so a flood of one-packet
 * flows let a module write 32 lines of 1 KiB per flow: without end.
 */
export const LOG_LINES_PER_SECOND = 100;

interface LogWindow { start: number; lines: number; suppressed: number }
/** Per module name (a handful per process). */
const windows = new Map<string, LogWindow>();

function threshold(): number {
  const wanted = (process.env.SECUXFLOW_LOG ?? 'warn').toLowerCase() as ModuleLogLevel;
  return RANK[wanted] ?? RANK.warn;
}

export const defaultLogger: InspectorLogger = (module, level, message) => {
  if (RANK[level] < threshold()) return;
  const now = Date.now();
  let w = windows.get(module);
  if (w === undefined) {
    w = { start: now, lines: 0, suppressed: 0 };
    windows.set(module, w);
  }
  if (now - w.start >= 1000) {
    if (w.suppressed > 0) process.stderr.write(`[${module}] warn: ${w.suppressed} log line${w.suppressed === 1 ? '' : 's'} suppressed (over ${LOG_LINES_PER_SECOND} a second)\n`);
    w.start = now;
    w.lines = 0;
    w.suppressed = 0;
  }
  if (w.lines >= LOG_LINES_PER_SECOND) {
    w.suppressed++;
    return;
  }
  w.lines++;
  process.stderr.write(`[${module}] ${level}: ${message}\n`);
};
