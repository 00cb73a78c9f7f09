// Multi-pattern byte search (Aho–Corasick) built once at init from the
// configuration, then run over packet or stream bytes with no allocation.
//
// Bytes are first mapped to equivalence classes (every byte that occurs in no
// pattern shares class 0; with noCase, A and a share a class), so the
// automaton is a dense states x classes table of i32 that stays small for
// realistic pattern sets and costs one load per input byte.

/** Where scan() writes what it found: pattern ids and start offsets, in end-offset order. */
export class MatchList {
  ids: StaticArray<i32>;
  starts: StaticArray<i32>;
  count: i32 = 0;
  /** True when more matches existed than capacity. */
  overflow: bool = false;

  constructor(capacity: i32 = 64) {
    this.ids = new StaticArray<i32>(capacity < 1 ? 1 : capacity);
    this.starts = new StaticArray<i32>(capacity < 1 ? 1 : capacity);
  }
  @inline get capacity(): i32 { return this.ids.length; }
  @inline reset(): void { this.count = 0; this.overflow = false; }
}

export class MultiSearch {
  readonly noCase: bool;
  private patterns: Array<Uint8Array> = [];
  private ids: Array<i32> = [];
  private built: bool = false;
  private classOf: StaticArray<u8> = new StaticArray<u8>(256);
  private classes: i32 = 1;
  private delta: StaticArray<i32> = new StaticArray<i32>(0);
  /** First pattern index ending in each state, -1 none; chained through patNext. */
  private outFirst: StaticArray<i32> = new StaticArray<i32>(0);
  private patNext: StaticArray<i32> = new StaticArray<i32>(0);
  /** Nearest state on the failure chain that has outputs, -1 none. */
  private dictLink: StaticArray<i32> = new StaticArray<i32>(0);
  private lens: StaticArray<i32> = new StaticArray<i32>(0);
  private stateCount: i32 = 0;
  /** The longest pattern: a match ending at e starts after e - maxLen. */
  private maxLen: i32 = 0;
  /**
   * Bit b0 | b1 << 8 is set when some pattern can begin with bytes b0 b1
   * (a 1-byte pattern sets every b1); 8 KiB. At the root, a pair that begins
   * none leaves the automaton at the root, so every search skips it without
   * the table walk: ordinary text is mostly such pairs.
   */
  private pairs: StaticArray<u32> = new StaticArray<u32>(0);

  constructor(noCase: bool = false) { this.noCase = noCase; }

  get patternCount(): i32 { return this.patterns.length; }
  get states(): i32 { return this.stateCount; }
  get tableBytes(): i32 { return this.delta.length * 4; }

  /** Adds a pattern before build(); empty patterns are ignored. Returns false after build. */
  add(pattern: Uint8Array, id: i32): bool {
    if (this.built) return false;
    if (pattern.length == 0) return true;
    const copy = new Uint8Array(pattern.length);
    for (let i = 0; i < pattern.length; i++) copy[i] = this.fold(pattern[i]);
    this.patterns.push(copy);
    this.ids.push(id);
    if (pattern.length > this.maxLen) this.maxLen = pattern.length;
    return true;
  }

  addString(pattern: string, id: i32): bool {
    return this.add(Uint8Array.wrap(String.UTF8.encode(pattern)), id);
  }

  @inline private fold(c: u8): u8 { return this.noCase && <u8>(c - 65) < 26 ? c | 0x20 : c; }

  /** With noCase, the upper-case twin of a folded letter; -1 otherwise. */
  @inline private otherCase(c: i32): i32 { return this.noCase && <u32>(c - 97) < 26 ? c - 0x20 : -1; }

  /** Builds the automaton; add() is refused afterwards. */
  build(): void {
    if (this.built) return;
    this.built = true;
    const pats = this.patterns;
    const np = pats.length;
    // byte classes
    let classes = 1;
    for (let p = 0; p < np; p++) {
      const pat = pats[p];
      for (let i = 0; i < pat.length; i++) {
        const b = pat[i];
        if (unchecked(this.classOf[b]) == 0) unchecked(this.classOf[b] = <u8>(classes++));
      }
    }
    if (this.noCase) {
      for (let c = 65; c < 91; c++) unchecked(this.classOf[c] = unchecked(this.classOf[c | 0x20]));
    }
    this.classes = classes;
    let total = 1;
    for (let p = 0; p < np; p++) total += pats[p].length;
    const delta = new StaticArray<i32>(total * classes);
    for (let i = 0; i < delta.length; i++) unchecked(delta[i] = -1);
    const outFirst = new StaticArray<i32>(total);
    for (let i = 0; i < total; i++) unchecked(outFirst[i] = -1);
    const patNext = new StaticArray<i32>(max(np, 1));
    const lens = new StaticArray<i32>(max(np, 1));
    // trie
    let states = 1;
    for (let p = 0; p < np; p++) {
      const pat = pats[p];
      let s = 0;
      for (let i = 0; i < pat.length; i++) {
        const k = s * classes + <i32>unchecked(this.classOf[pat[i]]);
        let t = unchecked(delta[k]);
        if (t < 0) { t = states++; unchecked(delta[k] = t); }
        s = t;
      }
      unchecked(patNext[p] = unchecked(outFirst[s]));
      unchecked(outFirst[s] = p);
      unchecked(lens[p] = pat.length);
    }
    // failure links by BFS, turning the trie into a full DFA as we go
    const fail = new StaticArray<i32>(states);
    const dictLink = new StaticArray<i32>(states);
    const queue = new StaticArray<i32>(states);
    let head = 0;
    let tail = 0;
    unchecked(dictLink[0] = -1);
    for (let c = 0; c < classes; c++) {
      const t = unchecked(delta[c]);
      if (t < 0) { unchecked(delta[c] = 0); continue; }
      unchecked(fail[t] = 0);
      unchecked(dictLink[t] = -1);
      unchecked(queue[tail++] = t);
    }
    while (head < tail) {
      const s = unchecked(queue[head++]);
      for (let c = 0; c < classes; c++) {
        const k = s * classes + c;
        const t = unchecked(delta[k]);
        const viaFail = unchecked(delta[unchecked(fail[s]) * classes + c]);
        if (t < 0) { unchecked(delta[k] = viaFail); continue; }
        unchecked(fail[t] = viaFail);
        unchecked(dictLink[t] = unchecked(outFirst[viaFail]) >= 0 ? viaFail : unchecked(dictLink[viaFail]));
        unchecked(queue[tail++] = t);
      }
    }
    const pairs = new StaticArray<u32>(2048);
    for (let p = 0; p < np; p++) {
      const pat = pats[p];
      const b0 = <i32>pat[0];
      for (let v0 = 0; v0 < 2; v0++) {
        const first = v0 == 0 ? b0 : this.otherCase(b0);
        if (first < 0) continue;
        if (pat.length < 2) {
          for (let b1 = 0; b1 < 256; b1++) setBit(pairs, first | (b1 << 8));
          continue;
        }
        const b1 = <i32>pat[1];
        setBit(pairs, first | (b1 << 8));
        const b1o = this.otherCase(b1);
        if (b1o >= 0) setBit(pairs, first | (b1o << 8));
      }
    }
    this.pairs = pairs;
    this.delta = delta;
    this.outFirst = outFirst;
    this.patNext = patNext;
    this.dictLink = dictLink;
    this.lens = lens;
    this.stateCount = states;
  }

  /**
   * Finds every occurrence (overlapping ones too) in len bytes at ptr; fills
   * out (reset first) and returns out.count. Needs build().
   */
  scan(ptr: usize, len: i32, out: MatchList): i32 {
    out.reset();
    if (!this.built || this.patterns.length == 0) return 0;
    const classes = this.classes;
    const delta = this.delta;
    const cls = this.classOf;
    let s = 0;
    for (let i = 0; i < len; i++) {
      if (s == 0) i = this.skipAtRoot(ptr, i, len);
      s = unchecked(delta[s * classes + <i32>unchecked(cls[load<u8>(ptr + <usize>i)])]);
      let o = unchecked(this.outFirst[s]) >= 0 ? s : unchecked(this.dictLink[s]);
      while (o >= 0) {
        let p = unchecked(this.outFirst[o]);
        while (p >= 0) {
          if (out.count < out.capacity) {
            unchecked(out.ids[out.count] = unchecked(this.ids[p]));
            unchecked(out.starts[out.count] = i - unchecked(this.lens[p]) + 1);
            out.count++;
          } else {
            out.overflow = true;
            return out.count;
          }
          p = unchecked(this.patNext[p]);
        }
        o = unchecked(this.dictLink[o]);
      }
    }
    return out.count;
  }

  /**
   * For each id i (ids index firstAt) with firstAt[i] == -1, the start of its
   * first occurrence whose last byte is at or after minEnd; stops once
   * `pending` were found. Returns how many it found. One pass whatever the
   * number of matches, where scan() stops at its list's capacity.
   */
  firstOfEach(ptr: usize, len: i32, minEnd: i32, firstAt: StaticArray<i32>, pending: i32): i32 {
    if (!this.built || this.patterns.length == 0 || pending <= 0) return 0;
    const classes = this.classes;
    const delta = this.delta;
    const cls = this.classOf;
    let found = 0;
    let s = 0;
    // A match that ends at or after minEnd starts at or after minEnd - maxLen + 1,
    // and the automaton finds every match that starts where it starts: so the
    // bytes before that (a stream's earlier packets) are not read again.
    let i = minEnd - this.maxLen + 1;
    if (i < 0) i = 0;
    for (; i < len; i++) {
      if (s == 0) i = this.skipAtRoot(ptr, i, len);
      s = unchecked(delta[s * classes + <i32>unchecked(cls[load<u8>(ptr + <usize>i)])]);
      if (i < minEnd) continue;
      let o = unchecked(this.outFirst[s]) >= 0 ? s : unchecked(this.dictLink[s]);
      while (o >= 0) {
        let p = unchecked(this.outFirst[o]);
        while (p >= 0) {
          const id = unchecked(this.ids[p]);
          if (unchecked(firstAt[id]) < 0) {
            unchecked(firstAt[id] = i - unchecked(this.lens[p]) + 1);
            if (++found == pending) return found;
          }
          p = unchecked(this.patNext[p]);
        }
        o = unchecked(this.dictLink[o]);
      }
    }
    return found;
  }

  /** Id of the pattern whose first occurrence ends earliest, or -1: the cheap "any match?" test. */
  first(ptr: usize, len: i32): i32 {
    if (!this.built || this.patterns.length == 0) return -1;
    const classes = this.classes;
    const delta = this.delta;
    const cls = this.classOf;
    let s = 0;
    for (let i = 0; i < len; i++) {
      if (s == 0) i = this.skipAtRoot(ptr, i, len);
      s = unchecked(delta[s * classes + <i32>unchecked(cls[load<u8>(ptr + <usize>i)])]);
      const o = unchecked(this.outFirst[s]) >= 0 ? s : unchecked(this.dictLink[s]);
      if (o >= 0) return unchecked(this.ids[unchecked(this.outFirst[o])]);
    }
    return -1;
  }

  /**
   * From the root at offset i, the first offset whose byte pair can begin a
   * pattern (or the last byte). A pair skipped begins no pattern, so its
   * first byte ends none (1-byte patterns set every pair) and, read from the
   * root, leaves the walk where the root would go on the second byte: the
   * walk from the returned offset reaches the same states and matches.
   */
  @inline private skipAtRoot(ptr: usize, i: i32, len: i32): i32 {
    const pairs = this.pairs;
    while (i + 1 < len) {
      const pair = <u32>load<u16>(ptr + <usize>i);
      if ((unchecked(pairs[pair >> 5]) & (1 << (pair & 31))) != 0) break;
      i++;
    }
    return i;
  }
}

@inline function setBit(bits: StaticArray<u32>, i: i32): void {
  unchecked(bits[i >> 5] |= <u32>1 << (i & 31));
}
