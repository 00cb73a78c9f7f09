// The end-of-run summary: what passed, what was blocked, the alerts, what
// XDP did with the packets, the flows moved into the kernel and the fast path
// of the download (punts before the verdict, kernel-only packets after it).
import type { KernelCounters, KernelWatch } from './kernel-watch.js';
import type { Printer } from './printer.js';
import type { Outcome, Step } from './scenario.js';

export interface Tally {
  steps: { step: Step; outcome: Outcome; expected: Outcome; text: string }[];
  alerts: Map<string, number>;
  inspected: number;
}

/** The download step: packets punted until its verdict, and packets XDP handled alone after it. */
export interface FastPath {
  puntsBefore: number;
  fastPathPackets: number;
}

/** "14 packets: 6 passed, 2 dropped, 6 punted; decided by penalty 2, flow 3, port 9" */
export function kernelDelta(a: KernelCounters, b: KernelCounters): string {
  const stages = Object.entries(b.byStage).map(([k, v]) => [k, v - (a.byStage[k] ?? 0)] as const).filter(([, n]) => n > 0);
  const fallback = b.puntFallback - a.puntFallback;
  return `${b.rx - a.rx} packets: ${b.pass - a.pass} passed, ${b.drop - a.drop} dropped, ${b.punt - a.punt} punted${fallback ? `, ${fallback} punt fallbacks` : ''}; decided by ${stages.map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing'}`;
}

/** Prints the summary; true when every step behaved as expected. */
export function printSummary(p: Printer, tally: Tally, mode: 'live' | 'offline', watch: KernelWatch, extra: string[], fast: FastPath | null): boolean {
  p.raw('');
  p.raw(p.bold(`summary (${mode === 'live' ? 'live daemon' : 'OFFLINE FALLBACK: the live daemon path was not available'})`));
  const passed = tally.steps.filter((s) => s.outcome === 'answered');
  const blocked = tally.steps.filter((s) => s.outcome === 'blocked');
  const wrong = tally.steps.filter((s) => s.outcome !== s.expected);
  p.raw(`  answered   ${passed.length}: ${passed.map((s) => `${s.step.who} ${short(s.step.title)}`).join('; ')}`);
  p.raw(`  blocked    ${blocked.length}: ${blocked.map((s) => `${s.step.who} ${short(s.step.title)}`).join('; ') || 'none'}`);
  p.raw(`  inspected  ${tally.inspected} application events (http, dns)`);
  p.raw(`  alerts     ${[...tally.alerts.values()].reduce((a, b) => a + b, 0)}`);
  for (const [sig, n] of tally.alerts) p.raw(`    ${String(n).padStart(3)}  ${sig}`);
  const c = watch.counters();
  if (c) {
    p.raw(`  kernel     ${c.rx} packets seen by XDP: ${c.pass} passed, ${c.drop} dropped, ${c.punt} punted to the inspectors${c.puntFallback ? `, ${c.puntFallback} punt fallbacks (no inspector bound: passed)` : ''}`);
    p.raw(`             by stage: ${Object.entries(c.byStage).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  const flows = [...watch.flows.values()];
  p.raw(`  fast path  ${flows.length} flow(s) moved into the kernel${flows.length ? `: ${flows.filter((f) => f.verdict === 'ALLOW').length} allowed, ${flows.filter((f) => f.verdict === 'BLOCK').length} blocked` : ''}`);
  const LISTED = 6;
  for (const f of flows.slice(0, LISTED)) p.raw(`             ${f.verdict.padEnd(5)} ${f.name}: ${f.packets} packets handled in XDP without a punt`);
  if (flows.length > LISTED) p.raw(`             … and ${flows.length - LISTED} more (${flows.slice(LISTED).reduce((n, f) => n + f.packets, 0)} packets)`);
  if (fast) p.raw(`  download   ${fast.puntsBefore} packets punted before the verdict, ${fast.fastPathPackets} handled in the kernel after it`);
  if (watch.penalized.size) p.raw(`  penalty    ${[...watch.penalized].join(', ')} in the kernel penalty box`);
  if (extra.length) {
    p.raw('');
    for (const l of extra) p.raw(`  ${l}`);
    p.raw('');
  }
  if (wrong.length) {
    p.raw(p.paint('1;31', `  ${wrong.length} step(s) did not behave as expected:`));
    for (const s of wrong) p.raw(`    ${s.step.who} ${s.step.title}: ${s.outcome}, expected ${s.expected}`);
  } else {
    p.raw(p.paint('1;32', `  all ${tally.steps.length} steps behaved as expected`));
  }

  return wrong.length === 0;
}

function short(title: string): string {
  return title.replace(/^curl |^dig /, '').replace(/ \(.*\)$/, '').slice(0, 48);
}
