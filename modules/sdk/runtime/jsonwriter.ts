// A tiny JSON writer for alert metadata and protocol events. Alerts and
// events are rare next to packets, so building a string here is fine.

export function jsonEscape(s: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(start, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    start = i + 1;
  }
  return start == 0 ? s : out + s.substring(start);
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
