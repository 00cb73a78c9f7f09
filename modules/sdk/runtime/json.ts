// A tiny JSON reader for module configurations: objects, arrays, strings with
// escapes (\uXXXX and surrogate pairs), numbers, booleans, null. It reads
// UTF-8 bytes from memory; on error it returns null and jsonError() says why.

export enum JsonKind { NULL = 0, BOOL = 1, NUMBER = 2, STRING = 3, ARRAY = 4, OBJECT = 5 }

export class JsonValue {
  kind: JsonKind = JsonKind.NULL;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  /** Array items, or object values (keys[i] names values[i]). */
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  @inline isNull(): bool { return this.kind == JsonKind.NULL; }
  @inline isBool(): bool { return this.kind == JsonKind.BOOL; }
  @inline isNumber(): bool { return this.kind == JsonKind.NUMBER; }
  @inline isString(): bool { return this.kind == JsonKind.STRING; }
  @inline isArray(): bool { return this.kind == JsonKind.ARRAY; }
  @inline isObject(): bool { return this.kind == JsonKind.OBJECT; }
  /** True for a number without a fractional part. */
  isInteger(): bool { return this.kind == JsonKind.NUMBER && Math.floor(this.num) == this.num && Math.abs(this.num) < 9007199254740992.0; }

  /** Member of an object by key (last one wins), null when absent or not an object. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.OBJECT) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }
  @inline get length(): i32 { return this.items.length; }
  @inline at(i: i32): JsonValue { return this.items[i]; }
}

let errorText: string = "";

/** Why the last parse failed ("expected ':' at byte 12"). */
export function jsonError(): string { return errorText; }

const MAX_DEPTH = 64;

/** Parses `len` UTF-8 bytes at `ptr`; null on error (see jsonError). */
export function parseJson(ptr: usize, len: i32): JsonValue | null {
  const r = new Reader(ptr, len);
  // Editors such as Notepad start UTF-8 files with a byte order mark; RFC 8259 lets a reader ignore it.
  if (len >= 3 && load<u8>(ptr) == 0xef && load<u8>(ptr + 1) == 0xbb && load<u8>(ptr + 2) == 0xbf) r.pos = 3;
  const v = r.value(0);
  if (v === null) { errorText = r.error; return null; }
  r.skipSpace();
  if (r.pos < len) { errorText = "unexpected data after the JSON value at byte " + r.pos.toString(); return null; }
  errorText = "";
  return v;
}

export function parseJsonString(text: string): JsonValue | null {
  const buf = String.UTF8.encode(text);
  return parseJson(changetype<usize>(buf), buf.byteLength);
}

class Reader {
  pos: i32 = 0;
  error: string = "";
  scratch: Uint8Array = new Uint8Array(64);
  constructor(public ptr: usize, public len: i32) {}

  @inline peek(): i32 { return this.pos < this.len ? <i32>load<u8>(this.ptr + <usize>this.pos) : -1; }

  fail(what: string): JsonValue | null {
    if (this.error.length == 0) this.error = what + " at byte " + this.pos.toString();
    return null;
  }

  skipSpace(): void {
    while (this.pos < this.len) {
      const c = load<u8>(this.ptr + <usize>this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than 64");
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      const v = new JsonValue();
      v.kind = JsonKind.STRING;
      v.str = s;
      return v;
    }
    if (c == 0x74) return this.word("true", JsonKind.BOOL, true);
    if (c == 0x66) return this.word("false", JsonKind.BOOL, false);
    if (c == 0x6e) return this.word("null", JsonKind.NULL, false);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c < 0) return this.fail("unexpected end of input");
    return this.fail("unexpected character '" + String.fromCharCode(c) + "'");
  }

  word(w: string, kind: JsonKind, b: bool): JsonValue | null {
    for (let i = 0; i < w.length; i++) {
      if (this.peek() != w.charCodeAt(i)) return this.fail("invalid literal");
      this.pos++;
    }
    const v = new JsonValue();
    v.kind = kind;
    v.bool = b;
    return v;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (!this.digits()) return this.fail("invalid number");
    if (this.peek() == 0x2e) { this.pos++; if (!this.digits()) return this.fail("invalid number"); }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      const s = this.peek();
      if (s == 0x2b || s == 0x2d) this.pos++;
      if (!this.digits()) return this.fail("invalid number");
    }
    const v = new JsonValue();
    v.kind = JsonKind.NUMBER;
    v.num = parseFloat(String.UTF8.decodeUnsafe(this.ptr + <usize>start, <usize>(this.pos - start)));
    return v;
  }

  digits(): bool {
    const start = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos > start;
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.OBJECT;
    this.skipSpace();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    while (true) {
      this.skipSpace();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const k = this.string();
      if (k === null) return null;
      this.skipSpace();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(k);
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) { this.pos--; return this.fail(c < 0 ? "unexpected end of input" : "expected ',' or '}'"); }
    }
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.ARRAY;
    this.skipSpace();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) { this.pos--; return this.fail(c < 0 ? "unexpected end of input" : "expected ',' or ']'"); }
    }
  }

  // Decodes into UTF-8 scratch bytes first so escapes and raw UTF-8 mix freely.
  string(): string | null {
    this.pos++;
    let n = 0;
    while (true) {
      const c = this.peek();
      if (c < 0) { this.fail("unterminated string"); return null; }
      this.pos++;
      if (c == 0x22) break;
      if (c < 0x20) { this.pos--; this.fail("control character in string"); return null; }
      if (c != 0x5c) { n = this.put(n, <u8>c); continue; }
      const e = this.peek();
      this.pos++;
      if (e == 0x22 || e == 0x5c || e == 0x2f) n = this.put(n, <u8>e);
      else if (e == 0x62) n = this.put(n, 0x08);
      else if (e == 0x66) n = this.put(n, 0x0c);
      else if (e == 0x6e) n = this.put(n, 0x0a);
      else if (e == 0x72) n = this.put(n, 0x0d);
      else if (e == 0x74) n = this.put(n, 0x09);
      else if (e == 0x75) {
        let cp = this.hex4();
        if (cp < 0) { this.fail("bad \\u escape"); return null; }
        if (cp >= 0xd800 && cp < 0xdc00 && this.peek() == 0x5c) {
          const save = this.pos;
          this.pos++;
          if (this.peek() == 0x75) {
            this.pos++;
            const lo = this.hex4();
            if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else this.pos = save;
          } else this.pos = save;
        }
        n = this.putCodePoint(n, cp);
      } else { this.pos--; this.fail("bad escape"); return null; }
    }
    return String.UTF8.decodeUnsafe(this.scratch.dataStart, <usize>n);
  }

  hex4(): i32 {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.peek();
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return -1;
      v = (v << 4) | d;
      this.pos++;
    }
    return v;
  }

  put(n: i32, b: u8): i32 {
    if (n >= this.scratch.length) {
      const bigger = new Uint8Array(this.scratch.length * 2);
      bigger.set(this.scratch);
      this.scratch = bigger;
    }
    this.scratch[n] = b;
    return n + 1;
  }

  putCodePoint(n: i32, cp: i32): i32 {
    // lone surrogates become U+FFFD so the decoded string stays valid
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    if (cp < 0x80) return this.put(n, <u8>cp);
    if (cp < 0x800) return this.put(this.put(n, <u8>(0xc0 | (cp >> 6))), <u8>(0x80 | (cp & 0x3f)));
    if (cp < 0x10000) {
      n = this.put(n, <u8>(0xe0 | (cp >> 12)));
      n = this.put(n, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      return this.put(n, <u8>(0x80 | (cp & 0x3f)));
    }
    n = this.put(n, <u8>(0xf0 | (cp >> 18)));
    n = this.put(n, <u8>(0x80 | ((cp >> 12) & 0x3f)));
    n = this.put(n, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    return this.put(n, <u8>(0x80 | (cp & 0x3f)));
  }
}
