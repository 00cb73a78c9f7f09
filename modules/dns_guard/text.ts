// Text forms for the `dns` event, with Suricata's spellings: record types
// ("A", "AAAA", "TXT"), response codes ("NOERROR", "NXDOMAIN") and rdata.
import { NameBuf, readName } from "./name";
import { ByteJson } from "./bytejson";

export function rrtypeText(t: i32): string {
  switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 10: return "NULL";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 24: return "SIG";
    case 25: return "KEY";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 50: return "NSEC3";
    case 52: return "TLSA";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 255: return "ANY";
    case 257: return "CAA";
  }
  return t.toString();
}

export function rcodeText(r: i32): string {
  switch (r) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
  }
  return r.toString();
}

const rdataName = new NameBuf();

/** Writes `"rdata": ...` into w as Suricata prints it for A, AAAA, NS, CNAME, PTR, DNAME, MX and TXT; nothing for other types or malformed rdata. */
export function writeRdata(w: ByteJson, base: usize, msgLen: i32, type: i32, off: i32, len: i32): void {
  const p = base + <usize>off;
  if (type == 1) {
    if (len != 4) return;
    w.key("rdata").beginString();
    for (let i = 0; i < 4; i++) { if (i > 0) w.char(0x2e); w.digits(<u32>load<u8>(p + <usize>i)); }
    w.endString();
    return;
  }
  if (type == 28) {
    if (len != 16) return;
    w.key("rdata").beginString();
    writeIpv6(w, p);
    w.endString();
    return;
  }
  if (type == 2 || type == 5 || type == 12 || type == 39 || type == 15) {
    const at = type == 15 ? off + 2 : off;
    if (type == 15 && len < 3) return;
    if (readName(base, msgLen, at, rdataName) < 0) return;
    w.key("rdata").name(rdataName);
    return;
  }
  if (type == 16) {
    w.key("rdata").beginString();
    let i = 0;
    while (i < len) {
      const n = <i32>load<u8>(p + <usize>i);
      i++;
      const end = i + n < len ? i + n : len;
      for (; i < end; i++) {
        const c = load<u8>(p + <usize>i);
        if (c >= 0x20 && c < 0x7f && c != 0x5c) w.char(c); else w.ddd(c);
      }
    }
    w.endString();
  }
}

const HEX = "0123456789abcdef";

function writeIpv6(w: ByteJson, p: usize): void {
  let bestAt = -1, bestLen = 1, runAt = -1, runLen = 0;
  for (let g = 0; g < 8; g++) {
    if (load<u16>(p + <usize>(g * 2)) == 0) {
      if (runAt < 0) { runAt = g; runLen = 0; }
      runLen++;
      if (runLen > bestLen) { bestLen = runLen; bestAt = runAt; }
    } else runAt = -1;
  }
  for (let g = 0; g < 8; g++) {
    if (g == bestAt) { w.char(0x3a).char(0x3a); g += bestLen - 1; continue; }
    if (g > 0 && !(bestAt >= 0 && g == bestAt + bestLen)) w.char(0x3a);
    const v = <u32>bswap<u16>(load<u16>(p + <usize>(g * 2)));
    let started = false;
    for (let s = 12; s >= 0; s -= 4) {
      const d = (v >> s) & 15;
      if (d == 0 && !started && s > 0) continue;
      started = true;
      w.char(HEX.charCodeAt(d));
    }
  }
}
