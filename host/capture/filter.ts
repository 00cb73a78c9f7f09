// `inspect --pcap FILE --filter EXPR`: tcpdump's filter language, the part
// of it that names hosts, networks, ports and protocols, evaluated on the
// decoded packet. As with tcpdump's or Suricata's BPF filter, a packet that
// does not match is never read: the engine, the counters and the outputs do
// not see it.
//
// Grammar (tcpdump's words and precedence: not binds tightest, and `and` and
// `or` bind alike, left to right, so `tcp or udp and port 53` is
// `(tcp or udp) and port 53`, as pcap-filter(7) says):
//   expr      := factor (("and" | "&&" | "or" | "||") factor)*
//   factor    := ("not" | "!") factor | "(" expr ")" | primitive
//   primitive := [proto] [dir] ("host" ADDR | "net" CIDR | "port" N | "portrange" N-M)
//              | [proto] dir ADDR                 (a host, as in tcpdump: src 10.0.0.1)
//              | VALUE                            (after a qualified primitive: see below)
//              | proto
//   proto     := ip | ip6 | tcp | udp | icmp | icmp6
//   dir       := src | dst | "src or dst" | "src and dst"
// As in tcpdump, a bare value takes the qualifiers of the primitive before
// it: `port 80 or 443` is `port 80 or port 443`, `tcp dst port 80 or 22` is
// `... or tcp dst port 22`, `not host a and b` is `not host a and host b`.
// A bare value with no qualified primitive before it is refused, as tcpdump
// refuses it.
// A later fragment, which has no ports, matches no port primitive (as in
// tcpdump). Differences from tcpdump, on purpose: VLAN tags are looked through
// (tcpdump needs `vlan and ...` to reach inside a tagged frame), IPv6 ports
// are found past extension headers (tcpdump's port looks only right after
// the fixed header), and host and net match IP addresses only (tcpdump's
// also match ARP's).
import { SecuxflowError } from '../errors.js';
import { parseIp } from '../packet/addr.js';
import type { DecodedPacket } from '../packet/types.js';
import { cidrContains, parseCidr } from '../rules/cidr.js';
import type { Cidr } from '../rules/types.js';
import { suggestName } from '../rules/suggest.js';

export type PacketFilter = (pkt: DecodedPacket) => boolean;

const PROTOS: Record<string, (p: DecodedPacket) => boolean> = {
  ip: (p) => p.ipVersion === 4,
  ip6: (p) => p.ipVersion === 6,
  tcp: (p) => p.proto === 6,
  udp: (p) => p.proto === 17,
  icmp: (p) => p.ipVersion === 4 && p.proto === 1,
  icmp6: (p) => p.ipVersion === 6 && p.proto === 58,
};
const SUPPORTED = 'host, net, port, portrange, src, dst, ip, ip6, tcp, udp, icmp, icmp6, and, or, not, parentheses';

type Dir = 'src' | 'dst' | 'either' | 'both';
type Kind = 'host' | 'net' | 'port' | 'portrange';
const KINDS: readonly string[] = ['host', 'net', 'port', 'portrange'];
const DIR_WORDS: Record<Dir, string> = { src: 'src', dst: 'dst', either: 'src or dst', both: 'src and dst' };

/** What a qualified primitive says besides its value: what tcpdump lends the bare values after it. */
interface Qualifiers {
  proto: ((p: DecodedPacket) => boolean) | null;
  dir: Dir;
  kind: Kind;
}

/** An address, network, port or range written without a keyword (not a word such as "prt"). */
function isBareValue(token: string): boolean {
  return /^[0-9a-f:./-]+$/i.test(token) && /[\d:]/.test(token);
}

const both = (a: PacketFilter, b: PacketFilter): PacketFilter => (p) => a(p) && b(p);
const either = (a: PacketFilter, b: PacketFilter): PacketFilter => (p) => a(p) || b(p);
const JOINS = new Map([['and', both], ['&&', both], ['or', either], ['||', either]]);
const WORDS = ['host', 'net', 'port', 'portrange', 'src', 'dst', 'and', 'or', 'not', ...Object.keys(PROTOS)];

// tcpdump's words for the layers this filter looks through: in tcpdump they
// open the layer (`vlan and tcp port 80`); here every primitive already sees
// the packet inside, so they have nothing to do.
const LOOKED_THROUGH: Record<string, string> = { vlan: 'VLAN tags', mpls: 'MPLS labels', pppoes: 'PPPoE sessions' };

function unknownWord(word: string): string {
  const key = word.toLowerCase();
  if (Object.hasOwn(LOOKED_THROUGH, key)) {
    return `${JSON.stringify(word)} is not a word this filter knows: it looks through ${LOOKED_THROUGH[key]} by itself, so leave out "${word} and"`
      + (key === 'vlan' ? ' (a VLAN id cannot be filtered on here; a rule\'s --vlan selects one)' : '');
  }
  const close = suggestName(word, WORDS);
  return `${JSON.stringify(word)} is not a word this filter knows${close !== undefined ? ` (did you mean "${close}"?)` : ''}`;
}

function refuse(expr: string, why: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', `--filter ${JSON.stringify(expr)}: ${why}`, `a tcpdump filter with ${SUPPORTED}; for example --filter 'tcp port 80 and not host 10.0.0.1'`);
}

export function compileFilter(expr: string): PacketFilter {
  const tokens = expr.match(/\(|\)|&&|\|\||!|[^\s()!&|]+/g) ?? [];
  if (tokens.length === 0) throw refuse(expr, 'empty');
  let i = 0;
  const peek = (): string | undefined => tokens[i]?.toLowerCase();
  const next = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw refuse(expr, 'ends too soon');
    return t;
  };

  // One left-to-right run of and / or: they bind alike in tcpdump.
  const parseExpr = (): PacketFilter => {
    let left = parseNot();
    for (let join = JOINS.get(peek() ?? ''); join !== undefined; join = JOINS.get(peek() ?? '')) {
      i++;
      left = join(left, parseNot());
    }
    return left;
  };
  const parseNot = (): PacketFilter => {
    const t = peek();
    if (t === 'not' || t === '!') {
      i++;
      const f = parseNot();
      return (p) => !f(p);
    }
    if (t === '(') {
      i++;
      const f = parseExpr();
      if (tokens[i++] !== ')') throw refuse(expr, 'a "(" is not closed');
      return f;
    }
    return parsePrimitive();
  };
  const parseDir = (): Dir | null => {
    const t = peek();
    if (t !== 'src' && t !== 'dst') return null;
    i++;
    const joined = peek();
    if ((joined === 'or' || joined === 'and') && (tokens[i + 1]?.toLowerCase() === (t === 'src' ? 'dst' : 'src'))) {
      i += 2;
      return joined === 'or' ? 'either' : 'both';
    }
    return t;
  };
  // The qualifiers of the last qualified primitive, which a bare value after it takes.
  let last: Qualifiers | null = null;
  const parsePrimitive = (): PacketFilter => {
    const start = peek();
    if (start === undefined) throw refuse(expr, 'ends too soon');
    const proto = PROTOS[start];
    if (proto !== undefined) {
      i++;
      const k = peek();
      // A protocol alone, or qualifying what follows (tcp port 80, ip6 host ::1).
      if (k !== 'src' && k !== 'dst' && !KINDS.includes(k ?? '')) {
        last = null;
        return proto;
      }
      return parseQualified(proto);
    }
    if (last !== null && isBareValue(start)) return qualified(last, next());
    return parseQualified(null);
  };
  const parseQualified = (proto: Qualifiers['proto']): PacketFilter => {
    const dir = parseDir();
    const word = next();
    const k = word.toLowerCase();
    if (KINDS.includes(k)) {
      last = { proto, dir: dir ?? 'either', kind: k as Kind };
      return qualified(last, next());
    }
    if (isBareValue(word) && (word.includes('.') || word.includes(':'))) {
      const network = word.includes('/');
      if (dir === null) throw refuse(expr, `a bare ${network ? 'network' : 'address'} ${word}: write ${network ? 'net' : 'host'} ${word}, as tcpdump wants`);
      // tcpdump reads `src 10.0.0.1` as a host, and refuses a network without its keyword.
      if (network) throw refuse(expr, `a network needs its keyword: write ${DIR_WORDS[dir]} net ${word}`);
      last = { proto, dir, kind: 'host' };
      return qualified(last, word);
    }
    const ports = /^\d+-\d+$/.test(word) ? 'portrange' : /^\d+$/.test(word) ? 'port' : null;
    if (ports !== null) throw refuse(expr, `${word} has no keyword: write ${dir === null ? '' : `${DIR_WORDS[dir]} `}${ports} ${word}, as tcpdump wants`);
    throw refuse(expr, unknownWord(word));
  };
  const qualified = (q: Qualifiers, value: string): PacketFilter => {
    const f = q.kind === 'host' || q.kind === 'net'
      ? byAddress(cidrOf(expr, value, q.kind === 'host'), q.dir)
      : byPort(...portsOf(expr, value, q.kind === 'portrange'), q.dir);
    const proto = q.proto;
    return proto === null ? f : (p) => proto(p) && f(p);
  };

  const f = parseExpr();
  if (i < tokens.length) {
    const t = tokens[i]!;
    if (/^[a-z]+$/i.test(t) && !WORDS.includes(t.toLowerCase())) throw refuse(expr, unknownWord(t));
    throw refuse(expr, `unexpected ${JSON.stringify(t)} (join primitives with and / or)`);
  }
  return f;
}

function cidrOf(expr: string, text: string, host: boolean): Cidr {
  if (host && text.includes('/')) throw refuse(expr, `host ${text}: a host is one address; use net ${text}`);
  let c: Cidr;
  let written: Uint8Array;
  try {
    written = parseIp(text.split('/')[0]!);
    c = parseCidr(text);
  } catch {
    throw refuse(expr, `${JSON.stringify(text)} is not an IPv4 or IPv6 ${host ? 'address' : 'network (A.B.C.D/N)'}`);
  }
  // tcpdump refuses these too: which of the two the user meant, the host or the network, is a guess.
  if (!host && written.some((b, k) => b !== c.addr[k])) throw refuse(expr, `net ${text} has bits set past its /${c.prefixLen}: write net ${c.text}, or host ${text.split('/')[0]!} for the one address`);
  return c;
}

function portsOf(expr: string, text: string, range: boolean): [number, number] {
  const m = range ? /^(\d{1,5})-(\d{1,5})$/.exec(text) : /^(\d{1,5})$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[range ? 2 : 1]) : NaN;
  if (!m || lo > 65535 || hi > 65535 || lo > hi) throw refuse(expr, `${JSON.stringify(text)} is not a ${range ? 'port range LO-HI' : 'port number'} in 0-65535`);
  return [lo, hi];
}

function byAddress(c: Cidr, dir: Dir): PacketFilter {
  return (p) => {
    if (p.ipVersion === 0) return false;
    const s = cidrContains(c, p.src), d = cidrContains(c, p.dst);
    return dir === 'src' ? s : dir === 'dst' ? d : dir === 'both' ? s && d : s || d;
  };
}

function byPort(lo: number, hi: number, dir: Dir): PacketFilter {
  return (p) => {
    // Ports exist for TCP and UDP with their header: not in a later fragment.
    if ((p.proto !== 6 && p.proto !== 17) || p.l4Offset < 0) return false;
    const s = p.srcPort >= lo && p.srcPort <= hi, d = p.dstPort >= lo && p.dstPort <= hi;
    return dir === 'src' ? s : dir === 'dst' ? d : dir === 'both' ? s && d : s || d;
  };
}
