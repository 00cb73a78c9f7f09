// A JSON writer into one reusable byte buffer, for events written on every
// packet: no string objects per field (the SDK's JsonWriter builds one string
// per part, which costs tens of microseconds per DNS event under the GC).
// Keys and ASCII values are copied char by char from their (static) strings;
// values from packet memory are copied and escaped in one pass.
import { emit_event } from "../sdk/imports";
import { Packet } from "../sdk";
import { NameBuf } from "./name";

export class ByteJson {
  private buf: StaticArray<u8> = new StaticArray<u8>(4096);
  private len: i32 = 0;
  private comma: bool = false;

  reset(): ByteJson { this.len = 0; this.comma = false; return this; }

  @inline private room(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const bigger = new StaticArray<u8>(cap);
    memory.copy(changetype<usize>(bigger), changetype<usize>(this.buf), <usize>this.len);
    this.buf = bigger;
  }

  @inline private byte(c: i32): void {
    this.room(1);
    unchecked(this.buf[this.len++] = <u8>c);
  }

  private sep(): void {
    if (this.comma) this.byte(0x2c);
    this.comma = false;
  }

  /** ASCII text of a string, escaped for JSON (keys and values built by the module). */
  private ascii(s: string): void {
    const n = s.length;
    this.room(n * 6);
    // Read the UTF-16 units in place: no charCodeAt bounds checks on the hot path.
    const src = changetype<usize>(s);
    const dst = changetype<usize>(this.buf);
    let len = this.len;
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u16>(src + (<usize>i << 1));
      if (c >= 0x20 && c < 0x7f && c != 0x22 && c != 0x5c) { store<u8>(dst + <usize>len, <u8>c); len++; continue; }
      this.len = len;
      this.escapedByte(<u8>c);
      len = this.len;
    }
    this.len = len;
  }

  @inline private escapedByte(c: u8): void {
    const b = changetype<usize>(this.buf);
    if (c >= 0x20 && c != 0x22 && c != 0x5c && c < 0x7f) { store<u8>(b + <usize>this.len, c); this.len++; return; }
    store<u8>(b + <usize>this.len, 0x5c);
    if (c == 0x22 || c == 0x5c) { store<u8>(b + <usize>this.len + 1, c); this.len += 2; return; }
    // \u00XX for control bytes and anything that is not ASCII (callers pass ASCII)
    const HEX = "0123456789abcdef";
    store<u8>(b + <usize>this.len + 1, 0x75);
    store<u8>(b + <usize>this.len + 2, 0x30);
    store<u8>(b + <usize>this.len + 3, 0x30);
    store<u8>(b + <usize>this.len + 4, <u8>HEX.charCodeAt(c >> 4));
    store<u8>(b + <usize>this.len + 5, <u8>HEX.charCodeAt(c & 15));
    this.len += 6;
  }

  beginObject(): ByteJson { this.sep(); this.byte(0x7b); return this; }
  endObject(): ByteJson { this.byte(0x7d); this.comma = true; return this; }
  beginArray(): ByteJson { this.sep(); this.byte(0x5b); return this; }
  endArray(): ByteJson { this.byte(0x5d); this.comma = true; return this; }

  key(k: string): ByteJson {
    this.sep();
    this.byte(0x22); this.ascii(k); this.byte(0x22); this.byte(0x3a);
    return this;
  }

  /** A string value from ASCII bytes in memory (escaped). */
  bytes(ptr: usize, n: i32): ByteJson {
    this.sep();
    this.room(n * 6 + 2);
    this.byte(0x22);
    for (let i = 0; i < n; i++) this.escapedByte(load<u8>(ptr + <usize>i));
    this.byte(0x22);
    this.comma = true;
    return this;
  }

  string(s: string): ByteJson { this.sep(); this.byte(0x22); this.ascii(s); this.byte(0x22); this.comma = true; return this; }

  int(v: i64): ByteJson {
    this.sep();
    this.room(21);
    if (v < 0) { this.byte(0x2d); v = -v; }
    let digits = 1;
    for (let t = v; t >= 10; t /= 10) digits++;
    const b = changetype<usize>(this.buf);
    for (let i = digits - 1; i >= 0; i--) { store<u8>(b + <usize>(this.len + i), <u8>(0x30 + v % 10)); v /= 10; }
    this.len += digits;
    this.comma = true;
    return this;
  }

  /** A name's presentation text ("." for the root). */
  name(n: NameBuf): ByteJson {
    if (n.textLen == 0) return this.string(".");
    return this.bytes(changetype<usize>(n.text), n.textLen);
  }

  /** Four lower-case hex digits as a string value ("8180"). */
  hex4(v: u16): ByteJson {
    this.sep();
    const HEX = "0123456789abcdef";
    this.byte(0x22);
    for (let s = 12; s >= 0; s -= 4) this.byte(HEX.charCodeAt((<i32>v >> s) & 15));
    this.byte(0x22);
    this.comma = true;
    return this;
  }

  /** A string value written piecewise: beginString, then char/chars/ddd, then endString. */
  beginString(): ByteJson { this.sep(); this.byte(0x22); return this; }
  /** One byte of text, escaped for JSON. */
  char(c: i32): ByteJson { this.room(6); this.escapedByte(<u8>c); return this; }
  /** Decimal digits of v. */
  digits(v: u32): ByteJson {
    if (v >= 10) this.digits(v / 10);
    return this.char(0x30 + <i32>(v % 10));
  }
  /** A byte as dig prints an unprintable one: \DDD (the backslash JSON-escaped). */
  ddd(c: u8): ByteJson {
    this.char(0x5c);
    this.char(0x30 + c / 100); this.char(0x30 + (c / 10) % 10); this.char(0x30 + c % 10);
    return this;
  }
  endString(): ByteJson { this.byte(0x22); this.comma = true; return this; }

  bool(v: bool): ByteJson { this.sep(); this.ascii(v ? "true" : "false"); this.comma = true; return this; }

  str(k: string, v: string): ByteJson { return this.key(k).string(v); }
  num(k: string, v: i64): ByteJson { return this.key(k).int(v); }
  flag(k: string, v: bool): ByteJson { return this.key(k).bool(v); }

  /** Emits the buffer as a protocol event of `kind` for pkt. */
  emit(pkt: Packet, kind: i32): i32 {
    return emit_event(pkt.index, kind, <i32>changetype<usize>(this.buf), this.len);
  }

  toString(): string { return String.UTF8.decodeUnsafe(changetype<usize>(this.buf), <usize>this.len); }
}
