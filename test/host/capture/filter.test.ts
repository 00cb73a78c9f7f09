// --filter against tcpdump itself: the same expressions over one capture of
// IPv4 and IPv6 TCP, UDP, ICMP and fragments select the same frames.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../../../host/capture/filter.js';
import { openCapture } from '../../../host/capture/reader.js';
import { PcapWriter } from '../../../host/capture/writer.js';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { toolOrSkip } from '../../cli/support.js';
import { tempDir } from '../../support/temp-dir.js';

const EXPRESSIONS = [
  'tcp', 'udp', 'icmp', 'icmp6', 'ip', 'ip6',
  'host 198.18.0.1', 'src host 198.18.0.1', 'dst host 198.18.0.1', 'host 2001:db8::2',
  'net 198.18.0.0/24', 'dst net 198.18.1.0/24', 'src net 2001:db8::/64', 'net 10.0.0.0/8',
  'port 80', 'src port 80', 'dst port 53', 'tcp port 80', 'udp port 80', 'portrange 1000-2000', 'dst portrange 50-60',
  'tcp and dst port 443', 'not tcp', 'udp or icmp', '!(port 80 or port 53)', 'tcp && !port 22', 'ip6 and tcp',
  'src or dst host 198.18.0.1', 'src and dst net 198.18.0.0/16', 'host 198.18.0.1 and (port 80 or port 443)',
  'not ip6 and not icmp', 'tcp dst port 80', 'ip6 host 2001:db8::1',
  // and / or bind alike, left to right
  'tcp or udp and port 53', 'icmp or udp and dst port 53', 'port 80 and tcp or icmp6', 'not tcp and udp or icmp', 'udp || tcp && port 443',
  // a direction with an address is a host; a bare value takes the qualifiers before it
  'src 198.18.0.1', 'dst 2001:db8::2 or 2001:db8::1', 'src or dst 198.18.0.1', 'port 80 or 443', 'tcp dst port 80 or 22',
  'host 198.18.0.1 or 198.18.1.7', 'not host 198.18.0.1 and 198.18.0.2', 'host 198.18.0.1 or not 198.18.0.2',
  'portrange 20-23 or 50-60', 'net 198.18.0.0/24 or 10.0.0.0/8', 'udp and src port 53 or 55',
];

function frames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const hosts4 = ['198.18.0.1', '198.18.0.2', '198.18.1.7', '10.1.2.3'];
  const hosts6 = ['2001:db8::1', '2001:db8::2', '2001:db8:1::9'];
  const ports = [22, 53, 80, 443, 1234, 55];
  let n = 0;
  for (const family of [hosts4, hosts6]) {
    for (const src of family) {
      for (const dst of family) {
        if (src === dst) continue;
        for (const proto of ['tcp', 'udp', 'icmp'] as const) {
          const sp = ports[n % ports.length]!, dp = ports[(n * 7 + 3) % ports.length]!;
          n++;
          const spec: PacketSpec = proto === 'icmp' ? { src, dst, proto } : { src, dst, proto, srcPort: sp, dstPort: dp, payload: new Uint8Array(40) };
          out.push(buildPacket(spec));
        }
      }
    }
  }
  // First and later fragments: only the first has ports.
  out.push(...fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.1.7', proto: 'udp', srcPort: 5000, dstPort: 80, payload: new Uint8Array(64) }), 32));
  out.push(...fragmentIp(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 9, dstPort: 9, payload: new Uint8Array(64) }), 32));
  return out;
}

describe('--filter', () => {
  let pcap = '';
  let dir = '';
  beforeAll(() => {
    dir = tempDir('filter');
    pcap = join(dir, 'mixed.pcap');
    const w = new PcapWriter({ path: pcap, linkType: LinkType.ETHERNET });
    frames().forEach((data, i) => w.write({ data, tsSec: 1_767_225_600 + i, tsNsec: 0 }));
    w.close();
  });

  const ours = (expr: string): number[] => {
    const f = compileFilter(expr);
    const picked: number[] = [];
    let i = 0;
    for (const fr of openCapture(pcap).frames()) {
      if (f(decodePacket(fr.data, fr.linkType, fr.tsSec, fr.tsNsec, fr.wireLen))) picked.push(fr.tsSec);
      i++;
    }
    expect(i).toBeGreaterThan(50);
    return picked;
  };

  it.runIf(toolOrSkip('tcpdump')).each(EXPRESSIONS)('selects what tcpdump selects: %s', (expr) => {
    const out = join(dir, `${EXPRESSIONS.indexOf(expr)}.pcap`);
    execFileSync('tcpdump', ['-r', pcap, '-w', out, expr], { stdio: 'pipe' });
    const theirs = [...openCapture(out).frames()].map((fr) => fr.tsSec);
    expect(ours(expr)).toEqual(theirs);
  });

  // tcpdump's port looks right after the fixed IPv6 header; the rules and the
  // engine find ports past extension headers, and so does the filter.
  it.runIf(toolOrSkip('tcpdump'))('finds an IPv6 first fragment\'s ports past its fragment header, where tcpdump does not look', () => {
    const file = join(dir, 'ip6-frag.pcap');
    const w = new PcapWriter({ path: file, linkType: LinkType.ETHERNET });
    const [first] = fragmentIp(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', srcPort: 1500, dstPort: 443, payload: new Uint8Array(64) }), 32);
    w.write({ data: first!, tsSec: 1, tsNsec: 0 });
    w.close();
    const out = join(dir, 'ip6-frag-out.pcap');
    execFileSync('tcpdump', ['-r', file, '-w', out, 'port 443'], { stdio: 'pipe' });
    expect([...openCapture(out).frames()]).toHaveLength(0);
    expect(compileFilter('tcp dst port 443')(decodePacket(first!, LinkType.ETHERNET))).toBe(true);
  });

  it('and / or bind alike, left to right, as in tcpdump: tcp or udp and port 53 is (tcp or udp) and port 53', () => {
    const f = compileFilter('tcp or udp and port 53');
    const web = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80 });
    const dns = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 53 });
    expect(f(decodePacket(web, LinkType.ETHERNET))).toBe(false);
    expect(f(decodePacket(dns, LinkType.ETHERNET))).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['198.18.0.2', /a bare address 198\.18\.0\.2: write host 198\.18\.0\.2/],
    ['10.0.0.0/8', /a bare network 10\.0\.0\.0\/8: write net 10\.0\.0\.0\/8/],
    ['src 10.0.0.0/8', /a network needs its keyword: write src net 10\.0\.0\.0\/8/],
    ['tcp or 80', /80 has no keyword: write port 80/],
    ['udp and dst 53', /53 has no keyword: write dst port 53/],
    ['port 80 or 10.0.0.1', /"10\.0\.0\.1" is not a port number/],
    ['tcp prt 80', /"prt" is not a word this filter knows \(did you mean "port"\?\)/],
    ['vlan and tcp port 80', /"vlan" is not a word this filter knows: it looks through VLAN tags by itself, so leave out "vlan and"/],
    ['mpls and host 10.0.0.1', /it looks through MPLS labels by itself/],
    ['host 10.0.0.0/8', /a host is one address; use net 10\.0\.0\.0\/8/],
    ['net 10.0.0.1/8', /net 10\.0\.0\.1\/8 has bits set past its \/8: write net 10\.0\.0\.0\/8, or host 10\.0\.0\.1 for the one address/],
    ['src net 2001:db8::1/64', /write net 2001:db8::\/64, or host 2001:db8::1/],
    ['port 70000', /"70000" is not a port number in 0-65535/],
    ['portrange 90-80', /not a port range LO-HI/],
    ['(tcp', /a "\(" is not closed/],
    ['tcp port', /ends too soon/],
    ['host 300.1.1.1', /not an IPv4 or IPv6 address/],
    ['tcp udp', /unexpected "udp" \(join primitives with and \/ or\)/],
  ])('refuses %j, naming the problem', (expr, message) => {
    expect(() => compileFilter(expr)).toThrow(message);
  });
});
