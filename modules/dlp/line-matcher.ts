// Recognises header lines one byte at a time, so a line split across TCP
// segments needs no buffer: which known name the line starts with, and
// enough of its value (the last 16 non-blank bytes, a decimal number) to
// judge it once its line feed arrives.

@inline function lower(c: u8): u8 { return <u8>(c - 0x41) < 26 ? c | 0x20 : c; }
@inline function isBlank(c: u8): bool { return c == 0x20 || c == 0x09 || c == 0x0d; }

export class LineMatcher {
  /** Bytes of the current line so far. */
  len: i32 = 0;
  /** Bit k set while the line still starts like names[k]. */
  alive: i32 = 0;
  /** Index of the name the line starts with, -1 while none (yet). */
  which: i32 = -1;
  /** Non-blank bytes after the name (or of the whole line when none matched). */
  valLen: i32 = 0;
  /** The last 16 of those bytes, lower-cased: valHi holds the older 8. */
  valHi: u64 = 0;
  valLo: u64 = 0;
  /** The value as a decimal number; -1 once a byte is not a digit. */
  valNum: i64 = 0;
  /** The line's first bytes are upper-case letters followed by a space (a request method). */
  methodLike: bool = false;
  upperRun: i32 = 0;
  /** The line's first two bytes. */
  first: u8 = 0;
  second: u8 = 0;
  /** Digits at line offsets 9..11 (a status line's code), or -1. */
  status: i32 = 0;

  copyFrom(o: LineMatcher): void {
    this.len = o.len; this.alive = o.alive; this.which = o.which; this.valLen = o.valLen;
    this.valHi = o.valHi; this.valLo = o.valLo; this.valNum = o.valNum;
    this.methodLike = o.methodLike; this.upperRun = o.upperRun; this.status = o.status;
    this.first = o.first; this.second = o.second;
  }

  reset(names: i32): void {
    this.len = 0; this.alive = (1 << names) - 1; this.which = -1; this.valLen = 0;
    this.valHi = 0; this.valLo = 0; this.valNum = 0; this.methodLike = false; this.upperRun = 0; this.status = 0;
    this.first = 0; this.second = 0;
  }

  /** Takes one byte of the line (not its line feed). */
  push(c: u8, names: StaticArray<string>): void {
    const at = this.len++;
    if (at == 0) this.first = c; else if (at == 1) this.second = c;
    if (at < 12) this.startLineByte(c, at);
    if (this.alive != 0) {
      const l = lower(c);
      for (let k = 0; k < names.length; k++) {
        if ((this.alive & (1 << k)) == 0) continue;
        const name = unchecked(names[k]);
        if (<u8>name.charCodeAt(at) != l) { this.alive &= ~(1 << k); continue; }
        if (at + 1 == name.length) {
          this.alive = 0; this.which = k;
          this.valLen = 0; this.valHi = 0; this.valLo = 0; this.valNum = 0;
          return;
        }
      }
    }
    if (isBlank(c)) return;
    this.valLen++;
    this.valHi = (this.valHi << 8) | (this.valLo >> 56);
    this.valLo = (this.valLo << 8) | <u64>lower(c);
    const d = <i32>c - 0x30;
    if (this.valNum < 0 || d < 0 || d > 9 || this.valNum > 0xffffffffff) this.valNum = -1;
    else this.valNum = this.valNum * 10 + d;
  }

  private startLineByte(c: u8, at: i32): void {
    if (at == this.upperRun && <u8>(c - 0x41) < 26) this.upperRun++;
    else if (at == this.upperRun && c == 0x20 && at > 0) this.methodLike = true;
    if (at >= 9) {
      const d = <i32>c - 0x30;
      this.status = this.status < 0 || d < 0 || d > 9 ? -1 : this.status * 10 + d;
    }
  }
}

