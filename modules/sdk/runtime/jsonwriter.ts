// A tiny JSON writer for alert metadata and protocol events. Alerts and
// events are rare next to packets, so building a string here is fine.

const JSON_HEX = "0123456789abcdef";

@inline function jsonPlain(c: u32): bool { return c >= 0x20 && c != 0x22 && c != 0x5c; }
@inline function shortEscape(c: u32): u32 {
  return c == 0x22 || c == 0x5c ? c : c == 0x0a ? 0x6e : c == 0x0d ? 0x72 : c == 0x09 ? 0x74 : 0;
}

/**
 * Sized first and written in place: appending piece by piece copies the whole
 * output each time, and a peer's text (an SNI, a URI) with thousands of
 * quotes or backslashes made one event cost tens of milliseconds.
 */
export function jsonEscape(s: string): string {
  const n = s.length;
  const src = changetype<usize>(s);
  let extra = 0;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    if (!jsonPlain(c)) extra += shortEscape(c) != 0 ? 1 : 5;
  }
  if (extra == 0) return s;
  const out = changetype<string>(__new(<usize>(n + extra) << 1, idof<string>()));
  let o = changetype<usize>(out);
  const hex = changetype<usize>(JSON_HEX);
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    if (jsonPlain(c)) { store<u16>(o, <u16>c); o += 2; continue; }
    store<u16>(o, 0x5c);
    const e = shortEscape(c);
    if (e != 0) { store<u16>(o, <u16>e, 2); o += 4; continue; }
    store<u16>(o, 0x75, 2); store<u16>(o, 0x30, 4); store<u16>(o, 0x30, 6);
    store<u16>(o, load<u16>(hex + (<usize>(c >> 4) << 1)), 8);
    store<u16>(o, load<u16>(hex + (<usize>(c & 15) << 1)), 10);
    o += 12;
  }
  return out;
}

export class JsonWriter {
  private parts: Array<string> = [];
  private needComma: bool = false;

  beginObject(): JsonWriter { this.sep(); this.parts.push("{"); this.needComma = false; return this; }
  endObject(): JsonWriter { this.parts.push("}"); this.needComma = true; return this; }
  beginArray(): JsonWriter { this.sep(); this.parts.push("["); this.needComma = false; return this; }
  endArray(): JsonWriter { this.parts.push("]"); this.needComma = true; return this; }

  key(k: string): JsonWriter {
    this.sep();
    this.parts.push("\"" + jsonEscape(k) + "\":");
    this.needComma = false;
    return this;
  }
  string(v: string): JsonWriter { this.sep(); this.parts.push("\"" + jsonEscape(v) + "\""); this.needComma = true; return this; }
  int(v: i64): JsonWriter { this.sep(); this.parts.push(v.toString()); this.needComma = true; return this; }
  number(v: f64): JsonWriter {
    this.sep();
    this.parts.push(isFinite(v) ? v.toString() : "null");
    this.needComma = true;
    return this;
  }
  bool(v: bool): JsonWriter { this.sep(); this.parts.push(v ? "true" : "false"); this.needComma = true; return this; }
  nullValue(): JsonWriter { this.sep(); this.parts.push("null"); this.needComma = true; return this; }

  /** Shorthands for one member of the current object. */
  str(k: string, v: string): JsonWriter { return this.key(k).string(v); }
  num(k: string, v: i64): JsonWriter { return this.key(k).int(v); }
  flag(k: string, v: bool): JsonWriter { return this.key(k).bool(v); }

  toString(): string { return this.parts.join(""); }

  private sep(): void {
    if (this.needComma) { this.parts.push(","); this.needComma = false; }
  }
}
