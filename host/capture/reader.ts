// Reads classic pcap and pcapng captures as a stream of RawFrames.
//
// - Classic pcap: both byte orders, microsecond (0xa1b2c3d4) and nanosecond
//   (0xa1b23c4d) magics; the link type is the low 16 bits of the header's
//   network field (the upper bits carry FCS information).
// - pcapng: several sections, each with its own byte order; one IDB per
//   interface (link type, snaplen, if_tsresol incl. 2^-n, if_tsoffset);
//   EPB, SPB (interface 0, captured length min(original, snaplen)) and the
//   obsolete Packet Block; every other block is skipped by its length.
// - The file header (a pcap's 24 bytes, a pcapng's first section header
//   block) is read whole and checked when the capture is opened, so a file
//   that is no capture fails before a run opens any output.
// - A pcap record whose timestamp fraction is a second or more is read, as
//   tshark reads it, with the whole seconds carried over, and counted
//   (timestampsOutOfRange). pcapng has no such field: a timestamp there is
//   one count of units.
// - A frame longer than its file's (or interface's) snaplen is read whole, as
//   tshark reads it, up to MAX_SNAPLEN: the header's snaplen is often a
//   writer's default (scapy writes 65535 above frames it writes in full).
// - The file is read through a sliding window, never whole.
// - On corruption every valid frame before the fault has been yielded, then
//   a CaptureError names the file, the byte offset and the problem.
import { statSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';
import type { LinkType } from '../packet/types.js';
import { CaptureError } from './errors.js';
import { reserveFrameSeqs } from './frame-seq.js';
import type { FrameSource, RawFrame } from './types.js';
import { FileWindow, MemoryWindow, type ByteWindow } from './window.js';

export { CaptureError } from './errors.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureReader extends FrameSource {
  readonly name: string;
  readonly format: CaptureFormat;
  /** Bytes consumed so far by the running frames() iteration (for a progress bar). */
  readonly bytesRead: number;
  readonly totalBytes: number;
  /**
   * Classic pcap records of the running (or last) frames() iteration whose
   * timestamp fraction was a second or more: read with the whole seconds
   * carried into the seconds (see readPcap).
   */
  readonly timestampsOutOfRange: number;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const NOT_A_CAPTURE = 'not a pcap or pcapng file';
const CUT_SHORT = 'the capture was cut short; frames before this offset were read';
const NO_IDB_HINT = 'a packet block must come after the interface description block it names, in the same section: the file is damaged, or was joined from several captures byte by byte (mergecap joins them properly)';
// Frames beyond this are certainly corrupt lengths, whatever the snaplen says.
const MAX_FRAME = 1 << 28;
// The largest snaplen of libpcap and Wireshark (MAXIMUM_SNAPLEN,
// WTAP_MAX_PACKET_SIZE_STANDARD): both read a frame up to it, whatever smaller
// snaplen the file's header gives, and call a longer one corrupt.
const MAX_SNAPLEN = 262144;

/** The longest frame read under a snaplen (0: none given). */
function largestFrame(snaplen: number): number {
  return snaplen === 0 ? MAX_FRAME : Math.min(Math.max(snaplen, MAX_SNAPLEN), MAX_FRAME);
}
// 10000-01-01: EVE output writes every timestamp as an ISO date with a
// four-digit year, so a later one could only come out mangled (or, past year
// 275760, fail mid-output).
const MAX_TS_SEC = 253402300800;

function u16(b: Uint8Array, at: number, le: boolean): number {
  return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
}
function u32(b: Uint8Array, at: number, le: boolean): number {
  return (le
    ? b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)
    : (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
function hex32(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}

function detectFormat(name: string, head: Uint8Array): CaptureFormat {
  if (head.length < 4) {
    throw new CaptureError(name, 0, `file too short for a capture header (${head.length} bytes)`, NOT_A_CAPTURE);
  }
  const magic = u32(head, 0, false);
  if (magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1 || magic === 0xa1b23c4d || magic === 0x4d3cb2a1) return 'pcap';
  if (magic === PCAPNG_SHB) return 'pcapng';
  const packed = packedAs(head);
  throw new CaptureError(name, 0, `bad magic ${hex32(magic)} (expected a1b2c3d4, a1b23c4d or 0a0d0d0a)${packed ? `: a ${packed.what}` : ''}`,
    packed ? `unpack it on the way in: ${packed.tool} ${name === '<stdin>' ? 'FILE' : printable(name)} | secuxflow inspect --pcap -` : `${NOT_A_CAPTURE}; check that the file is a capture and was copied whole`);
}

/** Compressed captures (tshark opens them; we read what is piped in): the format and its unpacker. */
function packedAs(head: Uint8Array): { what: string; tool: string } | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return { what: 'gzip-compressed file', tool: 'zcat' };
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return { what: 'zstd-compressed file', tool: 'zstdcat' };
  if (starts(0xfd, 0x37, 0x7a, 0x58)) return { what: 'xz-compressed file', tool: 'xzcat' };
  if (starts(0x42, 0x5a, 0x68)) return { what: 'bzip2-compressed file', tool: 'bzcat' };
  if (starts(0x04, 0x22, 0x4d, 0x18)) return { what: 'lz4-compressed file', tool: 'lz4cat' };
  return null;
}

class Reader implements CaptureReader {
  private window: ByteWindow | null = null;
  private consumed = 0;
  timestampsOutOfRange = 0;

  constructor(
    readonly name: string,
    readonly format: CaptureFormat,
    readonly totalBytes: number,
    private readonly openWindow: () => ByteWindow,
  ) {}

  get bytesRead(): number {
    return this.window ? this.window.offset : this.consumed;
  }

  // The format's generator is returned itself (no yield* through a second
  // generator per frame); it calls begin() when iteration starts and end()
  // however it stops.
  frames(): Iterable<RawFrame> {
    return this.format === 'pcap' ? readPcap(this.name, this) : readPcapng(this.name, this);
  }

  begin(): ByteWindow {
    const w = this.openWindow();
    this.window = w;
    this.timestampsOutOfRange = 0;
    return w;
  }

  end(w: ByteWindow): void {
    this.consumed = w.offset;
    this.window = null;
    w.close();
  }
}

/** Opens the byte window of one frames() iteration and closes it. */
interface WindowOwner {
  begin(): ByteWindow;
  end(w: ByteWindow): void;
  timestampsOutOfRange: number;
}

/**
 * Numbers frames for DecodedPacket.srcSeq: a block of numbers per buffer,
 * and a number skipped whenever something other than framing (a pcapng
 * block that is not a packet) sits between two frames.
 */
class FrameNumbers {
  private buf: Uint8Array | null = null;
  private next = 0;

  /** The frame's number, or -1 when its bytes are a copy (an unstable window). */
  take(w: ByteWindow, adjacent: boolean): number {
    if (!w.stableViews) return -1;
    if (w.buf !== this.buf) {
      this.buf = w.buf;
      // A frame takes at least 12 bytes of a buffer, a skip at least 12 more.
      this.next = reserveFrameSeqs(Math.ceil(w.buf.length / 6) + 1);
    } else if (!adjacent) {
      this.next++;
    }
    return this.next++;
  }
}

function frameBytes(w: ByteWindow, at: number, len: number): Uint8Array {
  // A window that may rewrite its buffer needs frames that own their bytes.
  return w.stableViews ? new Uint8Array(w.buf.buffer, w.buf.byteOffset + at, len) : w.buf.slice(at, at + len);
}

/** The classic pcap file header at the window's position (not consumed); CaptureError when it is cut short. */
function pcapHeader(name: string, w: ByteWindow): { le: boolean; nano: boolean; snaplenField: number; linkType: LinkType } {
  if (!w.ensure(24)) {
    throw new CaptureError(name, w.offset, `truncated pcap file header: 24 bytes needed, ${w.remaining()} present`,
      'the file ends inside its header: it was cut short, or is not a capture');
  }
  const magic = u32(w.buf, w.start, false);
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  return {
    le,
    nano: magic === 0xa1b23c4d || magic === 0x4d3cb2a1,
    snaplenField: u32(w.buf, w.start + 16, le),
    linkType: (u32(w.buf, w.start + 20, le) & 0xffff) as LinkType,
  };
}

/**
 * The length of the pcapng block at the window's position, once the whole
 * block is in the window (not consumed); CaptureError when its lengths are
 * corrupt or it is cut short.
 */
function blockLength(name: string, w: ByteWindow, type: number, le: boolean): number {
  const blockAt = w.offset;
  const total = u32(w.buf, w.start + 4, le);
  if (total < 12 || total % 4 !== 0 || total > MAX_FRAME) {
    throw new CaptureError(name, blockAt, `invalid block length ${total} for block type ${hex32(type)} (must be >= 12, a multiple of 4 and at most ${MAX_FRAME})`,
      'garbage where a pcapng block should start');
  }
  if (!w.ensure(total)) {
    throw new CaptureError(name, blockAt, `truncated block: header says ${total} bytes, ${w.remaining()} remain`, CUT_SHORT);
  }
  // ensure() may have slid the window: take the block's position afresh.
  const trailing = u32(w.buf, w.start + total - 4, le);
  if (trailing !== total) {
    throw new CaptureError(name, blockAt, `block trailing length ${trailing} != leading length ${total}`,
      'garbage or a damaged block');
  }
  return total;
}

/**
 * The pcapng section header block at the window's position, whole and of
 * version 1.x (not consumed): its byte order and length.
 */
function sectionHeader(name: string, w: ByteWindow): { le: boolean; total: number } {
  const blockAt = w.offset;
  if (!w.ensure(12)) {
    throw new CaptureError(name, blockAt, `truncated block header: 12 bytes needed, ${w.remaining()} remain`, CUT_SHORT);
  }
  const bom = u32(w.buf, w.start + 8, true);
  let le: boolean;
  if (bom === BYTE_ORDER_MAGIC) le = true;
  else if (bom === 0x4d3c2b1a) le = false;
  else throw new CaptureError(name, blockAt + 8, `bad section byte-order magic ${hex32(u32(w.buf, w.start + 8, false))}`, NOT_A_CAPTURE);
  const total = blockLength(name, w, PCAPNG_SHB, le);
  // Another major version lays blocks out differently: read as 1.x, it would give garbage frames.
  const bodyAt = w.start + 8;
  if (total - 12 < 16) throw new CaptureError(name, blockAt, `section header block body ${total - 12} < 16 bytes`);
  const major = u16(w.buf, bodyAt + 4, le);
  if (major !== 1) {
    throw new CaptureError(name, blockAt, `pcapng section version ${major}.${u16(w.buf, bodyAt + 6, le)} is not supported (1.x is)`,
      'save the capture as pcapng 1.0 or classic pcap (editcap -F pcapng or -F pcap)');
  }
  return { le, total };
}

/**
 * The format of the capture at the window's position, once its file header
 * (a pcap's, or a pcapng's first section header block) has been read whole
 * and checked; nothing is consumed. A capture that fails here fails before a
 * run opens any output.
 */
function checkHeader(name: string, w: ByteWindow): CaptureFormat {
  w.ensure(4);
  const format = detectFormat(name, w.buf.subarray(w.start, Math.min(w.start + 4, w.end)));
  if (format === 'pcap') pcapHeader(name, w);
  else sectionHeader(name, w);
  return format;
}

/**
 * Whether the next record or block header (`size` bytes) is in the window:
 * false where the capture ends between two of them, CaptureError where it
 * ends inside one.
 */
function headerFollows(name: string, w: ByteWindow, size: number, what: 'record' | 'block'): boolean {
  if (w.ensure(size)) return true;
  const left = w.remaining();
  if (left === 0) return false;
  throw new CaptureError(name, w.offset, `truncated ${what} header: ${size} bytes needed, ${left} remain`, CUT_SHORT);
}

function* readPcap(name: string, owner: WindowOwner): Generator<RawFrame> {
  const w = owner.begin();
  try {
    const { le, nano, snaplenField, linkType } = pcapHeader(name, w);
    const largest = largestFrame(snaplenField);
    w.start += 24;
    const numbers = new FrameNumbers();
    for (;;) {
      const recordAt = w.offset;
      if (!headerFollows(name, w, 16, 'record')) return;
      const b = w.buf;
      const h = w.start;
      const tsSec = u32(b, h, le);
      const frac = u32(b, h + 4, le);
      const caplen = u32(b, h + 8, le);
      const wireLen = u32(b, h + 12, le);
      if (caplen > largest) {
        throw new CaptureError(name, recordAt, `record captured length ${caplen} > ${largest}, the largest frame read (the file's snaplen is ${snaplenField})`,
          'the record header is corrupt');
      }
      // A fraction of a second or more (a broken clock or writer) is still a
      // time: tshark reads such a record (its expert info notes "Fractional
      // second ... is invalid") and the instant it shows is seconds +
      // fraction. So the whole seconds are carried over, and the run says how
      // many records needed it, rather than losing the rest of the capture.
      let sec = tsSec;
      let nsec = nano ? frac : frac * 1000;
      if (nsec >= 1e9) {
        owner.timestampsOutOfRange++;
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
      if (!w.ensure(16 + caplen)) {
        throw new CaptureError(name, recordAt, `truncated record: header says ${caplen} bytes, ${w.remaining() - 16} remain`, CUT_SHORT);
      }
      const data = frameBytes(w, w.start + 16, caplen);
      const seq = numbers.take(w, true);
      const offset = w.buf.byteOffset + w.start + 16;
      w.start += 16 + caplen;
      yield { data, linkType, wireLen: Math.max(wireLen, caplen), tsSec: sec, tsNsec: nsec, iface: 0, seq, offset };
    }
  } finally {
    owner.end(w);
  }
}

interface Iface {
  linkType: LinkType;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  offsetSec: number;
  /** The IDB's clock options, for an error about a timestamp they produced. */
  clock?: string;
}

function parseIdb(name: string, b: Uint8Array, bodyAt: number, bodyEnd: number, le: boolean, blockAt: number): Iface {
  if (bodyEnd - bodyAt < 8) throw new CaptureError(name, blockAt, `interface description block body ${bodyEnd - bodyAt} < 8 bytes`);
  const iface: Iface = { linkType: u16(b, bodyAt, le) as LinkType, snaplen: u32(b, bodyAt + 4, le), unitsPerSec: 1e6, offsetSec: 0 };
  let at = bodyAt + 8;
  let tsresol = 6;
  while (at + 4 <= bodyEnd) {
    const code = u16(b, at, le);
    const len = u16(b, at + 2, le);
    if (code === 0) break;
    const v = at + 4;
    if (v + len > bodyEnd) throw new CaptureError(name, at - bodyAt + blockAt + 8, `interface option ${code} length ${len} runs past the block`);
    if (code === 9 && len >= 1) {
      const r = b[v]!;
      const units = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      if (units > 2 ** 64) throw new CaptureError(name, v - bodyAt + blockAt + 8, `if_tsresol ${r} is finer than 64-bit timestamps allow`);
      iface.unitsPerSec = units;
      tsresol = r;
    } else if (code === 14 && len >= 8) {
      // A signed 64-bit count of seconds: a capture taken behind UTC has a negative one.
      iface.offsetSec = u32(b, le ? v : v + 4, le) + (u32(b, le ? v + 4 : v, le) | 0) * 2 ** 32;
    }
    at = v + ((len + 3) & ~3);
  }
  iface.clock = `if_tsresol ${tsresol & 0x80 ? `2^-${tsresol & 0x7f}` : `10^-${tsresol}`} s, if_tsoffset ${iface.offsetSec} s`;
  return iface;
}

function splitTimestamp(high: number, low: number, iface: Iface): [number, number] {
  const per = iface.unitsPerSec;
  const units = high * 4294967296 + low;
  if (units <= Number.MAX_SAFE_INTEGER && per <= Number.MAX_SAFE_INTEGER) {
    const sec = Math.floor(units / per);
    const rest = units - sec * per;
    return [sec + iface.offsetSec, Math.floor((rest * 1e9) / per)];
  }
  const big = (BigInt(high) << 32n) | BigInt(low);
  const bigPer = BigInt(per);
  const sec = big / bigPer;
  return [Number(sec) + iface.offsetSec, Number(((big - sec * bigPer) * 1_000_000_000n) / bigPer)];
}

function* readPcapng(name: string, owner: WindowOwner): Generator<RawFrame> {
  const w = owner.begin();
  try {
    let le = true;
    let ifaces: Iface[] = [];
    let sawShb = false;
    const numbers = new FrameNumbers();
    // Whether the block just read was a packet block: only then is a frame adjacent to the one before.
    let afterPacket = false;
    for (;;) {
      const blockAt = w.offset;
      if (!headerFollows(name, w, 12, 'block')) return;
      if (u32(w.buf, w.start, false) === PCAPNG_SHB) {
        const shb = sectionHeader(name, w);
        le = shb.le;
        ifaces = [];
        sawShb = true;
        afterPacket = false;
        w.start += shb.total;
        continue;
      }
      if (!sawShb) throw new CaptureError(name, blockAt, 'pcapng file does not start with a section header block', NOT_A_CAPTURE);
      const type = u32(w.buf, w.start, le);
      const total = blockLength(name, w, type, le);
      const h = w.start;
      const b = w.buf;
      const bodyAt = h + 8;
      const bodyEnd = h + total - 4;
      let frame: RawFrame | null = null;
      if (type === 1) {
        ifaces.push(parseIdb(name, b, bodyAt, bodyEnd, le, blockAt));
      } else if (type === 6 || type === 2) {
        // EPB: if(4) ts(8) caplen(4) len(4); obsolete PB: if(2) drops(2) ts(8) caplen(4) len(4).
        if (bodyEnd - bodyAt < 20) throw new CaptureError(name, blockAt, `packet block body ${bodyEnd - bodyAt} < 20 bytes`);
        const ifIndex = type === 6 ? u32(b, bodyAt, le) : u16(b, bodyAt, le);
        const iface = ifaces[ifIndex];
        if (!iface) {
          throw new CaptureError(name, blockAt, `packet block references interface ${ifIndex}, but this section describes ${ifaces.length === 0 ? 'no interface' : ifaces.length === 1 ? 'only 1 interface (index 0)' : `only ${ifaces.length} interfaces (0..${ifaces.length - 1})`}`,
            NO_IDB_HINT);
        }
        const caplen = u32(b, bodyAt + 12, le);
        if (caplen > bodyEnd - bodyAt - 20) {
          throw new CaptureError(name, blockAt, `packet block captured length ${caplen} > ${bodyEnd - bodyAt - 20} bytes in the block`);
        }
        if (caplen > largestFrame(iface.snaplen)) {
          throw new CaptureError(name, blockAt, `packet captured length ${caplen} > ${largestFrame(iface.snaplen)}, the largest frame read (interface ${ifIndex}'s snaplen is ${iface.snaplen})`);
        }
        const [tsSec, tsNsec] = splitTimestamp(u32(b, bodyAt + 4, le), u32(b, bodyAt + 8, le), iface);
        if (!(tsSec >= 0 && tsSec < MAX_TS_SEC)) {
          throw new CaptureError(name, blockAt, `packet timestamp ${tsSec} s is outside the years 1970..9999 (interface ${ifIndex}: ${iface.clock})`,
            'the interface description block\'s if_tsresol or if_tsoffset is probably wrong');
        }
        frame = {
          data: frameBytes(w, bodyAt + 20, caplen), linkType: iface.linkType,
          wireLen: Math.max(u32(b, bodyAt + 16, le), caplen), tsSec, tsNsec, iface: ifIndex,
          seq: numbers.take(w, afterPacket), offset: b.byteOffset + bodyAt + 20,
        };
      } else if (type === 3) {
        const iface = ifaces[0];
        if (!iface) throw new CaptureError(name, blockAt, 'simple packet block before any interface description block', NO_IDB_HINT);
        if (bodyEnd - bodyAt < 4) throw new CaptureError(name, blockAt, `simple packet block body ${bodyEnd - bodyAt} < 4 bytes`);
        const wireLen = u32(b, bodyAt, le);
        const room = bodyEnd - bodyAt - 4;
        // Snaplen 0 means no limit, so the whole packet must be there: taking
        // what the block holds would pass padding off as a snaplen-cut frame.
        const caplen = iface.snaplen === 0 ? wireLen : Math.min(wireLen, iface.snaplen);
        if (caplen > room) {
          throw new CaptureError(name, blockAt, `simple packet block needs ${caplen} bytes, ${room} in the block`);
        }
        frame = {
          data: frameBytes(w, bodyAt + 4, caplen), linkType: iface.linkType, wireLen, tsSec: 0, tsNsec: 0, iface: 0,
          seq: numbers.take(w, afterPacket), offset: b.byteOffset + bodyAt + 4,
        };
      }
      afterPacket = frame !== null;
      w.start += total;
      if (frame) yield frame;
    }
  } finally {
    owner.end(w);
  }
}

/** Reads a capture from memory (tests, dry runs). Frames are views into `bytes`: do not change it while they are in use. */
export function captureFromBytes(bytes: Uint8Array, name = '<memory>'): CaptureReader {
  const format = checkHeader(name, new MemoryWindow(bytes));
  return new Reader(name, format, bytes.length, () => new MemoryWindow(bytes));
}

/**
 * Opens a capture file; the format is detected now, frames are read lazily in
 * chunks. '-' is standard input; it and other pipes are read as streams.
 */
/** What a path that cannot be read as a capture is, by errno: Node's own text names a syscall, not the problem. */
const CAPTURE_PATH_PROBLEMS: Record<string, [string, string]> = {
  ENOENT: ['does not exist', 'check the path'],
  EISDIR: ['is a directory', 'give the capture file inside it'],
  EACCES: ['is not readable (permission denied)', 'run as a user that can read it, or copy it somewhere readable'],
  ENOTDIR: ['cannot exist: a directory on its path is a file', 'check the path'],
};

export function openCapture(path: string): CaptureReader {
  if (path === '') throw new SecuxflowError('E_USAGE', '--pcap needs a file name', 'give a .pcap or .pcapng file, or - to read standard input');
  if (path === '-' || isStream(path)) return openStream(path);
  let size: number;
  let format: CaptureFormat;
  try {
    size = statSync(path).size;
    const w = new FileWindow(path, size);
    try {
      format = checkHeader(path, w);
    } finally {
      w.close();
    }
  } catch (e) {
    if (e instanceof CaptureError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const known = code !== undefined ? CAPTURE_PATH_PROBLEMS[code] : undefined;
    if (known) throw new SecuxflowError('E_IO', printable(`the capture ${path} ${known[0]}`), known[1]);
    throw new SecuxflowError('E_IO', printable(`cannot read capture '${path}': ${(e as Error).message}`),
      code === 'ESPIPE' ? 'captures are read from regular files (they are read in chunks, with seeks): save a pipe to a file first'
        : 'check the path and that the file is readable');
  }
  return new Reader(path, format, size, () => new FileWindow(path, size));
}

function isStream(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFIFO() || st.isSocket() || st.isCharacterDevice();
  } catch {
    return false; // openCapture reports the path
  }
}

/**
 * A pipe (`tcpdump -w - | secuxflow inspect --pcap -`, `zcat x.pcap.gz | ...`):
 * the window that sniffed the format is the one frames() reads, since what
 * was read cannot be read again, and so the capture can be iterated once.
 */
function openStream(path: string): CaptureReader {
  const name = path === '-' ? '<stdin>' : path;
  let w: FileWindow;
  try {
    w = new FileWindow(path === '-' ? 0 : path, 0, true);
  } catch (e) {
    // A socket (what a parent process often passes as stdin) cannot be
    // reopened through /dev/stdin or /dev/fd/N: read the descriptor itself.
    const fd = /^\/dev\/stdin$/.test(path) ? 0 : Number(/^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(path)?.[1] ?? -1);
    if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || fd < 0) throw streamError(name, e);
    w = new FileWindow(fd, 0, true);
  }
  let format: CaptureFormat;
  try {
    format = checkHeader(name, w);
  } catch (e) {
    w.close();
    throw e instanceof CaptureError ? e : streamError(name, e);
  }
  let handedOut = false;
  return new Reader(name, format, 0, () => {
    if (handedOut) throw new SecuxflowError('E_USAGE', `the capture from ${name} was already read: a pipe can be read once`);
    handedOut = true;
    return w;
  });
}

function streamError(name: string, e: unknown): SecuxflowError {
  return new SecuxflowError('E_IO', printable(`cannot read capture ${name}: ${(e as Error).message}`), 'check that the pipe has a writer');
}
