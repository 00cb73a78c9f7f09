// OS command injection: a shell separator or substitution followed by a
// command. Separators are ; | || && & newline, and the substitutions `...`
// and $(...). Commands that are also English words (cat, ping, sleep, echo)
// must look like a command line (an option, path, number or redirection after
// them; the end of the value only for the ones useful alone, like id and ls);
// unambiguous ones (whoami, wget, nc) only need a word boundary. ${IFS} and
// quotes inside a word ("w'h'oami") are undone.
import { BytesMap } from "../sdk/lib";

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

function init(): void {
  ready = true;
  for (let i = 0; i < WEAK_COMMANDS.length; i++) commands.setString(WEAK_COMMANDS[i], WEAK);
  commands.setString("rm", WEAK);
  for (let i = 0; i < ARGLESS_COMMANDS.length; i++) commands.setString(ARGLESS_COMMANDS[i], ARGLESS);
  for (let i = 0; i < STRONG_COMMANDS.length; i++) commands.setString(STRONG_COMMANDS[i], STRONG);
}

const word = new Uint8Array(32);

@inline function isWordByte(c: u8): bool {
  return <u8>((c | 0x20) - 0x61) < 26 || <u8>(c - 0x30) < 10 || c == 0x5f || c == 0x2d || c == 0x2e;
}
@inline function isBlank(c: u8): bool { return c == 0x20 || c == 0x09; }

export function isCommandInjection(p: usize, n: i32): bool {
  if (!ready) init();
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

// Reads the word at `at` (after blanks, a doubled separator, "${IFS}" and a
// /bin/-style directory), folding quote-split words, and judges it. After a
// line break (textareas are full of them) every command must look like a command line.
function commandAt(p: usize, n: i32, at: i32, substitution: bool, lineStart: bool): bool {
  let i = at;
  // bounded: every separator starts its own look, so a run of them must not be rescanned from each
  const skipEnd = min(n, at + 32);
  while (i < skipEnd) {
    const c = load<u8>(p + <usize>i);
    if (isBlank(c) || c == 0x7c || c == 0x26 || c == 0x3b || c == 0x28 || c == 0x7b) { i++; continue; }
    if (ifsAt(p, n, i)) { i += 6; continue; }
    break;
  }
  // a directory prefix: /bin/cat, /usr/bin/id, C:\Windows\System32\cmd.exe
  let w = i;
  let k = i;
  const wordEnd = min(n, i + 256);
  while (k < wordEnd && (isWordByte(load<u8>(p + <usize>k)) || load<u8>(p + <usize>k) == 0x2f || load<u8>(p + <usize>k) == 0x5c || load<u8>(p + <usize>k) == 0x3a)) {
    const c = load<u8>(p + <usize>k);
    k++;
    if (c == 0x2f || c == 0x5c) w = k;
  }
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
  while (j < n && len < word.length) {
    const c = load<u8>(p + <usize>j);
    if (c == 0x5c || (foldQuotes && (c == 0x27 || c == 0x22))) { j++; continue; }
    if (!isWordByte(c)) break;
    word[len++] = c;
    j++;
  }
  if (len == 0 || len >= word.length) return false;
  const kind = commands.get(word.dataStart, len, 0);
  if (kind == 0) return false;
  if (substitution || (kind == STRONG && !lineStart)) return true;
  return looksLikeArguments(p, n, j, kind != WEAK);
}

// "eat | sleep | repeat" is a slogan, "; sleep 5" a command: a weak command
// needs an argument-like word after it, or a redirection.
function looksLikeArguments(p: usize, n: i32, i: i32, alone: bool): bool {
  if (i >= n) return alone;
  const c = load<u8>(p + <usize>i);
  if (c == 0x3e || c == 0x3c || c == 0x60) return true;
  if (c == 0x3b || c == 0x7c || c == 0x26 || c == 0x0a || c == 0x29) return alone;
  if (ifsAt(p, n, i)) return true;
  if (!isBlank(c)) return false;
  while (i < n && isBlank(load<u8>(p + <usize>i))) i++;
  if (i >= n) return alone;
  const a = load<u8>(p + <usize>i);
  // a Windows drive path (type C:\Windows\win.ini)
  if (<u8>((a | 0x20) - 0x61) < 26 && i + 2 < n && load<u8>(p + <usize>(i + 1)) == 0x3a
    && (load<u8>(p + <usize>(i + 2)) == 0x5c || load<u8>(p + <usize>(i + 2)) == 0x2f)) return true;
  if (a == 0x3b || a == 0x7c || a == 0x26) return alone;
  return a == 0x2d || a == 0x2f || a == 0x24 || a == 0x7e || a == 0x2e || <u8>(a - 0x30) < 10
    || a == 0x3e || a == 0x22 || a == 0x27 || a == 0x60;
}

function ifsAt(p: usize, n: i32, i: i32): bool {
  if (i + 6 > n) return false;
  return load<u8>(p + <usize>i) == 0x24 && load<u8>(p + <usize>(i + 1)) == 0x7b && (load<u8>(p + <usize>(i + 2)) | 0x20) == 0x69
    && (load<u8>(p + <usize>(i + 3)) | 0x20) == 0x66 && (load<u8>(p + <usize>(i + 4)) | 0x20) == 0x73 && load<u8>(p + <usize>(i + 5)) == 0x7d;
}
