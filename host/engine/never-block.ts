// Sources no BLOCK_SRC puts in the penalty box (the daemon's `never_block`,
// `inspect --never-block`). Scan and brute-force verdicts rest on packets
// whose source can be forged (a FIN probe, a SYN): without such a list,
// anyone could get a resolver, a gateway or a monitoring host blocked by
// sending a few packets in its name. Such a verdict blocks the flow instead.
import { isV4Mapped } from '../packet/addr.js';
import { CIDR_HINT, cidrContains, parseCidr } from '../rules/cidr.js';
import type { Cidr } from '../rules/types.js';
import { SecuxflowError } from '../errors.js';

/** More networks than this are a list to keep in rules, not here: every BLOCK_SRC walks it. */
export const MAX_NEVER_BLOCK = 1024;

/** Parses and normalises the list; throws naming the entry that is not a CIDR. */
export function parseNeverBlock(texts: readonly unknown[], where: string): string[] {
  if (texts.length > MAX_NEVER_BLOCK) {
    throw new SecuxflowError('E_USAGE', `${where}: ${texts.length} networks, at most ${MAX_NEVER_BLOCK}`, 'list networks, not hosts one by one, where they share a prefix');
  }
  return texts.map((t, i) => {
    try {
      return parseCidr(t as string).text;
    } catch (e) {
      if (!(e instanceof SecuxflowError)) throw e;
      throw new SecuxflowError('E_USAGE', `${where}[${i}]: ${e.message}`, e.hint ?? CIDR_HINT);
    }
  });
}

export class NeverBlock {
  private readonly nets: Cidr[];

  constructor(texts: readonly string[]) {
    this.nets = texts.map((t) => parseCidr(t));
  }

  get size(): number {
    return this.nets.length;
  }

  /**
   * Whether blocking `src` would block a listed address: the source itself,
   * or, when an IPv6 source's /64 is what the penalty box takes, any address
   * of that /64.
   */
  shields(src: Uint8Array, ipv6Prefix: 64 | 128): boolean {
    const addr = src.length === 16 && isV4Mapped(src) ? src.subarray(12) : src;
    const whole64 = addr.length === 16 && ipv6Prefix === 64;
    for (const c of this.nets) {
      if (c.addr.length !== addr.length) continue;
      if (cidrContains(c, addr)) return true;
      if (whole64 && c.prefixLen > 64 && sameFirst64(c.addr, addr)) return true;
    }
    return false;
  }
}

function sameFirst64(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}
