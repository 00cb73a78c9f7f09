// DNS messages written by another encoder (scapy, with its name compression)
// into a pcap, inspected by the built CLI, and every field compared with
// tshark's dissection of the same file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectPcap } from '../lab/inspect-cli.js';
import { SKIP_TSHARK, TSHARK } from '../../host/capture/tshark.js';

const PY = '/usr/bin/python3';
const hasScapy = existsSync(PY) && spawnSync(PY, ['-c', 'import scapy.all'], { stdio: 'ignore' }).status === 0;
if (!hasScapy && process.env.CI) throw new Error('python3-scapy is needed for this test (scripts/install-system-deps.sh installs it)');
if (!hasScapy) console.warn('skipping scapy capture test: /usr/bin/python3 with scapy is not installed');

const work = mkdtempSync(join(tmpdir(), 'sfx-dns-scapy-'));
const pcap = join(work, 'scapy-dns.pcap');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = `
import sys
from scapy.all import Ether, IP, IPv6, UDP, TCP, DNS, DNSQR, DNSRR, wrpcap
out = []
def pair(i, q, a, qtype='A', rcode=0, v6=False):
    ip = (lambda s, d: IPv6(src=s, dst=d)) if v6 else (lambda s, d: IP(src=s, dst=d))
    c, s = ('2001:db8::1', '2001:db8::53') if v6 else ('198.18.40.1', '198.18.40.53')
    out.append(Ether()/ip(c, s)/UDP(sport=40000 + i, dport=53)/DNS(id=i, rd=1, qd=DNSQR(qname=q, qtype=qtype)))
    r = DNS(id=i, qr=1, aa=1, rd=1, ra=1, rcode=rcode, qd=DNSQR(qname=q, qtype=qtype), an=a)
    out.append(Ether()/ip(s, c)/UDP(sport=53, dport=40000 + i)/r.compress())
pair(1, 'www.example.com', DNSRR(rrname='www.example.com', type='CNAME', ttl=60, rdata='web.example.com')/DNSRR(rrname='web.example.com', type='A', ttl=300, rdata='198.18.1.1'))
pair(2, 'v6.example.com', DNSRR(rrname='v6.example.com', type='AAAA', ttl=30, rdata='2001:db8:0:0:1::5'), qtype='AAAA', v6=True)
pair(3, 'example.com', DNSRR(rrname='example.com', type='MX', ttl=3600, rdata=b'\\x00\\x0a\\x04mail\\x07example\\x03com\\x00'), qtype='MX')
pair(4, 'txt.example.com', DNSRR(rrname='txt.example.com', type='TXT', ttl=5, rdata=['v=spf1 include:example.net -all']), qtype='TXT')
pair(5, 'nope.example.com', None, rcode=3)
pair(6, 'ns.example.com', DNSRR(rrname='ns.example.com', type='NS', ttl=99, rdata='a.iana-servers.net'), qtype='NS')
wrpcap(sys.argv[1], out)
`;

describe.skipIf(!hasScapy)('dns_guard on a scapy-written capture', () => {
  it('the capture is written', () => {
    const r = spawnSync(PY, ['-c', SCRIPT, pcap], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(SKIP_TSHARK)('every query and answer agrees with tshark: names, types, rcodes, rdata', () => {
    const r = inspectPcap(pcap, 'dns_guard', undefined, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    expect(r.of('alert')).toEqual([]);
    const ours = r.of('dns').map((e) => e.dns as { type: string; id: number; rrname: string; rrtype: string; rcode?: string; answers?: { rrtype: string; rdata?: string }[] });
    const args = ['-r', pcap, '-n', '-Y', 'dns', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,'];
    for (const f of ['dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.flags.rcode', 'dns.a', 'dns.aaaa', 'dns.cname', 'dns.mx.mail_exchange', 'dns.txt', 'dns.ns']) args.push('-e', f);
    const ts = spawnSync(TSHARK!, args, { encoding: 'utf8', timeout: 60_000 });
    expect(ts.status, `tshark: ${String(ts.error ?? '')} ${ts.stderr}`).toBe(0);
    const rows = ts.stdout.split('\n').filter((l) => l).map((l) => l.split('|'));
    expect(rows).toHaveLength(12); // six queries, six answers
    expect(ours).toHaveLength(rows.length);
    const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN'];
    for (const [i, [id, resp, name, rcode, a, aaaa, cname, mx, txt, ns]] of rows.entries()) {
      const d = ours[i]!;
      expect(d.id).toBe(Number(id));
      expect(d.type).toBe(resp === 'True' || resp === '1' ? 'answer' : 'query');
      expect(d.rrname).toBe(name);
      if (d.type !== 'answer') continue;
      expect(d.rcode).toBe(RCODES[Number(rcode)]);
      const rdata = (t: string) => (d.answers ?? []).filter((x) => x.rrtype === t).map((x) => x.rdata).join(',');
      expect(rdata('A')).toBe(a ?? '');
      expect(rdata('AAAA')).toBe(aaaa ?? '');
      expect(rdata('CNAME')).toBe(cname ?? '');
      expect(rdata('MX')).toBe(mx ?? '');
      expect(rdata('TXT')).toBe(txt ?? '');
      expect(rdata('NS')).toBe(ns ?? '');
    }
  });
});
