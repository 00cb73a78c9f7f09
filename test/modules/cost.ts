// Per-packet CPU cost of a module on crafted input, relative to a benign
// input of the same module measured in the same test. A peer controls packet
// contents, so input whose cost grows faster than its size is a way to eat
// the daemon's CPU; a ratio against a benign packet, both the fastest of
// several interleaved rounds, stays meaningful on a busy 2-core machine
// where an absolute time would not.
import type { InspectorInstance } from '../../host/wasm/instance.js';
import type { InspectItem } from '../../host/wasm/types.js';
import { run } from './dns_guard/support.js';

/** Packets of one round; `round` lets a module that remembers flows get fresh flow ids each time. */
export type Round = (round: number) => InspectItem[];

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Microseconds of CPU per packet: the fastest of `rounds` runs, the first (warm-up) not counted. */
export function perPacketMicros(inst: InspectorInstance, make: Round, rounds = 5, from = 0): number {
  let best = Infinity;
  for (let r = -1; r < rounds; r++) {
    const items = make(from + r + 1);
    const t0 = cpuMicros();
    run(inst, items);
    const spent = cpuMicros() - t0;
    if (r >= 0) best = Math.min(best, spent / items.length);
  }
  return best;
}

export interface CostComparison { benign: number; crafted: number; ratio: number }

/**
 * Crafted against benign packets on one instance, alternated so that a burst
 * of load from elsewhere hits both; the benign cost is floored at 1 µs so a
 * too-fast benign packet does not turn noise into a huge ratio.
 */
export function compareCost(inst: InspectorInstance, benign: Round, crafted: Round, rounds = 5): CostComparison {
  let b = Infinity;
  let c = Infinity;
  for (let r = 0; r < rounds; r++) {
    b = Math.min(b, perPacketMicros(inst, benign, 1, r * 4));
    c = Math.min(c, perPacketMicros(inst, crafted, 1, r * 4 + 2));
  }
  const result = { benign: b, crafted: c, ratio: c / Math.max(b, 1) };
  // COST_LOG=1 prints each comparison, for the before/after numbers a fix quotes.
  if (process.env.COST_LOG) console.log(`cost µs/packet ${JSON.stringify(result)}`);
  return result;
}
