// ClientHello and ServerHello bodies (TLS 1.0-1.3, DTLS 1.0-1.3) parsed into
// buffers allocated once. Every length field is checked against both its
// parent's length and the bytes present: a length that lies makes parse()
// return false with the reason and offset, never a read past the message.
import { wireText } from "../dns_guard/wiretext";

export const MAX_CIPHERS = 512;
export const MAX_EXTENSIONS = 128;
export const MAX_LIST = 128;
export const MAX_ALPN = 16;
/**
 * SNI bytes reported and kept: a host name has at most 253 (Suricata calls a
 * longer one an invalid SNI length). A peer can send 64 KiB of them; text
 * for all of it made every event four times that, kept per flow.
 */
export const MAX_SNI_KEPT = 255;

/**
 * The random of a HelloRetryRequest, which is a ServerHello carrying this
 * value: SHA-256 of "HelloRetryRequest" (RFC 8446 4.1.3).
 */
const RETRY_REQUEST_RANDOM: StaticArray<u8> = [
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/** GREASE values (RFC 8701): 0x?A?A with both bytes equal. */
@inline export function isGrease(v: u32): bool {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

export class U16List {
  items: StaticArray<u16>;
  count: i32 = 0;
  /** Entries beyond capacity are counted but not kept. */
  dropped: i32 = 0;
  constructor(cap: i32) { this.items = new StaticArray<u16>(cap); }
  @inline reset(): void { this.count = 0; this.dropped = 0; }
  @inline push(v: u16): void {
    if (this.count < this.items.length) unchecked(this.items[this.count++] = v); else this.dropped++;
  }
  @inline at(i: i32): u16 { return unchecked(this.items[i]); }
}

class Reader {
  base: usize = 0;
  end: i32 = 0;
  pos: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;

  @inline has(n: i32): bool { return n >= 0 && this.pos + n <= this.end; }

  fail(why: string): bool {
    if (this.error.length == 0) { this.error = why; this.errorAt = this.pos; }
    return false;
  }
  @inline u8(): i32 { const v = <i32>load<u8>(this.base + <usize>this.pos); this.pos++; return v; }
  @inline u16(): i32 { const v = <i32>bswap<u16>(load<u16>(this.base + <usize>this.pos)); this.pos += 2; return v; }
  @inline u24(): i32 { const v = (<i32>load<u8>(this.base + <usize>this.pos) << 16) | <i32>bswap<u16>(load<u16>(this.base + <usize>(this.pos + 1))); this.pos += 3; return v; }
}

export class Hello {
  isClient: bool = true;
  dtls: bool = false;
  version: u16 = 0;
  ciphers: U16List = new U16List(MAX_CIPHERS);
  /** ServerHello: the chosen cipher suite. */
  cipher: u16 = 0;
  extensions: U16List = new U16List(MAX_EXTENSIONS);
  groups: U16List = new U16List(MAX_LIST);
  pointFormats: U16List = new U16List(MAX_LIST);
  sigAlgs: U16List = new U16List(MAX_LIST);
  /** Client: offered versions; server: the selected one (count 1). */
  versions: U16List = new U16List(MAX_LIST);
  sniPresent: bool = false;
  sniOff: i32 = 0;
  sniLen: i32 = 0;
  alpnOffs: StaticArray<i32> = new StaticArray<i32>(MAX_ALPN);
  alpnLens: StaticArray<i32> = new StaticArray<i32>(MAX_ALPN);
  alpnCount: i32 = 0;
  /** ServerHello: a HelloRetryRequest (the client sends a second ClientHello). */
  retryRequest: bool = false;
  /** Bytes after the extensions, inside the message (none in a hello a client or server builds). */
  trailing: i32 = 0;
  /** The body being parsed; offsets above are relative to base. */
  base: usize = 0;
  error: string = "";
  errorAt: i32 = 0;
  private r: Reader = new Reader();

  reset(isClient: bool, dtls: bool): void {
    this.isClient = isClient;
    this.dtls = dtls;
    this.version = 0;
    this.cipher = 0;
    this.ciphers.reset(); this.extensions.reset(); this.groups.reset();
    this.pointFormats.reset(); this.sigAlgs.reset(); this.versions.reset();
    this.sniPresent = false; this.sniOff = 0; this.sniLen = 0;
    this.alpnCount = 0;
    this.retryRequest = false;
    this.trailing = 0;
    this.error = ""; this.errorAt = 0;
  }

  /** Highest non-GREASE supported_versions entry, else the legacy version. */
  get bestVersion(): u16 {
    let best: u16 = 0;
    for (let i = 0; i < this.versions.count; i++) {
      const v = this.versions.at(i);
      if (isGrease(v)) continue;
      if (this.dtls ? (best == 0 || v < best) : v > best) best = v; // DTLS numbers count down
    }
    return best != 0 ? best : this.version;
  }

  /** The SNI's first MAX_SNI_KEPT bytes as text (sniTruncated says when there were more). */
  sni(): string {
    return this.sniPresent ? wireText(this.base + <usize>this.sniOff, min(this.sniLen, MAX_SNI_KEPT)) : "";
  }

  get sniTruncated(): bool { return this.sniLen > MAX_SNI_KEPT; }

  alpn(i: i32): string {
    return wireText(this.base + <usize>this.alpnOffs[i], this.alpnLens[i]);
  }

  /** Parses a handshake body (after the 4- or 12-byte handshake header) of len bytes at base. */
  parse(base: usize, len: i32, isClient: bool, dtls: bool): bool {
    this.reset(isClient, dtls);
    this.base = base;
    const r = this.r;
    r.base = base; r.end = len; r.pos = 0; r.error = ""; r.errorAt = 0;
    const ok = isClient ? this.client(r) : this.server(r);
    if (!ok) { this.error = r.error; this.errorAt = r.errorAt; }
    this.trailing = r.end - r.pos;
    return ok;
  }

  private client(r: Reader): bool {
    if (!r.has(2 + 32 + 1)) return r.fail("ClientHello shorter than version, random and session id");
    this.version = <u16>r.u16();
    r.pos += 32;
    const sid = r.u8();
    if (sid > 32) return r.fail("session id length " + sid.toString() + " over 32");
    if (!r.has(sid)) return r.fail("session id runs past the message");
    r.pos += sid;
    if (this.dtls) {
      if (!r.has(1)) return r.fail("cookie length missing");
      const cookie = r.u8();
      if (!r.has(cookie)) return r.fail("cookie runs past the message");
      r.pos += cookie;
    }
    if (!r.has(2)) return r.fail("cipher suites length missing");
    const cl = r.u16();
    if ((cl & 1) != 0 || cl == 0) return r.fail("cipher suites length " + cl.toString() + " is not a positive even number");
    if (!r.has(cl)) return r.fail("cipher suites length " + cl.toString() + " runs past the message");
    for (let i = 0; i < cl; i += 2) this.ciphers.push(<u16>r.u16());
    if (!r.has(1)) return r.fail("compression methods length missing");
    const comp = r.u8();
    if (comp == 0 || !r.has(comp)) return r.fail("compression methods length " + comp.toString() + " is wrong");
    r.pos += comp;
    return this.extensionBlock(r);
  }

  private server(r: Reader): bool {
    if (!r.has(2 + 32 + 1)) return r.fail("ServerHello shorter than version, random and session id");
    this.version = <u16>r.u16();
    this.retryRequest = memory.compare(r.base + <usize>r.pos, changetype<usize>(RETRY_REQUEST_RANDOM), 32) == 0;
    r.pos += 32;
    const sid = r.u8();
    if (sid > 32 || !r.has(sid + 3)) return r.fail("session id length " + sid.toString() + " is wrong");
    r.pos += sid;
    this.cipher = <u16>r.u16();
    r.pos += 1;
    return this.extensionBlock(r);
  }

  private extensionBlock(r: Reader): bool {
    if (r.pos == r.end) return true; // no extensions at all (old clients)
    if (!r.has(2)) return r.fail("extensions length cut short");
    const total = r.u16();
    if (!r.has(total)) return r.fail("extensions length " + total.toString() + " runs past the message");
    const end = r.pos + total;
    while (r.pos < end) {
      if (r.pos + 4 > end) return r.fail("extension header cut short");
      const type = r.u16();
      const elen = r.u16();
      if (r.pos + elen > end) return r.fail("extension " + type.toString() + " length " + elen.toString() + " runs past the extensions");
      this.extensions.push(<u16>type);
      const saveEnd = r.end;
      r.end = r.pos + elen;
      const next = r.end;
      if (!this.extension(r, type)) return false;
      r.end = saveEnd;
      r.pos = next;
    }
    return true;
  }

  // r.end is the end of this extension's data while it runs.
  private extension(r: Reader, type: i32): bool {
    const len = r.end - r.pos;
    if (type == 0x0000) {
      if (len == 0) return true; // a server's empty acknowledgement
      if (len < 2) return r.fail("server_name list length missing");
      const list = r.u16();
      if (!r.has(list)) return r.fail("server_name list length " + list.toString() + " runs past the extension");
      const listEnd = r.pos + list;
      while (r.pos + 3 <= listEnd) {
        const kind = r.u8();
        const n = r.u16();
        if (r.pos + n > listEnd) return r.fail("server name length " + n.toString() + " runs past the list");
        if (kind == 0 && !this.sniPresent) { this.sniPresent = true; this.sniOff = r.pos; this.sniLen = n; }
        r.pos += n;
      }
      return true;
    }
    if (type == 0x0010) {
      if (len < 2) return r.fail("ALPN list length missing");
      const list = r.u16();
      if (!r.has(list)) return r.fail("ALPN list length " + list.toString() + " runs past the extension");
      const listEnd = r.pos + list;
      while (r.pos < listEnd) {
        const n = r.u8();
        if (r.pos + n > listEnd) return r.fail("ALPN protocol length " + n.toString() + " runs past the list");
        if (this.alpnCount < MAX_ALPN) {
          this.alpnOffs[this.alpnCount] = r.pos;
          this.alpnLens[this.alpnCount] = n;
          this.alpnCount++;
        }
        r.pos += n;
      }
      return true;
    }
    if (type == 0x002b) {
      if (!this.isClient) {
        if (len != 2) return r.fail("supported_versions in a ServerHello must be 2 bytes");
        this.versions.push(<u16>r.u16());
        return true;
      }
      return this.list16(r, 1, this.versions, "supported_versions");
    }
    if (type == 0x000d) return this.list16(r, 2, this.sigAlgs, "signature_algorithms");
    if (type == 0x000a) return this.list16(r, 2, this.groups, "supported_groups");
    if (type == 0x000b) {
      if (len < 1) return r.fail("ec_point_formats length missing");
      const n = r.u8();
      if (!r.has(n)) return r.fail("ec_point_formats length " + n.toString() + " runs past the extension");
      for (let i = 0; i < n; i++) this.pointFormats.push(<u16>r.u8());
      return true;
    }
    return true;
  }

  /** A list of u16 values behind a 1- or 2-byte byte-length. */
  private list16(r: Reader, prefix: i32, out: U16List, what: string): bool {
    if (!r.has(prefix)) return r.fail(what + " length missing");
    const n = prefix == 1 ? r.u8() : r.u16();
    if ((n & 1) != 0 || !r.has(n)) return r.fail(what + " length " + n.toString() + " is odd or runs past the extension");
    for (let i = 0; i < n; i += 2) out.push(<u16>r.u16());
    return true;
  }
}
