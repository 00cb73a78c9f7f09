// A real tunnel: curl in one namespace talks to a Python HTTP server in
// another through a VXLAN overlay (IPv4 and IPv6 inside) over a veth;
// tcpdump records the underlay veth, where only the outer headers show, and
// the built CLI inspects that capture with http_waf: the attacks inside the
// tunnel alert, on their inner flows. (This VM's kernel builds vxlan links
// only, no sit, gre, ipip or geneve: those captures are crafted with scapy in
// tunnel-captures.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../../kernel/lab/netns.js';
import { moduleLabSkip } from '../lab/gate.js';
import { startCapture } from '../lab/capture.js';
import { inspectPcap, type Eve } from '../lab/inspect-cli.js';
import { SID } from './waf.js';

const skip = moduleLabSkip(['curl', '/usr/bin/python3']);
const lab = new NetLab('tnl');
const work = mkdtempSync(join(tmpdir(), 'sfx-tunnel-lab-'));
const pcap = join(work, 'underlay.pcap');
const VNI = 4242;
const ATTACK = "/search?q=1%27%20OR%20%271%27%3D%271";
const codes: string[] = [];
let underlay: { a: string; b: string } = { a: '', b: '' };

afterAll(async () => { await lab.cleanup(); rmSync(work, { recursive: true, force: true }); });

beforeAll(async () => {
  if (skip) return;
  const cli = await lab.addNamespace('cli');
  const srv = await lab.addNamespace('srv');
  const [c, s] = await lab.vethPair({ ns: cli, role: 'c' }, { ns: srv, role: 's' }, 41);
  underlay = { a: c.addr, b: s.addr };
  for (const [end, peer, inner4, inner6] of [[c, s, '10.200.0.1', 'fd00:200::1'], [s, c, '10.200.0.2', 'fd00:200::2']] as const) {
    await lab.execOk(end.ns, ['ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', String(VNI), 'local', end.addr, 'remote', peer.addr, 'dstport', '4789', 'dev', end.ifname]);
    await lab.execOk(end.ns, ['ip', 'addr', 'add', `${inner4}/24`, 'dev', 'vx0']);
    await lab.execOk(end.ns, ['ip', 'link', 'set', 'vx0', 'up']);
    await lab.execOk(end.ns, ['ip', '-6', 'addr', 'add', `${inner6}/64`, 'dev', 'vx0', 'nodad']);
  }
  await lab.spawn(srv, ['/usr/bin/python3', '-u', '-m', 'http.server', '8080', '--bind', '::', '--directory', work], 'Serving HTTP', 10_000);
  const cap = await startCapture(cli, c.ifname, pcap);
  try {
    for (const url of [`http://10.200.0.2:8080${ATTACK}`, `http://[fd00:200::2]:8080${ATTACK}`, 'http://10.200.0.2:8080/index.html']) {
      const r = await lab.exec(cli, ['curl', '-g', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url], { timeoutMs: 15_000 });
      codes.push(r.stdout || `curl exit ${r.code}: ${r.stderr}`);
    }
  } finally {
    await cap.stop();
  }
}, 120_000);

describe.skipIf(skip)('http_waf on the underlay of a real VXLAN tunnel', () => {
  it('curl reached the server through the tunnel, over inner IPv4 and IPv6', () => {
    expect(codes).toEqual(['404', '404', '404']);
  });

  it('the CLI alerts on each attack inside the tunnel, on its inner flow, with the tunnel object', () => {
    const r = inspectPcap(pcap, 'http_waf', undefined, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const sqli = r.of('alert').filter((e) => (e.alert as { signature_id: number }).signature_id === SID.SQLI);
    const by = (src: string): Eve | undefined => sqli.find((e) => e.src_ip === src);
    expect(by('10.200.0.1')).toMatchObject({ dest_ip: '10.200.0.2', dest_port: 8080, proto: 'TCP', tunnel: { src_ip: underlay.a, dest_ip: underlay.b, proto: 'UDP', depth: 1, type: 'vxlan', vni: VNI } });
    expect(by('fd00:200::1')).toMatchObject({ dest_ip: 'fd00:200::2', dest_port: 8080, proto: 'TCP', tunnel: { src_ip: underlay.a, dest_ip: underlay.b, proto: 'UDP', depth: 1, type: 'vxlan', vni: VNI } });
    expect(sqli).toHaveLength(2);
    const flows = r.of('flow').filter((e) => e.dest_port === 8080);
    expect(flows).toHaveLength(3);
    expect(flows.every((f) => (f.tunnel as { depth: number } | undefined)?.depth === 1)).toBe(true);
  });
});
