// SQL injection by tokenising, in the spirit of libinjection: the value is
// lexed as SQL three times (as is, as if it continued a '...' string, and a
// "..." string), each token reduced to one type letter, and the string of
// letters (the fingerprint) is looked up in a set of attack shapes. Ordinary
// text lexes to shapes that start with a bare word and never reach the set;
// an injection has to break out of its context, which leaves a telltale
// string / number / operator sequence at the start.
//
// Token letters:
//   s string   1 number   n bare word   v @variable   k keyword   o operator
//   & and/or/xor/&&/||   U union   E statement (select, drop, waitfor...)
//   B order/group   f known SQL function followed by "("   c comment (ends the value)
//   ( ) , ;  as themselves
import { BytesMap } from "../sdk/lib";

const MAX_TOKENS = 8;

const words = new BytesMap(128, true);
const shapes = new BytesMap(512, false);
let ready = false;

const KEYWORDS: string[] = [
  "union=U",
  "select=E", "insert=E", "update=E", "delete=E", "drop=E", "exec=E", "execute=E", "declare=E", "create=E",
  "alter=E", "truncate=E", "waitfor=E", "shutdown=E", "having=k",
  "and=&", "or=&", "xor=&",
  "not=o", "like=o", "rlike=o", "regexp=o", "is=o", "between=o", "div=o", "mod=o", "in=o", "sounds=o", "collate=o",
  "from=k", "where=k", "into=k", "limit=k", "offset=k", "values=k", "set=k", "table=k", "as=k", "case=k", "when=k",
  "then=k", "else=k", "end=k", "top=k", "procedure=k", "outfile=k", "dumpfile=k", "by=k", "all=k", "distinct=k", "delay=k",
  "order=B", "group=B",
  "null=1", "true=1", "false=1",
];

// Known SQL functions: a word in this list followed by "(" lexes as f. Any
// other word( stays n, so prose and code like print(x) do not look like SQL.
const FUNCTIONS: string[] = [
  "sleep", "benchmark", "pg_sleep", "char", "chr", "nchar", "concat", "concat_ws", "substring", "substr", "mid", "ascii", "ord",
  "hex", "unhex", "version", "database", "user", "current_user", "system_user", "session_user", "schema", "load_file",
  "extractvalue", "updatexml", "count", "cast", "convert", "md5", "sha1", "group_concat", "if", "ifnull", "isnull",
  "coalesce", "length", "len", "lower", "upper", "rand", "floor", "exp", "name_const", "row_to_json", "randomblob",
  "json_extract", "db_name", "user_name", "host_name", "suser_name", "is_srvrolemember", "utl_inaddr.get_host_address",
  "dbms_pipe.receive_message", "ctxsys.drithsx.sn", "xp_cmdshell", "sp_executesql", "char_length", "elt", "make_set",
  "geometrycollection", "polygon", "multipoint", "exists", "pg_read_file", "current_database", "sqlite_version", "instr",
];

// Attack shapes, written with classes: [..] expands to each letter inside.
// A fingerprint is an attack when one of its prefixes is in the expanded set.
const SHAPES: string[] = [
  // quote contexts: a string closed, then SQL instead of more text
  "s&[1svf(]", "s&n[o&c(;)]", "s&nk", "s&E", "s&o[1sn(]",
  "s)[&U;co]", "s))[&U;]",
  "sc", "sU", "sE", "s;", "sBk",
  "sos", "so1[c&;)]", "sov", "so(", "sof(", "sk1o1",
  "s,[1s][,)]",
  // numeric contexts
  "1&[1sv][o&c;]", "1&f(", "1o(E", "1&(", "1&no", "1&nk", "1&E",
  "1)[&U;]", "1))[&U;]", "1)B", "1)c",
  "1U[E(]", "1;[Ef]", "1Bk1", "1k1,",
  "n&1o", "n&so", "n&f(", "nUE", "n;E", "n)&",
  "&1o1", "&sos", "&f(", "&1&",
  "v&", "1ov", "f(1)", "f(f(",
  // a statement run after closing a function call or a parenthesis
  ");E", ")U",
  // a numeric operand wrapped in parentheses, which MySQL needs no spaces around:
  // (1)union(select(1),2,3), (1)or(1=1), (1)-sleep(5); "(555) 123-4567" is (1)1o1 and stays out
  "(1)U", "(1);E", "(1)Bk1", "(1)&(1o", "(1)&([Ef]", "(1)&1o", "(1)&f(", "(1)of(", "(1)o(E", "(1))[&U]",
  // a subquery as the whole value: (select(sleep(5))), (select 1 from x), (select * from x);
  // "(select one)" is a word after the keyword and stays out
  "(E1[,)kco]", "(Es[,)kc]", "(E[fv(]", "(Eok",
  // a number combined with a function call by an operator: 1-sleep(5), 1 rlike sleep(5)
  "1of(",
];

function init(): void {
  ready = true;
  for (let i = 0; i < KEYWORDS.length; i++) {
    const kw = KEYWORDS[i];
    const eq = kw.indexOf("=");
    words.setString(kw.substring(0, eq), <i32>kw.charCodeAt(eq + 1));
  }
  for (let i = 0; i < FUNCTIONS.length; i++) words.setString(FUNCTIONS[i], 0x66 /* f */ | 0x100);
  for (let i = 0; i < SHAPES.length; i++) expand(SHAPES[i], "");
}

function expand(pattern: string, prefix: string): void {
  const open = pattern.indexOf("[");
  if (open < 0) {
    const full = prefix + pattern;
    const b = String.UTF8.encode(full);
    shapes.set(changetype<usize>(b), b.byteLength, 1);
    return;
  }
  const close = pattern.indexOf("]", open);
  const head = prefix + pattern.substring(0, open);
  const rest = pattern.substring(close + 1);
  for (let i = open + 1; i < close; i++) expand(rest, head + pattern.charAt(i));
}

/** Fingerprint of the last detection (for alert metadata), as bytes in `fp` of length fpLen. */
export const fp = new Uint8Array(MAX_TOKENS);
export let fpLen: i32 = 0;
/** The context of the last detection: 0 none, 0x27 ', 0x22 ". */
export let fpContext: i32 = 0;

/** True when the value lexes to an attack shape in any quote context it could be sitting in. */
export function isSqli(p: usize, n: i32): bool {
  if (!ready) init();
  if (n <= 0) return false;
  if (fingerprint(p, n, 0, true)) { fpContext = 0; return true; }
  let hasSingle = false;
  let hasDouble = false;
  let backslashQuote = false;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x27) hasSingle = true;
    else if (c == 0x22) hasDouble = true;
    if ((c == 0x27 || c == 0x22) && i > 0 && load<u8>(p + <usize>(i - 1)) == 0x5c) backslashQuote = true;
  }
  if (hasSingle && fingerprint(p, n, 0x27, true)) { fpContext = 0x27; return true; }
  if (hasDouble && fingerprint(p, n, 0x22, true)) { fpContext = 0x22; return true; }
  // PostgreSQL (standard_conforming_strings), SQLite, MSSQL and Oracle do not
  // escape with "\": in x\' the quote closes the string. MySQL's reading was tried above.
  if (!backslashQuote) return false;
  if (hasSingle && fingerprint(p, n, 0x27, false)) { fpContext = 0x27; return true; }
  if (hasDouble && fingerprint(p, n, 0x22, false)) { fpContext = 0x22; return true; }
  return false;
}

@inline function isWordStart(c: u8): bool { return <u8>((c | 0x20) - 0x61) < 26 || c == 0x5f || c == 0x24 || c >= 0x80; }
@inline function isWordChar(c: u8): bool { return isWordStart(c) || <u8>(c - 0x30) < 10 || c == 0x2e; }
@inline function isDigit(c: u8): bool { return <u8>(c - 0x30) < 10; }
@inline function isSpace(c: u8): bool { return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0xa0; }

// Lexes into `fp` and checks every prefix against the shapes; true on a hit.
function fingerprint(p: usize, n: i32, quote: i32, backslashEscapes: bool): bool {
  let t = 0;
  let i = 0;
  let lastIsBool = false;
  if (quote != 0) {
    i = skipString(p, n, 0, <u8>quote, backslashEscapes);
    fp[t++] = 0x73; // s
  }
  while (i < n && t < MAX_TOKENS) {
    const c = load<u8>(p + <usize>i);
    if (isSpace(c)) { i++; continue; }
    let type: u8 = 0;
    if (c == 0x27 || c == 0x22 || c == 0x60) {
      i = skipString(p, n, i + 1, c, backslashEscapes);
      type = c == 0x60 ? 0x6e : 0x73;
    } else if (isDigit(c) || (c == 0x2e && i + 1 < n && isDigit(load<u8>(p + <usize>(i + 1))))) {
      i = skipNumber(p, n, i);
      type = 0x31;
    } else if (c == 0x40) {
      i++;
      if (i < n && load<u8>(p + <usize>i) == 0x40) i++;
      while (i < n && isWordChar(load<u8>(p + <usize>i))) i++;
      type = 0x76;
    } else if (isWordStart(c)) {
      const start = i;
      while (i < n && isWordChar(load<u8>(p + <usize>i))) i++;
      type = classifyWord(p + <usize>start, i - start, p, n, i);
      lastIsBool = type == 0x31 && isBoolLiteral(p + <usize>start, i - start);
    } else if ((c == 0x2d && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x2d) || c == 0x23) {
      type = 0x63; // -- or # comment: the rest of the value is ignored by the database
      i = n;
    } else if (c == 0x2f && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x2a) {
      // /* ... */ is whitespace to SQL; /*! ... */ (MySQL) runs its content, so only the markers go
      i += 2;
      if (i < n && load<u8>(p + <usize>i) == 0x21) {
        i++;
        while (i < n && isDigit(load<u8>(p + <usize>i))) i++;
        continue;
      }
      let closed = false;
      while (i + 1 < n) {
        if (load<u8>(p + <usize>i) == 0x2a && load<u8>(p + <usize>(i + 1)) == 0x2f) { i += 2; closed = true; break; }
        i++;
      }
      if (!closed) { type = 0x63; i = n; } else continue;
    } else if (c == 0x2a && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x2f) {
      i += 2; // the end of a /*! block
      continue;
    } else if (c == 0x28 || c == 0x29 || c == 0x2c || c == 0x3b) {
      type = c;
      i++;
    } else if ((c == 0x7c && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x7c) || (c == 0x26 && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x26)) {
      type = 0x26;
      i += 2;
    } else if (isOperator(c)) {
      while (i < n && isOperator(load<u8>(p + <usize>i)) && !startsComment(p, n, i)) i++;
      type = 0x6f;
      // a sign right before a number belongs to the number (~0 is MySQL's largest integer)
      if ((c == 0x2d || c == 0x2b || c == 0x7e) && i < n && isDigit(load<u8>(p + <usize>i)) && (t == 0 || signable(fp[t - 1]))) {
        i = skipNumber(p, n, i);
        type = 0x31;
      }
    } else {
      i++;
      continue; // other punctuation carries no SQL meaning here
    }
    if (type != 0x31 || !isWordStart(c)) lastIsBool = false;
    // adjacent strings concatenate ('a' 'b'), and so do runs of operators
    if (t > 0 && type == fp[t - 1] && (type == 0x73 || type == 0x6f)) continue;
    // "((1))" opens like "(1)": one shape covers any number of leading parentheses
    if (t == 1 && type == 0x28 && fp[0] == 0x28) continue;
    // UNION ALL / UNION DISTINCT are one UNION
    if (t > 0 && type == 0x6b && fp[t - 1] == 0x55) continue;
    fp[t++] = type;
    if (matchesShape(t, quote)) { fpLen = t; return true; }
    if (type == 0x63) break;
  }
  return i >= n && lastIsBool && endsInBoolTautology(p, n, t, quote);
}

// Shapes that only count when the value ends there: "1 or true" and "(1) and false"
// (a number literal joined to a boolean one) are tautologies, while "1 or 2" and
// "true or false" are ordinary text.
function endsInBoolTautology(p: usize, n: i32, t: i32, quote: i32): bool {
  if (quote != 0 || t < 3 || fp[t - 1] != 0x31 || fp[t - 2] != 0x26) return false;
  let i = 0;
  while (i < n && (isSpace(load<u8>(p + <usize>i)) || load<u8>(p + <usize>i) == 0x28)) i++;
  if (i >= n || !isDigit(load<u8>(p + <usize>i))) return false;
  if (t == 3) return fp[0] == 0x31;
  return t == 5 && fp[0] == 0x28 && fp[1] == 0x31 && fp[2] == 0x29;
}

function isBoolLiteral(w: usize, len: i32): bool {
  if (len != 4 && len != 5) return false;
  const c = load<u8>(w) | 0x20;
  return (len == 4 && c == 0x74) || (len == 5 && c == 0x66); // true, false (null is not a tautology)
}

@inline function signable(prev: u8): bool {
  return prev == 0x6f || prev == 0x26 || prev == 0x28 || prev == 0x2c || prev == 0x45 || prev == 0x6b || prev == 0x55;
}

// Each new token completes one more prefix; only that one needs checking. As
// is (no quote context), a value that starts with a string is a quoted phrase
// ("star wars" OR "star trek"), not a break-out: only the quote contexts judge those.
function matchesShape(t: i32, quote: i32): bool {
  if (t < 2 || (quote == 0 && fp[0] == 0x73)) return false;
  return shapes.has(fp.dataStart, t);
}

function startsComment(p: usize, n: i32, i: i32): bool {
  const c = load<u8>(p + <usize>i);
  if (i + 1 >= n) return false;
  const d = load<u8>(p + <usize>(i + 1));
  return (c == 0x2d && d == 0x2d) || (c == 0x2f && d == 0x2a);
}

@inline function isOperator(c: u8): bool {
  return c == 0x3d || c == 0x3c || c == 0x3e || c == 0x21 || c == 0x7c || c == 0x26 || c == 0x5e || c == 0x7e
    || c == 0x2b || c == 0x2d || c == 0x2a || c == 0x2f || c == 0x25 || c == 0x3a;
}

function skipString(p: usize, n: i32, i: i32, q: u8, backslashEscapes: bool): i32 {
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x5c && q != 0x60 && backslashEscapes) { i += 2; continue; }
    if (c == q) {
      // a doubled quote is an escaped quote inside the string
      if (i + 1 < n && load<u8>(p + <usize>(i + 1)) == q) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return n;
}

function skipNumber(p: usize, n: i32, i: i32): i32 {
  if (i + 1 < n && load<u8>(p + <usize>i) == 0x30 && (load<u8>(p + <usize>(i + 1)) | 0x20) == 0x78) {
    i += 2;
    while (i < n && (isDigit(load<u8>(p + <usize>i)) || <u8>((load<u8>(p + <usize>i) | 0x20) - 0x61) < 6)) i++;
    return i;
  }
  while (i < n && (isDigit(load<u8>(p + <usize>i)) || load<u8>(p + <usize>i) == 0x2e)) i++;
  if (i < n && (load<u8>(p + <usize>i) | 0x20) == 0x65) {
    let j = i + 1;
    if (j < n && (load<u8>(p + <usize>j) == 0x2d || load<u8>(p + <usize>j) == 0x2b)) j++;
    if (j < n && isDigit(load<u8>(p + <usize>j))) {
      i = j;
      while (i < n && isDigit(load<u8>(p + <usize>i))) i++;
    }
  }
  return i;
}

function classifyWord(w: usize, len: i32, p: usize, n: i32, after: i32): u8 {
  const v = words.get(w, len, 0);
  if ((v & 0x100) != 0) {
    // a function only when a "(" follows (spaces and comments allowed between)
    let j = after;
    while (j < n && isSpace(load<u8>(p + <usize>j))) j++;
    return j < n && load<u8>(p + <usize>j) == 0x28 ? 0x66 : 0x6e;
  }
  return v == 0 ? 0x6e : <u8>v;
}

