// A tiny JSON writer for alert metadata and protocol events. Alerts and
// events are rare next to packets, but a module that reports every request
// or hello builds one per flow, so it allocates little: parts, then the text.

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
  // Parts in a list sized for a typical record (an Array<string> grew from
  // empty, reallocating as it went), joined once into a string of the final size.
  private parts: StaticArray<string> = new StaticArray<string>(32);
  private count: i32 = 0;
  private needComma: bool = false;

  beginObject(): JsonWriter { this.sep(); this.push("{"); this.needComma = false; return this; }
  endObject(): JsonWriter { this.push("}"); this.needComma = true; return this; }
  beginArray(): JsonWriter { this.sep(); this.push("["); this.needComma = false; return this; }
  endArray(): JsonWriter { this.push("]"); this.needComma = true; return this; }

  // Quotes and text go in as parts of their own: "\"" + text + "\"" made two
  // strings per member, and in http_waf those (and the collector after them)
  // were most of the allocator's work.
  key(k: string): JsonWriter { this.sep(); this.quoted(k, "\":"); this.needComma = false; return this; }
  string(v: string): JsonWriter { this.sep(); this.quoted(v, "\""); this.needComma = true; return this; }
  int(v: i64): JsonWriter { this.sep(); this.push(v.toString()); this.needComma = true; return this; }
  number(v: f64): JsonWriter {
    this.sep();
    this.push(isFinite(v) ? v.toString() : "null");
    this.needComma = true;
    return this;
  }
  bool(v: bool): JsonWriter { this.sep(); this.push(v ? "true" : "false"); this.needComma = true; return this; }
  nullValue(): JsonWriter { this.sep(); this.push("null"); this.needComma = true; return this; }

  /** Shorthands for one member of the current object. */
  str(k: string, v: string): JsonWriter { return this.key(k).string(v); }
  num(k: string, v: i64): JsonWriter { return this.key(k).int(v); }
  flag(k: string, v: bool): JsonWriter { return this.key(k).bool(v); }

  toString(): string {
    const parts = this.parts;
    const count = this.count;
    let units = 0;
    for (let i = 0; i < count; i++) units += unchecked(parts[i]).length;
    const out = changetype<string>(__new(<usize>units << 1, idof<string>()));
    let o = changetype<usize>(out);
    for (let i = 0; i < count; i++) {
      const part = unchecked(parts[i]);
      const bytes = <usize>part.length << 1;
      memory.copy(o, changetype<usize>(part), bytes);
      o += bytes;
    }
    return out;
  }

  private push(part: string): void {
    if (this.count == this.parts.length) {
      const bigger = new StaticArray<string>(this.count << 1);
      for (let i = 0; i < this.count; i++) unchecked(bigger[i] = unchecked(this.parts[i]));
      this.parts = bigger;
    }
    unchecked(this.parts[this.count++] = part);
  }

  private quoted(text: string, close: string): void {
    this.push("\"");
    this.push(jsonEscape(text));
    this.push(close);
  }

  private sep(): void {
    if (this.needComma) { this.push(","); this.needComma = false; }
  }
}
