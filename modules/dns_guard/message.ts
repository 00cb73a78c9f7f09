// A DNS message parsed in place: the header, up to MAX_QUESTIONS questions
// and up to MAX_ANSWERS answer records, into buffers allocated once. Only
// what the guard and the `dns` event need is kept; the rest is skipped with
// the same bounds checks.
import { NameBuf, readName, nameErrorText, newMessage, keepName } from "./name";

export const HEADER_LEN = 12;
export const MAX_QUESTIONS = 4;
export const MAX_ANSWERS = 32;
/** Records walked per message at most, whatever the counts claim. */
const MAX_RECORDS = 256;

export class Question {
  name: NameBuf = new NameBuf();
  type: u16 = 0;
  klass: u16 = 0;
}

export class Answer {
  name: NameBuf = new NameBuf();
  type: u16 = 0;
  klass: u16 = 0;
  ttl: u32 = 0;
  /** Offset of the rdata inside the message, and its length. */
  rdataOff: i32 = 0;
  rdataLen: i32 = 0;
}

export class DnsMessage {
  id: u16 = 0;
  flags: u16 = 0;
  qdcount: i32 = 0;
  ancount: i32 = 0;
  questions: StaticArray<Question> = new StaticArray<Question>(MAX_QUESTIONS);
  questionCount: i32 = 0;
  answers: StaticArray<Answer> = new StaticArray<Answer>(MAX_ANSWERS);
  answerCount: i32 = 0;
  /** Where the message sits in memory while it is being handled. */
  base: usize = 0;
  length: i32 = 0;
  /** Why parse() failed, and the byte offset. */
  error: string = "";
  errorOffset: i32 = 0;

  constructor() {
    for (let i = 0; i < MAX_QUESTIONS; i++) this.questions[i] = new Question();
    for (let i = 0; i < MAX_ANSWERS; i++) this.answers[i] = new Answer();
  }

  @inline get isResponse(): bool { return (this.flags & 0x8000) != 0; }
  @inline get opcode(): i32 { return (this.flags >> 11) & 0xf; }
  @inline get rcode(): i32 { return this.flags & 0xf; }

  /** Parses len bytes at base; false with error/errorOffset set when the message is malformed. */
  parse(base: usize, len: i32): bool {
    this.base = base;
    this.length = len;
    this.questionCount = 0;
    this.answerCount = 0;
    this.error = "";
    newMessage(base, len);
    if (len < HEADER_LEN) return this.fail("shorter than the 12-byte header", 0);
    this.id = bswap<u16>(load<u16>(base));
    this.flags = bswap<u16>(load<u16>(base, 2));
    this.qdcount = <i32>bswap<u16>(load<u16>(base, 4));
    this.ancount = <i32>bswap<u16>(load<u16>(base, 6));
    let pos = HEADER_LEN;
    for (let i = 0; i < this.qdcount; i++) {
      if (i >= MAX_RECORDS) return true;
      const q = i < MAX_QUESTIONS ? unchecked(this.questions[i]) : null;
      const next = readName(base, len, pos, q !== null ? q.name : null);
      if (next < 0) return this.fail("question " + i.toString() + ": " + nameErrorText(next), pos);
      if (next + 4 > len) return this.fail("question " + i.toString() + " is cut short", next);
      if (q !== null) {
        keepName(q.name);
        q.type = bswap<u16>(load<u16>(base + <usize>next));
        q.klass = bswap<u16>(load<u16>(base + <usize>next, 2));
        this.questionCount = i + 1;
      }
      pos = next + 4;
    }
    for (let i = 0; i < this.ancount; i++) {
      if (i + this.qdcount >= MAX_RECORDS) return true;
      const a = i < MAX_ANSWERS ? unchecked(this.answers[i]) : null;
      const next = readName(base, len, pos, a !== null ? a.name : null);
      if (next < 0) return this.fail("answer " + i.toString() + ": " + nameErrorText(next), pos);
      if (next + 10 > len) return this.fail("answer " + i.toString() + " is cut short", next);
      const rdlen = <i32>bswap<u16>(load<u16>(base + <usize>next, 8));
      if (next + 10 + rdlen > len) return this.fail("answer " + i.toString() + " rdata length " + rdlen.toString() + " runs past the message", next + 8);
      if (a !== null) {
        keepName(a.name);
        a.type = bswap<u16>(load<u16>(base + <usize>next));
        a.klass = bswap<u16>(load<u16>(base + <usize>next, 2));
        a.ttl = bswap<u32>(load<u32>(base + <usize>next, 4));
        a.rdataOff = next + 10;
        a.rdataLen = rdlen;
        this.answerCount = i + 1;
      }
      pos = next + 10 + rdlen;
    }
    return true;
  }

  private fail(why: string, at: i32): bool {
    this.error = why;
    this.errorOffset = at;
    return false;
  }
}
