// dig against a small responder in a namespace, recorded by tcpdump, then the
// capture inspected by the built CLI with dns_guard.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../../kernel/lab/netns.js';
import { moduleLabSkip } from '../lab/gate.js';
import { startCapture } from '../lab/capture.js';
import { inspectPcap } from '../lab/inspect-cli.js';
import { RESPONDER_A, RESPONDER_AAAA, responderSource } from '../lab/dns-responder.js';
import { SKIP_TSHARK, tsharkFields } from '../../host/capture/tshark.js';
import { builtModule } from './support.js';

const skip = moduleLabSkip(['dig']);
const lab = new NetLab('dnc');
const work = mkdtempSync(join(tmpdir(), 'sfx-dns-lab-'));
const pcap = join(work, 'dig.pcap');
const TUNNEL = 'mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjrggzdfmzt.t.tunnel.test';
const digs: { args: string[]; status: string }[] = [];

afterAll(async () => { await lab.cleanup(); rmSync(work, { recursive: true, force: true }); });

beforeAll(async () => {
  if (skip) return;
  builtModule('dns_guard');
  const cli = await lab.addNamespace('cli');
  const srv = await lab.addNamespace('srv');
  const [c, s] = await lab.vethPair({ ns: cli, role: 'c' }, { ns: srv, role: 's' }, 31);
  await lab.spawn(srv, [process.execPath, '-e', responderSource(s.addr)], 'ready', 10_000);
  const cap = await startCapture(cli, c.ifname, pcap);
  try {
    for (const args of [
      ['www.example.test', 'A'],
      ['+tcp', 'mail.example.test', 'AAAA'],
      ['ads.blocked.test', 'A'],
      [TUNNEL, 'TXT'],
      ['missing.nx.test', 'A'],
    ]) {
      const r = await lab.exec(cli, ['dig', `@${s.addr}`, '+tries=1', '+time=3', '+nocookie', ...args], { timeoutMs: 15_000 });
      digs.push({ args, status: /status: (\w+)/.exec(r.stdout)?.[1] ?? `dig exit ${r.code}: ${r.stderr}` });
    }
  } finally {
    await cap.stop();
  }
}, 120_000);

describe.skipIf(skip)('dns_guard on a real dig run', () => {
  it('dig got its answers from the lab responder', () => {
    expect(digs.map((d) => d.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'NOERROR', 'NXDOMAIN']);
  });

  it('the CLI reports every query and answer as dns events, over UDP and TCP', () => {
    const r = inspectPcap(pcap, 'dns_guard', { blocklist: ['blocked.test'] }, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const dns = r.of('dns').map((e) => ({ ...(e.dns as Record<string, unknown>), proto: e.proto }) as Record<string, unknown>);
    const q = (name: string) => dns.find((d) => d.type === 'query' && d.rrname === name);
    const a = (name: string) => dns.find((d) => d.type === 'answer' && d.rrname === name);
    expect(q('www.example.test')).toMatchObject({ rrtype: 'A', proto: 'UDP' });
    expect(a('www.example.test')).toMatchObject({ rcode: 'NOERROR', aa: true, answers: [{ rrname: 'www.example.test', rrtype: 'A', ttl: 120, rdata: RESPONDER_A }] });
    expect(q('mail.example.test')).toMatchObject({ rrtype: 'AAAA', proto: 'TCP' });
    expect(a('mail.example.test')).toMatchObject({ proto: 'TCP', answers: [{ rrtype: 'AAAA', rdata: RESPONDER_AAAA }] });
    expect(a('missing.nx.test')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(a('missing.nx.test')!.answers).toBeUndefined();
  });

  it('the blocklisted name is alerted and dropped; the tunnel-like name is flagged', () => {
    const r = inspectPcap(pcap, 'dns_guard', { blocklist: ['blocked.test'] }, work);
    const alerts = r.of('alert').map((e) => ({ ...(e.alert as { signature_id: number; action: string; metadata: Record<string, string[]> }), direction: e.direction }));
    const blocked = alerts.filter((x) => x.signature_id === 1002001);
    // the query, and the responder's answer (the capture was taken before any enforcement)
    expect(blocked.map((x) => [x.direction, x.action, x.metadata.rrname?.[0]])).toEqual([
      ['to_server', 'blocked', 'ads.blocked.test'], ['to_client', 'blocked', 'ads.blocked.test'],
    ]);
    const tunnel = alerts.filter((x) => x.signature_id === 1002003).map((x) => x.metadata.rrname?.[0]);
    expect(tunnel).toContain(TUNNEL);
  });

  it.skipIf(SKIP_TSHARK)('names and response codes agree with tshark', () => {
    const r = inspectPcap(pcap, 'dns_guard', undefined, work);
    const ours = r.of('dns').map((e) => { const d = e.dns as { type: string; rrname: string }; return `${d.type === 'answer' ? 1 : 0}|${d.rrname}`; }).sort();
    const theirs = tsharkFields(pcap, ['dns.flags.response', 'dns.qry.name'], ['-Y', 'dns']).map(([resp, name]) => `${resp === 'True' || resp === '1' ? 1 : 0}|${name}`).sort();
    expect(ours).toEqual(theirs);
  });
});
