// OS command injection: a shell separator or substitution followed by a
// command. Separators are ; | || && & newline, and the substitutions `...`
// and $(...). Commands that are also English words (cat, ping, sleep, echo)
// must look like a command line (an option, path, number or redirection after
// them; the end of the value only for the ones useful alone, like id and ls);
// unambiguous ones (whoami, wget, nc) only need a word boundary.
// What /bin/sh undoes before it runs a word is undone too: ${IFS} and $IFS,
// quotes inside a word ("w'h'oami"), expansions that are empty ($(), ``, $@,
// $1 inside a word), glob paths (/???/??t) and brace expansion ({cat,/etc/passwd}).
import { BytesMap } from "../sdk/lib";
import { VALUE_CAP } from "./normalize";

const STRONG = 1;
const WEAK = 2;
/** Weak, but useful alone (";id", "|ls"): the end of the value counts as a command line. */
const ARGLESS = 3;
const commands = new BytesMap(128, true);
let ready = false;

const STRONG_COMMANDS = [
  "whoami", "uname", "ifconfig", "ipconfig", "wget", "curl", "nc", "ncat", "netcat", "bash", "sh", "zsh", "ksh", "csh",
  "dash", "powershell", "pwsh", "cmd", "cmd.exe", "python", "python3", "perl", "ruby", "php", "nslookup", "busybox",
  "tftp", "chmod", "chown", "useradd", "systeminfo", "certutil", "bitsadmin", "telnet", "netstat",
  "mkfifo", "xterm", "base64", "crontab", "uname", "hostname", "tasklist", "net.exe", "wmic", "nohup", "socat",
  "lsb_release", "getent", "killall", "pkill", "xargs",
];
const WEAK_COMMANDS = ["cat", "ping", "sleep", "echo", "kill", "cp", "mv", "dir", "type", "net", "find", "more", "head",
  "tail", "touch", "mail", "ps", "time", "set", "printf", "exec", "eval", "timeout", "dig", "host", "scp", "ssh", "sudo",
  "su", "awk", "sed", "env"];

const ARGLESS_COMMANDS = ["id", "ls", "pwd", "ps", "env", "dir", "set"];

// Every command and its kind, for matching glob patterns against (the map cannot be iterated).
const allCommands: string[] = [];
const allKinds: i32[] = [];

function init(): void {
  ready = true;
  for (let i = 0; i < WEAK_COMMANDS.length; i++) commands.setString(WEAK_COMMANDS[i], WEAK);
  commands.setString("rm", WEAK);
  for (let i = 0; i < ARGLESS_COMMANDS.length; i++) commands.setString(ARGLESS_COMMANDS[i], ARGLESS);
  for (let i = 0; i < STRONG_COMMANDS.length; i++) commands.setString(STRONG_COMMANDS[i], STRONG);
  for (let i = 0; i < STRONG_COMMANDS.length; i++) allCommands.push(STRONG_COMMANDS[i]);
  for (let i = 0; i < WEAK_COMMANDS.length; i++) allCommands.push(WEAK_COMMANDS[i]);
  for (let i = 0; i < ARGLESS_COMMANDS.length; i++) allCommands.push(ARGLESS_COMMANDS[i]);
  allCommands.push("rm");
  for (let i = 0; i < allCommands.length; i++) {
    const name = String.UTF8.encode(allCommands[i]);
    allKinds.push(commands.get(changetype<usize>(name), name.byteLength, 0));
  }
}

const word = new Uint8Array(32);

@inline function isWordByte(c: u8): bool {
  return <u8>((c | 0x20) - 0x61) < 26 || <u8>(c - 0x30) < 10 || c == 0x5f || c == 0x2d || c == 0x2e;
}
@inline function isBlank(c: u8): bool { return c == 0x20 || c == 0x09; }
@inline function isGlob(c: u8): bool { return c == 0x3f || c == 0x2a || c == 0x5b || c == 0x5d; }

export function isCommandInjection(p: usize, n: i32): bool {
  if (!ready) init();
  const m = dropEmptyExpansions(p, n);
  if (m >= 0) { p = plain.dataStart; n = m; }
  let backticks = 0;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    let start = -1;
    let substitution = false;
    let lineStart = false;
    if (c == 0x3b || c == 0x7c || c == 0x26) start = i + 1;
    else if (c == 0x0a || c == 0x0d) { start = i + 1; lineStart = true; }
    else if (c == 0x60) {
      // only an opening backtick starts a command; what follows a closing one is the same word
      if ((backticks++ & 1) == 0) { start = i + 1; substitution = true; }
    }
    else if (c == 0x24 && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x28) { start = i + 2; substitution = true; }
    if (start < 0) continue;
    if (commandAt(p, n, start, substitution, lineStart)) return true;
  }
  return false;
}

// Expansions /bin/sh replaces with nothing, inside a word: who$()ami, w``hoami,
// who$@ami, cat$9. Copied without them into `plain`; -1 when there are none.
const plain = new Uint8Array(VALUE_CAP);

function dropEmptyExpansions(p: usize, n: i32): i32 {
  if (n > VALUE_CAP) return -1;
  let o = 0;
  let dropped = false;
  for (let i = 0; i < n; i++) {
    const len = emptyExpansionAt(p, n, i);
    // "US$5" or "$@" alone are left alone: only a word glued to it is being disguised
    if (len > 0 && ((i > 0 && isWordByte(load<u8>(p + <usize>(i - 1)))) || (i + len < n && isWordByte(load<u8>(p + <usize>(i + len)))))) {
      i += len - 1;
      dropped = true;
      continue;
    }
    plain[o++] = load<u8>(p + <usize>i);
  }
  return dropped ? o : -1;
}

function emptyExpansionAt(p: usize, n: i32, i: i32): i32 {
  if (i + 1 >= n) return 0;
  const c = load<u8>(p + <usize>i);
  const d = load<u8>(p + <usize>(i + 1));
  if (c == 0x60 && d == 0x60) return 2;
  if (c != 0x24) return 0;
  // $@ and $* are the arguments, and $1..$9 the positional ones: none under "sh -c"
  if (d == 0x40 || d == 0x2a || <u8>(d - 0x31) < 9) return 2;
  if (d == 0x28 && i + 2 < n && load<u8>(p + <usize>(i + 2)) == 0x29) return 3;
  return 0;
}

// Reads the word at `at` (after blanks, a doubled separator, "${IFS}" and a
// /bin/-style directory), folding quote-split words, and judges it. After a
// line break (textareas are full of them) every command must look like a command line.
function commandAt(p: usize, n: i32, at: i32, substitution: bool, lineStart: bool): bool {
  let i = at;
  // right after "{": {cat,/etc/passwd} is bash's brace expansion to "cat /etc/passwd"
  let braced = false;
  // bounded: every separator starts its own look, so a run of them must not be rescanned from each
  const skipEnd = min(n, at + 32);
  while (i < skipEnd) {
    const c = load<u8>(p + <usize>i);
    if (isBlank(c) || c == 0x7c || c == 0x26 || c == 0x3b || c == 0x28 || c == 0x7b) { braced = c == 0x7b; i++; continue; }
    const ifs = ifsLength(p, n, i);
    if (ifs > 0) { braced = false; i += ifs; continue; }
    break;
  }
  // a directory prefix: /bin/cat, /usr/bin/id, C:\Windows\System32\cmd.exe, or a glob of one (/???/??t)
  let w = i;
  let k = i;
  const wordEnd = min(n, i + 256);
  while (k < wordEnd && (isWordByte(load<u8>(p + <usize>k)) || isGlob(load<u8>(p + <usize>k)) || load<u8>(p + <usize>k) == 0x2f || load<u8>(p + <usize>k) == 0x5c || load<u8>(p + <usize>k) == 0x3a)) {
    const c = load<u8>(p + <usize>k);
    k++;
    if (c == 0x2f || c == 0x5c) w = k;
  }
  const inDirectory = w > i;
  // the word, with quotes and backslashes inside it dropped (w'h'o"am"i, who\ami);
  // quotes must pair up, as the shell needs them to, so prose like "I'd" stays "I"
  let quotes = 0;
  let q = w;
  const quoteEnd = min(n, w + 64);
  while (q < quoteEnd && (isWordByte(load<u8>(p + <usize>q)) || load<u8>(p + <usize>q) == 0x27 || load<u8>(p + <usize>q) == 0x22 || load<u8>(p + <usize>q) == 0x5c)) {
    const c = load<u8>(p + <usize>q);
    if (c == 0x27 || c == 0x22) quotes++;
    q++;
  }
  const foldQuotes = (quotes & 1) == 0;
  let len = 0;
  let j = w;
  let globbed = false;
  while (j < n && len < word.length) {
    const c = load<u8>(p + <usize>j);
    if (c == 0x5c || (foldQuotes && (c == 0x27 || c == 0x22))) { j++; continue; }
    if (isGlob(c)) globbed = true;
    else if (!isWordByte(c)) break;
    word[len++] = c;
    j++;
  }
  if (len == 0 || len >= word.length) return false;
  const kind = globbed ? globKind(len) : commands.get(word.dataStart, len, 0);
  if (kind == 0) return false;
  // a glob path that only a command name matches is no prose: "; /???/??t"
  if (substitution || (kind == STRONG && !lineStart) || (globbed && inDirectory)) return true;
  if (braced && j < n && load<u8>(p + <usize>j) == 0x2c) return argumentAt(p, n, j + 1, kind != WEAK);
  return looksLikeArguments(p, n, j, kind != WEAK);
}

// The kind of the strongest command the glob pattern in word[0, len) matches,
// 0 for none. A pattern of wildcards alone ("*", "??") names any command, so it takes a letter.
function globKind(len: i32): i32 {
  let letters = 0;
  for (let i = 0; i < len; i++) if (isWordByte(word[i])) letters++;
  if (letters == 0) return 0;
  let best = 0;
  for (let c = 0; c < allCommands.length; c++) {
    const name = allCommands[c];
    if (!globMatches(0, len, name, 0)) continue;
    const kind = allKinds[c];
    if (kind == STRONG) return STRONG;
    if (kind == ARGLESS || best == 0) best = kind;
  }
  return best;
}

// sh's matching of ?, * and [set] (word[pi, plen) against name from ni); the
// patterns are at most 32 bytes and the names short, so plain recursion is cheap.
function globMatches(pi: i32, plen: i32, name: string, ni: i32): bool {
  while (pi < plen) {
    const c = word[pi];
    if (c == 0x2a) {
      for (let k = ni; k <= name.length; k++) if (globMatches(pi + 1, plen, name, k)) return true;
      return false;
    }
    if (ni >= name.length) return false;
    const nc = <u8>name.charCodeAt(ni);
    if (c == 0x5b) {
      let e = pi + 1;
      let hit = false;
      while (e < plen && word[e] != 0x5d) {
        if (e + 2 < plen && word[e + 1] == 0x2d && word[e + 2] != 0x5d) { hit = hit || (nc >= word[e] && nc <= word[e + 2]); e += 3; }
        else { hit = hit || lowerByte(word[e]) == nc; e++; }
      }
      if (e >= plen || !hit) return false;
      pi = e + 1;
    } else {
      if (c != 0x3f && lowerByte(c) != nc) return false;
      pi++;
    }
    ni++;
  }
  return ni == name.length;
}

@inline function lowerByte(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }

// "eat | sleep | repeat" is a slogan, "; sleep 5" a command: a weak command
// needs an argument-like word after it, or a redirection.
function looksLikeArguments(p: usize, n: i32, i: i32, alone: bool): bool {
  if (i >= n) return alone;
  const c = load<u8>(p + <usize>i);
  if (c == 0x3e || c == 0x3c || c == 0x60) return true;
  if (c == 0x3b || c == 0x7c || c == 0x26 || c == 0x0a || c == 0x29) return alone;
  if (ifsLength(p, n, i) > 0) return true;
  if (!isBlank(c)) return false;
  while (i < n && isBlank(load<u8>(p + <usize>i))) i++;
  return argumentAt(p, n, i, alone);
}

// Whether the word at i (past the blanks after a command) reads as an argument.
function argumentAt(p: usize, n: i32, i: i32, alone: bool): bool {
  if (i >= n) return alone;
  const a = load<u8>(p + <usize>i);
  // a Windows drive path (type C:\Windows\win.ini)
  if (<u8>((a | 0x20) - 0x61) < 26 && i + 2 < n && load<u8>(p + <usize>(i + 1)) == 0x3a
    && (load<u8>(p + <usize>(i + 2)) == 0x5c || load<u8>(p + <usize>(i + 2)) == 0x2f)) return true;
  if (a == 0x3b || a == 0x7c || a == 0x26) return alone;
  return a == 0x2d || a == 0x2f || a == 0x24 || a == 0x7e || a == 0x2e || <u8>(a - 0x30) < 10
    || a == 0x3e || a == 0x22 || a == 0x27 || a == 0x60;
}

// The length of "${IFS}" or "$IFS" at i (0 when neither is there). Unbraced,
// the name ends at the first byte that cannot continue it: "$IFS/etc" is IFS, "$IFSX" is not.
function ifsLength(p: usize, n: i32, i: i32): i32 {
  if (i + 4 > n || load<u8>(p + <usize>i) != 0x24) return 0;
  const braced = load<u8>(p + <usize>(i + 1)) == 0x7b;
  const name = i + (braced ? 2 : 1);
  if (name + 3 > n || (load<u8>(p + <usize>name) | 0x20) != 0x69 || (load<u8>(p + <usize>(name + 1)) | 0x20) != 0x66
    || (load<u8>(p + <usize>(name + 2)) | 0x20) != 0x73) return 0;
  if (braced) return name + 3 < n && load<u8>(p + <usize>(name + 3)) == 0x7d ? 6 : 0;
  if (name + 3 < n) {
    const c = load<u8>(p + <usize>(name + 3));
    if (<u8>((c | 0x20) - 0x61) < 26 || <u8>(c - 0x30) < 10 || c == 0x5f) return 0;
  }
  return 4;
}
