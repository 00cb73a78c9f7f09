// Text <-> bytes for IP addresses. Parsing is strict (no leading zeros that
// could be read as octal, no zone ids) so a rule or a dry-run argument means
// exactly one address; formatting follows RFC 5952 so output compares equal
// to what tshark and `ip` print.
import { SecuxflowError } from '../errors.js';

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4Text(text: string): boolean {
  return IPV4_RE.test(text);
}

function badAddress(text: string, why: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', `invalid IP address '${text}': ${why}`,
    'use dotted IPv4 like 198.18.0.1 or IPv6 like 2001:db8::1');
}

function parseIpv4Into(text: string, out: Uint8Array, at: number, whole: string): void {
  if (!IPV4_RE.test(text)) throw badAddress(whole, 'not a dotted IPv4 address');
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[at + i] = Number(parts[i]);
}

function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) throw badAddress(text, "'::' appears more than once");
  const groupsOf = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  // An embedded IPv4 tail (::ffff:198.18.0.1) counts as two groups.
  const all = [...head, ...tail];
  const last = all[all.length - 1];
  const v4Tail = last !== undefined && last.includes('.');
  const groupCount = all.length + (v4Tail ? 1 : 0);
  if (halves.length === 1 && groupCount !== 8) throw badAddress(text, `expected 8 groups, found ${groupCount}`);
  if (halves.length === 2 && groupCount > 7) throw badAddress(text, "too many groups around '::'");
  const writeGroups = (groups: string[], startByte: number): void => {
    let pos = startByte;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (g.includes('.')) {
        if (i !== groups.length - 1 || (halves.length === 2 && groups === head)) throw badAddress(text, 'IPv4 part must come last');
        parseIpv4Into(g, out, pos, text);
        pos += 4;
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw badAddress(text, `bad group '${g}'`);
      const v = parseInt(g, 16);
      out[pos] = v >> 8;
      out[pos + 1] = v & 0xff;
      pos += 2;
    }
  };
  const tailBytes = tail.length * 2 + (v4Tail && tail.length ? 2 : 0);
  writeGroups(head, 0);
  if (halves.length === 2) writeGroups(tail, 16 - tailBytes);
  return out;
}

/** Parses IPv4 (4 bytes) or IPv6 (16 bytes) text; throws E_USAGE naming the text. */
export function parseIp(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length === 0) throw badAddress(String(text), 'empty');
  if (text.includes(':')) return parseIpv6(text);
  const out = new Uint8Array(4);
  parseIpv4Into(text, out, 0, text);
  return out;
}

/** Whether a 16-byte address is IPv4-mapped, ::ffff:a.b.c.d (RFC 4291 2.5.5.2). */
export function isV4Mapped(addr: Uint8Array): boolean {
  return addr.length === 16 && addr[10] === 0xff && addr[11] === 0xff && addr.subarray(0, 10).every((b) => b === 0);
}

/** Dotted IPv4 or RFC 5952 IPv6 (lower case, longest zero run of >= 2 groups compressed, first on ties). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return '';
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 section 5: IPv4-mapped addresses keep their dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const left = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const right = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${left}::${right}`;
}

/** Big-endian 32-bit word at bytes[at], as a signed int32: how the flow table and the rule matcher read addresses in place. */
export function addrWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}
