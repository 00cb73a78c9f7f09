// Text forms for the `dns` event, with Suricata's spellings: record types
// ("A", "AAAA", "TXT"), response codes ("NOERROR", "NXDOMAIN") and rdata.
import { NameBuf, readName } from "./name";

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

/** rdata as Suricata prints it for the common types; null for types it has no text form for here. */
export function rdataText(base: usize, msgLen: i32, type: i32, off: i32, len: i32): string | null {
  const p = base + <usize>off;
  if (type == 1) {
    if (len != 4) return null;
    return load<u8>(p).toString() + "." + load<u8>(p, 1).toString() + "." + load<u8>(p, 2).toString() + "." + load<u8>(p, 3).toString();
  }
  if (type == 28) return len == 16 ? ipv6Text(p) : null;
  if (type == 2 || type == 5 || type == 12 || type == 39) {
    return readName(base, msgLen, off, rdataName) < 0 ? null : rdataName.toString();
  }
  if (type == 15) {
    if (len < 3) return null;
    return readName(base, msgLen, off + 2, rdataName) < 0 ? null : rdataName.toString();
  }
  if (type == 16) return txtText(p, len);
  return null;
}

/** RFC 5952 form: lower-case hex, longest run of two or more zero groups as "::". */
export function ipv6Text(p: usize): string {
  let bestAt = -1, bestLen = 1, runAt = -1, runLen = 0;
  for (let g = 0; g < 8; g++) {
    if (load<u16>(p + <usize>(g * 2)) == 0) {
      if (runAt < 0) { runAt = g; runLen = 0; }
      runLen++;
      if (runLen > bestLen) { bestLen = runLen; bestAt = runAt; }
    } else runAt = -1;
  }
  let s = "";
  for (let g = 0; g < 8; g++) {
    if (g == bestAt) { s += "::"; g += bestLen - 1; continue; }
    if (s.length > 0 && !s.endsWith(":")) s += ":";
    s += (<u32>bswap<u16>(load<u16>(p + <usize>(g * 2)))).toString(16);
  }
  return s;
}

// TXT rdata is a sequence of <len><bytes> strings; printed joined, unprintables escaped.
function txtText(p: usize, len: i32): string {
  let s = "";
  let i = 0;
  while (i < len) {
    const n = <i32>load<u8>(p + <usize>i);
    i++;
    const end = i + n < len ? i + n : len;
    for (; i < end; i++) {
      const c = load<u8>(p + <usize>i);
      s += c >= 0x20 && c < 0x7f && c != 0x5c ? String.fromCharCode(c) : "\\" + (<u32>c).toString().padStart(3, "0");
    }
  }
  return s;
}
