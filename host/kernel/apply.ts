// Seam between the rule store and the kernel: the rule commands call these
// after validating a change and before committing it to the state file.
// (Placeholder until the kernel data plane lands: nothing is ever attached.)
import type { RuleSet } from '../rules/types.js';

export interface KernelApplyResult {
  /** Interfaces whose maps now hold the rule set. Empty when nothing is attached. */
  appliedTo: string[];
}

/**
 * Pushes the whole rule set into the maps of every interface secuxflow is
 * attached to, in one atomic swap. Throws a SecuxflowError (E_MAP_FULL,
 * E_KERNEL...) and leaves the kernel on the previous rule set when it cannot.
 */
export async function applyRulesIfAttached(_stateDir: string, _rules: RuleSet): Promise<KernelApplyResult> {
  return { appliedTo: [] };
}

export interface RuleHits {
  packets: number;
  bytes: number;
}

/** Per-rule hit counters summed over CPUs and attached interfaces; empty when nothing is attached. */
export async function readRuleHits(_stateDir: string): Promise<Map<number, RuleHits>> {
  return new Map();
}
