// Frame sequence numbers (DecodedPacket.srcSeq). One counter for every
// source in the process, so numbers from two sources never look consecutive.

let next = 1;

/**
 * Numbers for `count` frames placed one after another in one buffer: frame i
 * gets the result + i. The next block starts one number further on, so no
 * run of consecutive numbers spans two blocks.
 */
export function reserveFrameSeqs(count: number): number {
  const base = next;
  next += count + 1;
  return base;
}
