// FTP opens a new TCP connection per file, to a port one side names on the
// control connection (port 21): the server's 227/229 reply to PASV/EPSV
// (passive mode, the client connects) or the client's PORT/EPRT command
// (active mode, the server connects). A mirror fetching 20 files in 10 s is
// 20 distinct ports, a SYN scan by count. A data connection to exactly the
// port announced on a control connection between the same two hosts, within
// a minute, is not counted as a probe: the side that connects does not pick
// the port, so this exempts no port a scanner chooses.
import { Packet, IpProto } from "../sdk";
import { U64Map, addrKey, mix64 } from "../sdk/lib";

const FTP_CONTROL: u16 = 21;
/** How long an announced port stays expected, in ms: clients connect within seconds. */
const EXPECTED_FOR_MS: i32 = 60000;
/** Announcements remembered at most; the table is emptied when full (the next data connections then count, erring toward detection). */
const REMEMBERED: i32 = 4096;

export class FtpDataPorts {
  private announced: U64Map = new U64Map(REMEMBERED);

  /** Reads a control-connection segment for an announced data port (nowMs: the module's relative clock). */
  observe(pkt: Packet, nowMs: i32): void {
    if (pkt.proto != IpProto.TCP || pkt.payloadLength < 8) return;
    let port = -1;
    if (pkt.srcPort == FTP_CONTROL && pkt.direction == 1) {
      // the server's reply: the client will connect to the server
      port = passiveReplyPort(pkt);
      if (port > 0) this.remember(dataKey(pkt.dstAddrPtr, pkt.srcAddrPtr, pkt.ipVersion, <u16>port), nowMs);
    } else if (pkt.dstPort == FTP_CONTROL && pkt.direction == 0) {
      // the client's command: the server will connect to the client
      port = activeCommandPort(pkt);
      if (port > 0) this.remember(dataKey(pkt.dstAddrPtr, pkt.srcAddrPtr, pkt.ipVersion, <u16>port), nowMs);
    }
  }

  /** True when this SYN opens a data connection announced on a control connection within the last minute. */
  expected(pkt: Packet, nowMs: i32): bool {
    if (this.announced.size == 0) return false;
    const at = this.announced.get(dataKey(pkt.srcAddrPtr, pkt.dstAddrPtr, pkt.ipVersion, pkt.dstPort), i32.MIN_VALUE);
    return at != i32.MIN_VALUE && nowMs - at >= 0 && nowMs - at < EXPECTED_FOR_MS;
  }

  private remember(key: u64, nowMs: i32): void {
    if (this.announced.size >= REMEMBERED) this.announced.clear();
    this.announced.set(key, nowMs);
  }
}

/** Who connects, to whom, on which port: the data connection's own addresses (exact, not per /64). */
function dataKey(connector: usize, acceptor: usize, version: u8, port: u16): u64 {
  return mix64(addrKey(connector, version) ^ mix64(addrKey(acceptor, version) ^ mix64(<u64>port | (<u64>0x4654 << 32))));
}

// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." (some servers omit the
// parentheses: RFC 1123 4.1.2.6 has clients take the first digits after the
// code) or "229 Entering Extended Passive Mode (|||port|)" (RFC 2428).
function passiveReplyPort(pkt: Packet): i32 {
  for (let at = 0; at >= 0; at = nextLine(pkt, at)) {
    if (startsWith(pkt, at, "227 ")) return commaPort(pkt, firstDigit(pkt, at + 4));
    if (startsWith(pkt, at, "229 ")) {
      const open = find(pkt, at + 4, 0x28); // '('
      return open < 0 ? -1 : delimitedPort(pkt, open + 1, 2);
    }
  }
  return -1;
}

// "PORT h1,h2,h3,h4,p1,p2" or "EPRT |1|132.235.1.2|6275|" (RFC 2428), any case.
function activeCommandPort(pkt: Packet): i32 {
  if (startsWith(pkt, 0, "PORT ")) return commaPort(pkt, 5);
  if (startsWith(pkt, 0, "EPRT ")) return delimitedPort(pkt, 5, 2);
  return -1;
}

/** Six comma-separated numbers from `at`; the port is the last two. */
function commaPort(pkt: Packet, at: i32): i32 {
  if (at < 0) return -1;
  let field = 0, value = 0, hi = 0, digits = 0;
  for (let i = at; ; i++) {
    const c = pkt.payloadU8(i);
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return -1;
      continue;
    }
    if (digits == 0) return -1;
    if (field == 4) hi = value;
    if (field == 5) return hi * 256 + value;
    if (c != 0x2c) return -1; // ','
    field++; value = 0; digits = 0;
  }
  return -1;
}

/** The number after the first skip + 1 delimiters, the delimiter being the byte at `at` (RFC 2428's "|||port|", "|1|addr|port|"). */
function delimitedPort(pkt: Packet, at: i32, skip: i32): i32 {
  const d = pkt.payloadU8(at);
  if (d < 0x21 || d > 0x7e) return -1;
  let i = at;
  for (let seen = 0; seen <= skip; i++) {
    const c = pkt.payloadU8(i);
    if (c < 0 || c == 0x0a) return -1;
    if (c == d) seen++;
  }
  let value = 0, digits = 0;
  for (; ; i++) {
    const c = pkt.payloadU8(i);
    if (c == d) return digits > 0 && value > 0 ? value : -1;
    if (c < 0x30 || c > 0x39 || ++digits > 5) return -1;
    value = value * 10 + (c - 0x30);
    if (value > 65535) return -1;
  }
  return -1;
}

function startsWith(pkt: Packet, at: i32, word: string): bool {
  for (let i = 0; i < word.length; i++) {
    let c = pkt.payloadU8(at + i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20; // commands are case-insensitive
    if (c != word.charCodeAt(i)) return false;
  }
  return true;
}

function firstDigit(pkt: Packet, at: i32): i32 {
  for (let i = at; ; i++) {
    const c = pkt.payloadU8(i);
    if (c < 0 || c == 0x0a) return -1;
    if (c >= 0x30 && c <= 0x39) return i;
  }
  return -1;
}

function find(pkt: Packet, at: i32, byte: i32): i32 {
  for (let i = at; ; i++) {
    const c = pkt.payloadU8(i);
    if (c < 0 || c == 0x0a) return -1;
    if (c == byte) return i;
  }
  return -1;
}

/** Start of the line after the one at `at`, or -1. */
function nextLine(pkt: Packet, at: i32): i32 {
  for (let i = at; ; i++) {
    const c = pkt.payloadU8(i);
    if (c < 0) return -1;
    if (c == 0x0a) return pkt.payloadU8(i + 1) < 0 ? -1 : i + 1;
  }
  return -1;
}
