// Verdict values shared by the WASM ABI (docs/abi/v1.md) and the engine.
// The numbers are part of ABI v1: never renumber them.

export const Verdict = {
  CONTINUE: 0,   // undecided: send me more of this flow
  PASS: 1,       // pass this packet
  ALLOW_FLOW: 2, // pass the rest of the flow without inspection
  DROP: 3,       // drop this packet
  BLOCK_FLOW: 4, // drop the rest of the flow
  BLOCK_SRC: 5,  // drop everything from this source for a TTL
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const VERDICT_NAMES: readonly string[] = ['CONTINUE', 'PASS', 'ALLOW_FLOW', 'DROP', 'BLOCK_FLOW', 'BLOCK_SRC'];

/**
 * Severity rank used to combine modules: the highest rank wins. ALLOW_FLOW is
 * the weakest because one module being done with a flow must not cut another
 * module's inspection short; CONTINUE outranks PASS so an undecided module keeps
 * the flow in user space.
 */
export const VERDICT_RANK: readonly number[] = [
  /* CONTINUE   */ 2,
  /* PASS       */ 1,
  /* ALLOW_FLOW */ 0,
  /* DROP       */ 3,
  /* BLOCK_FLOW */ 4,
  /* BLOCK_SRC  */ 5,
];

/** The highest verdict value: any byte above it is not a verdict. */
export const MAX_VERDICT = Verdict.BLOCK_SRC;

export function isVerdict(v: number): v is Verdict {
  return Number.isInteger(v) && v >= 0 && v <= MAX_VERDICT;
}

/** True when the verdict means this packet must not be delivered. */
export function dropsPacket(v: Verdict): boolean {
  return v === Verdict.DROP || v === Verdict.BLOCK_FLOW || v === Verdict.BLOCK_SRC;
}

/** Rule actions, shared with the XDP program (xdp/secuxflow.h SF_ACTION_*). */
export type RuleAction = 'pass' | 'drop' | 'inspect';
export const RULE_ACTION_CODE: Record<RuleAction, number> = { pass: 1, drop: 2, inspect: 3 };
