// IOC sets any module can import (threat_intel, dns_guard, tls_inspect):
// IpIocSet (IPv4/IPv6 addresses and CIDRs) and DomainIocSet (exact names and
// whole subtrees), each a Bloom pre-check in front of an exact KeyIndex, and
// loadIocText, the reader of the shared list format (README.md):
//   198.18.7.9            an address        2001:db8::/32      a CIDR
//   evil.example          that name and every name below it
//   =evil.example         that name only    *.evil.example     only names below it
//   0.0.0.0 evil.example  a hosts-file line: the name is the entry
//   # comment             '#' starts a comment; "#!key=value" lines are directives
// Lookups allocate nothing; call seal() after loading and before lookups.
import { KeyIndex } from "./keyindex";
import { parseAddr } from "./addr";
import { isV4Mapped } from "../sdk/lib";

export namespace DomainFlag {
  export const SELF: u8 = 1;
  export const BELOW: u8 = 2;
}

/** Why the last add/load call failed. */
export let iocError: string = "";

const addrBuf = memory.data(16);

export class IpIocSet {
  private index: KeyIndex = new KeyIndex();
  // prefix lengths present, longest first, so a lookup tries only those
  private v4Present: StaticArray<u8> = new StaticArray<u8>(33);
  private v6Present: StaticArray<u8> = new StaticArray<u8>(129);
  private v4Lens: Array<i32> = [];
  private v6Lens: Array<i32> = [];
  private key: StaticArray<u8> = new StaticArray<u8>(17);

  get size(): i32 { return this.index.size; }
  get footprint(): i32 { return this.index.footprint; }

  /** Adds addr (4 or 16 bytes at ptr) / prefix; host bits are cleared. */
  add(ptr: usize, version: i32, prefix: i32): bool {
    const bits = version == 4 ? 32 : 128;
    if (prefix < 0 || prefix > bits) { iocError = "prefix length must be 0.." + bits.toString(); return false; }
    const k = this.masked(ptr, version, prefix);
    if (!this.index.add(changetype<usize>(this.key), k, 1)) { iocError = "more than 1048575 entries"; return false; }
    if (version == 4) unchecked(this.v4Present[prefix] = 1); else unchecked(this.v6Present[prefix] = 1);
    return true;
  }

  /** Parses "addr" or "addr/len" (len bytes at ptr) and adds it. */
  addText(ptr: usize, len: i32): bool {
    let slash = -1;
    for (let i = 0; i < len; i++) if (load<u8>(ptr + <usize>i) == 0x2f) { slash = i; break; }
    const alen = slash < 0 ? len : slash;
    const version = parseAddr(ptr, alen, addrBuf);
    if (version == 0) { iocError = "not an IPv4/IPv6 address or CIDR"; return false; }
    let prefix = version == 4 ? 32 : 128;
    if (slash >= 0) {
      prefix = 0;
      const n = len - slash - 1;
      if (n < 1 || n > 3) { iocError = "bad prefix length"; return false; }
      for (let i = slash + 1; i < len; i++) {
        const c = <i32>load<u8>(ptr + <usize>i);
        if (c < 0x30 || c > 0x39) { iocError = "bad prefix length"; return false; }
        prefix = prefix * 10 + c - 0x30;
      }
    }
    // "::ffff:a.b.c.d" is how dual-stack logs write an IPv4 peer; packets carry it as IPv4
    if (version == 6 && prefix >= 96 && isV4Mapped(addrBuf)) return this.add(addrBuf + 12, 4, prefix - 96);
    return this.add(addrBuf, version, prefix);
  }

  seal(): void {
    this.index.seal();
    this.v4Lens = [];
    this.v6Lens = [];
    for (let l = 32; l >= 0; l--) if (unchecked(this.v4Present[l]) != 0) this.v4Lens.push(l);
    for (let l = 128; l >= 0; l--) if (unchecked(this.v6Present[l]) != 0) this.v6Lens.push(l);
  }

  /** Longest listed prefix covering the address (4 or 16 bytes at ptr), or -1. */
  match(ptr: usize, version: i32): i32 {
    const lens = version == 4 ? this.v4Lens : version == 6 ? this.v6Lens : null;
    if (lens === null) return -1;
    for (let i = 0, n = lens.length; i < n; i++) {
      const l = unchecked(lens[i]);
      const k = this.masked(ptr, version, l);
      if (this.index.get(changetype<usize>(this.key), k) != 0) return l;
    }
    return -1;
  }

  /**
   * For an IPv6 address (16 bytes at ptr) that carries an IPv4 one, the
   * longest listed IPv4 prefix covering that: NAT64 with the well-known prefix
   * 64:ff9b::/96 (RFC 6052; the gateway delivers the flow to the embedded
   * address) and IPv4-mapped ::ffff:0:0/96. -1 otherwise.
   */
  matchEmbeddedV4(ptr: usize): i32 {
    if (!isNat64WellKnown(ptr) && !isV4Mapped(ptr)) return -1;
    return this.match(ptr + 12, 4);
  }

  // key = [prefix length][address bytes cut to the prefix]: v4 and v6 keys
  // differ in length, so they never collide
  private masked(ptr: usize, version: i32, prefix: i32): i32 {
    const key = changetype<usize>(this.key);
    const nbytes = version == 4 ? 4 : 16;
    store<u8>(key, <u8>prefix);
    const full = prefix >> 3;
    memory.copy(key + 1, ptr, <usize>full);
    if (full < nbytes) {
      const rest = prefix & 7;
      store<u8>(key + 1 + <usize>full, rest == 0 ? 0 : load<u8>(ptr + <usize>full) & <u8>(<u32>0xff << <u32>(8 - rest)));
      for (let i = full + 1; i < nbytes; i++) store<u8>(key + 1 + <usize>i, 0);
    }
    return nbytes + 1;
  }
}

function zeroBytes(ptr: usize, from: i32, to: i32): bool {
  for (let i = from; i < to; i++) if (load<u8>(ptr + <usize>i) != 0) return false;
  return true;
}

/** 64:ff9b::a.b.c.d */
export function isNat64WellKnown(ptr: usize): bool {
  return load<u8>(ptr) == 0 && load<u8>(ptr + 1) == 0x64 && load<u8>(ptr + 2) == 0xff && load<u8>(ptr + 3) == 0x9b && zeroBytes(ptr, 4, 12);
}

export class DomainIocSet {
  private index: KeyIndex = new KeyIndex();
  private name: StaticArray<u8> = new StaticArray<u8>(256);
  // what normalize* last wrote to this.name; a shorter name leaves older bytes after it
  private nameLength: i32 = 0;

  get size(): i32 { return this.index.size; }
  get footprint(): i32 { return this.index.footprint; }

  /** Adds one entry ("name", "=name", "*.name", ".name"); len bytes at ptr, any case, trailing dot allowed. */
  addText(ptr: usize, len: i32): bool {
    let flags: u8 = DomainFlag.SELF | DomainFlag.BELOW;
    let start = 0;
    if (len > 0 && load<u8>(ptr) == 0x3d) { flags = DomainFlag.SELF; start = 1; }
    else if (len > 1 && load<u8>(ptr) == 0x2a && load<u8>(ptr + 1) == 0x2e) { flags = DomainFlag.BELOW; start = 2; }
    else if (len > 0 && load<u8>(ptr) == 0x2e) { flags = DomainFlag.BELOW; start = 1; }
    const n = this.normalizeEntry(ptr + <usize>start, len - start);
    if (n < 0) return false;
    if (!this.index.add(changetype<usize>(this.name), n, flags)) { iocError = "more than 1048575 entries"; return false; }
    return true;
  }

  seal(): void { this.index.seal(); }

  /**
   * Offset in the (normalised) name where the listed entry that covers it
   * starts: 0 for the name itself, > 0 for a listed parent domain; -1 when not
   * listed. Case and one trailing dot are ignored. A name with labels that are
   * not hostname labels (DNS labels are 8-bit clean, and resolvers forward
   * them) is matched by the parent domains made only of valid labels.
   */
  match(ptr: usize, len: i32): i32 {
    if (this.size == 0) return -1;
    const validFrom = this.normalizeSeen(ptr, len);
    if (validFrom < 0) return -1;
    const n = this.nameLength;
    const name = changetype<usize>(this.name);
    if (validFrom == 0 && (this.index.get(name, n) & DomainFlag.SELF) != 0) return 0;
    // a parent starts after a dot; the first candidate is the dot just before validFrom
    for (let i = validFrom > 0 ? validFrom - 1 : 0; i < n; i++) {
      if (load<u8>(name + <usize>i) != 0x2e) continue;
      if ((this.index.get(name + <usize>(i + 1), n - i - 1) & DomainFlag.BELOW) != 0) return i + 1;
    }
    return -1;
  }

  /**
   * The name last normalised by match()/addText(), from offset `from` (for
   * alert metadata). Bytes outside printable ASCII are written \xNN: a name
   * seen on the wire may hold any bytes, and a UTF-8 decode would garble them.
   */
  lastName(from: i32 = 0): string {
    const p = changetype<usize>(this.name) + <usize>from;
    const n = this.nameLength - from;
    let printable = true;
    for (let i = 0; i < n; i++) if (!isPrintable(load<u8>(p + <usize>i))) { printable = false; break; }
    if (printable) return String.UTF8.decodeUnsafe(p, <usize>n);
    let out = "";
    for (let i = 0; i < n; i++) {
      const c = load<u8>(p + <usize>i);
      out += isPrintable(c) ? String.fromCharCode(c) : "\\x" + (c < 16 ? "0" : "") + c.toString(16);
    }
    return out;
  }

  // A list entry: lower-cases into this.name and checks the DNS name rules; returns the length or -1.
  private normalizeEntry(ptr: usize, len: i32): i32 {
    this.nameLength = 0;
    if (len > 0 && load<u8>(ptr + <usize>(len - 1)) == 0x2e) len--;
    if (len <= 0) { iocError = "empty domain"; return -1; }
    if (len > MAX_NAME) { iocError = "domain longer than 253 characters"; return -1; }
    const out = changetype<usize>(this.name);
    let label = 0;
    for (let i = 0; i < len; i++) {
      const c = lowerAscii(load<u8>(ptr + <usize>i));
      if (c == 0x2e) {
        if (label == 0) { iocError = "empty label"; return -1; }
        label = 0;
      } else {
        if (!isLabelByte(c)) { iocError = c > 0x7e ? "non-ASCII character (write IDNs as xn--...)" : "character '" + String.fromCharCode(c) + "' is not allowed in a domain"; return -1; }
        if (++label > 63) { iocError = "label longer than 63 characters"; return -1; }
      }
      store<u8>(out + <usize>i, c);
    }
    this.nameLength = len;
    return len;
  }

  /**
   * A name seen on the wire: lower-cased into this.name whatever its bytes
   * (this.nameLength gets its length). Returns where the longest suffix made
   * only of valid labels starts, or -1 when even the last label is invalid.
   * Over 253 bytes only the end is kept: that is where a listed domain is.
   */
  private normalizeSeen(ptr: usize, len: i32): i32 {
    this.nameLength = 0;
    if (len > 0 && load<u8>(ptr + <usize>(len - 1)) == 0x2e) len--;
    const start = len > MAX_NAME ? len - MAX_NAME : 0;
    const n = len - start;
    if (n <= 0) return -1;
    const src = ptr + <usize>start;
    const out = changetype<usize>(this.name);
    // a label cut by the length limit is not a label the name really has
    let labelOk = start == 0 || load<u8>(src - 1) == 0x2e;
    let labelStart = 0;
    let validFrom = 0;
    for (let i = 0; i < n; i++) {
      const c = lowerAscii(load<u8>(src + <usize>i));
      store<u8>(out + <usize>i, c);
      if (c == 0x2e) {
        if (!labelOk || i == labelStart) validFrom = i + 1;
        labelStart = i + 1;
        labelOk = true;
      } else if (!isLabelByte(c) || i - labelStart >= 63) {
        labelOk = false;
      }
    }
    this.nameLength = n;
    if (!labelOk || labelStart == n) return -1;
    return validFrom;
  }
}

const MAX_NAME = 253;

@inline function lowerAscii(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }
@inline function isPrintable(c: u8): bool { return c >= 0x20 && c <= 0x7e; }
@inline function isLabelByte(c: u8): bool {
  return (<u8>(c - 0x61) < 26) || (<u8>(c - 0x30) < 10) || c == 0x2d || c == 0x5f;
}

export namespace IocAccept {
  export const IPS: i32 = 1;
  export const DOMAINS: i32 = 2;
  export const BOTH: i32 = 3;
}

/**
 * Reads list text (len bytes at ptr) into the sets; `accept` says which entry
 * kinds are allowed. "#!key=value" lines are appended to `directives` (may be
 * null to ignore them). On failure iocError names the line and why.
 */
export function loadIocText(ptr: usize, len: i32, ips: IpIocSet | null, domains: DomainIocSet | null, accept: i32, what: string, directives: Array<string> | null = null): bool {
  let pos = 0;
  let lineNo = 0;
  while (pos < len) {
    lineNo++;
    let eol = pos;
    while (eol < len && load<u8>(ptr + <usize>eol) != 0x0a) eol++;
    let end = eol;
    if (end - pos >= 2 && load<u8>(ptr + <usize>pos) == 0x23 && load<u8>(ptr + <usize>(pos + 1)) == 0x21) {
      if (directives !== null) directives.push(String.UTF8.decodeUnsafe(ptr + <usize>(pos + 2), <usize>(end - pos - 2)).trim());
      pos = eol + 1;
      continue;
    }
    for (let i = pos; i < end; i++) if (load<u8>(ptr + <usize>i) == 0x23) { end = i; break; }
    // up to two whitespace-separated words
    let a = pos;
    while (a < end && isSpace(load<u8>(ptr + <usize>a))) a++;
    let b = a;
    while (b < end && !isSpace(load<u8>(ptr + <usize>b))) b++;
    let c = b;
    while (c < end && isSpace(load<u8>(ptr + <usize>c))) c++;
    let d = c;
    while (d < end && !isSpace(load<u8>(ptr + <usize>d))) d++;
    let e = d;
    while (e < end && isSpace(load<u8>(ptr + <usize>e))) e++;
    pos = eol + 1;
    if (a == b) continue;
    if (e < end) return lineFail(what, lineNo, "expected one entry, or \"address domain\" as in a hosts file");
    const first = ptr + <usize>a;
    const firstIsAddr = looksLikeAddress(first, b - a);
    if (c < d) {
      // hosts-file form: the address is ignored, the name is the entry
      if (!firstIsAddr) return lineFail(what, lineNo, "expected one entry, or \"address domain\" as in a hosts file");
      if ((accept & IocAccept.DOMAINS) == 0 || domains === null) return lineFail(what, lineNo, "a hosts-file line names a domain, and this list takes addresses only");
      if (!domains.addText(ptr + <usize>c, d - c)) return lineFail(what, lineNo, iocError);
      continue;
    }
    if (firstIsAddr) {
      if ((accept & IocAccept.IPS) == 0 || ips === null) return lineFail(what, lineNo, "an address in a list of domains");
      if (!ips.addText(first, b - a)) return lineFail(what, lineNo, iocError);
    } else {
      if ((accept & IocAccept.DOMAINS) == 0 || domains === null) return lineFail(what, lineNo, "not an IPv4/IPv6 address or CIDR");
      if (!domains.addText(first, b - a)) return lineFail(what, lineNo, iocError);
    }
  }
  return true;
}

/** loadIocText over a string (config arrays, tests). */
export function loadIocString(text: string, ips: IpIocSet | null, domains: DomainIocSet | null, accept: i32, what: string, directives: Array<string> | null = null): bool {
  const buf = String.UTF8.encode(text);
  return loadIocText(changetype<usize>(buf), buf.byteLength, ips, domains, accept, what, directives);
}

function lineFail(what: string, lineNo: i32, why: string): bool {
  iocError = what + " line " + lineNo.toString() + ": " + why;
  return false;
}

@inline function isSpace(c: u8): bool { return c == 0x20 || c == 0x09 || c == 0x0d; }

// An address has a colon (IPv6) or only digits, dots and a "/len" (IPv4).
// Hex words without a colon ("cafe.be") are names.
function looksLikeAddress(ptr: usize, len: i32): bool {
  let colon = false;
  let digitsDots = true;
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x3a) colon = true;
    else if (!((c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x2f)) digitsDots = false;
  }
  return colon || digitsDots;
}
