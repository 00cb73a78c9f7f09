// Host-mode delivery: the protected host runs a TCP server; every TCP packet
// from the client is punted by an inspect rule, received through AF_XDP and
// handed to the local stack through the delivery TAP. The connection must
// work end to end, with every client packet counted as a punt and none as a
// fallback; without delivery the same connection must fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { puntCounters, setupPuntLab, type PuntLab } from './xsk-lab.js';
import { openXsk, type XskSocket } from '../../host/kernel/xsk.js';
import { openDelivery, type Delivery } from '../../host/kernel/delivery.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8181;

/** A node TCP client in the client namespace: connects, sends a line, prints what comes back. */
function clientScript(addr: string, timeoutMs: number, port = PORT): string {
  return `const s=require('net').connect(${port},'${addr}');let got='';
s.setTimeout(${timeoutMs},()=>{console.log('TIMEOUT');process.exit(0)});
s.on('connect',()=>s.write('hello through the tap\\n'));
s.on('data',(b)=>{got+=b;if(got.includes('\\n')){console.log('ECHO '+got.trim());s.end()}});
s.on('error',(e)=>{console.log('ERROR '+e.code);process.exit(0)});`;
}

describe.skipIf(kernel.skip || labReason !== null).sequential('host-mode delivery through a TAP', () => {
  let pl: PuntLab;
  let sock: XskSocket | null = null;
  let delivery: Delivery | null = null;

  const pump = (deliver: boolean): { received: () => number } => {
    const into = new Uint8Array(1 << 18);
    const descs = new Uint32Array(128);
    let received = 0;
    sock!.onReadable(() => {
      for (let round = 0; round < 100; round++) {
        const n = sock!.receive(into, descs, 64);
        if (n === 0) return;
        received += n;
        if (deliver) delivery!.deliver(into, descs, n);
      }
    });
    return { received: () => received };
  };

  beforeAll(async () => {
    pl = await setupPuntLab('dl', 41, ['--src', '198.18.41.1/32', '--proto', 'tcp']);
    const echo = `require('net').createServer((s)=>s.pipe(s)).listen(${PORT},'${pl.host.addr}',()=>console.log('ready'))`;
    await pl.lab.spawn(pl.host.ns, [process.execPath, '-e', echo], 'ready');
  }, 300_000);

  afterAll(async () => {
    sock?.close();
    delivery?.close();
    await pl?.lab.cleanup();
  });

  it('refuses to deliver while conf/all/rp_filter would drop every packet, naming the fix', async () => {
    await pl.lab.execOk(pl.host.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']);
    try {
      expect(() => openDelivery({ ifname: pl.host.ifname, netns: pl.hostNetns })).toThrow(
        expect.objectContaining({ code: 'E_XSK', message: expect.stringMatching(/rp_filter is 1/), hint: expect.stringMatching(/sysctl -w net.ipv4.conf.all.rp_filter=0/) }),
      );
    } finally {
      await pl.lab.execOk(pl.host.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']);
    }
    // nothing half-made: no TAP left behind
    const links = await pl.lab.execOk(pl.host.ns, ['ip', '-br', 'link']);
    expect(links.stdout).not.toMatch(/^sfd\d+\s/m); // the default TAP name is sfd<ifindex>
  });

  it('punted but not delivered: the TCP connection does not come up', async () => {
    sock = openXsk({ ifname: pl.host.ifname, queue: 0, bindMode: 'auto', xsksMapPin: pl.xsksPin, netns: pl.hostNetns });
    const p = pump(false);
    const before = puntCounters(pl);
    const r = await pl.lab.execOk(pl.client.ns, [process.execPath, '-e', clientScript(pl.host.addr, 1500)], { timeoutMs: 10_000 });
    expect(r.stdout).toMatch(/TIMEOUT/);
    const after = puntCounters(pl);
    expect(after.punt - before.punt).toBeGreaterThanOrEqual(1); // the SYN (and its retries) were taken
    expect(p.received()).toBe(after.punt - before.punt);
    sock.offReadable();
  });

  it('punted and delivered: the handshake and the echo complete, every client packet went through AF_XDP and the TAP', async () => {
    delivery = openDelivery({ ifname: pl.host.ifname, netns: pl.hostNetns });
    const link = JSON.parse((await pl.lab.execOk(pl.host.ns, ['ip', '-j', 'link', 'show', 'dev', delivery.tapName])).stdout) as Array<{ address: string; flags: string[] }>;
    expect(link[0]!.address).toBe(pl.hostMac);
    expect(link[0]!.flags).toContain('UP');
    // drain anything left over from the previous test before counting
    const scratch = new Uint8Array(1 << 16);
    while (sock!.receive(scratch, new Uint32Array(128), 64) > 0);
    const p = pump(true);
    const before = puntCounters(pl);
    const r = await pl.lab.execOk(pl.client.ns, [process.execPath, '-e', clientScript(pl.host.addr, 4000)], { timeoutMs: 15_000 });
    expect(r.stdout.trim()).toBe('ECHO hello through the tap');
    await new Promise((res) => setTimeout(res, 300)); // the client's last ACK/FIN
    const after = puntCounters(pl);
    const punted = after.punt - before.punt;
    // SYN, ACK, data, FIN/ACK at least: all of them went through our path
    expect(punted).toBeGreaterThanOrEqual(4);
    expect(after.fallback - before.fallback).toBe(0);
    expect(p.received()).toBe(punted);
    expect(delivery.stats()).toMatchObject({ delivered: punted, failed: 0 });
  });

  it('IPv6 too: a TCP echo over 2001:db8::/32 with every client segment punted and re-delivered', async () => {
    const [c6, h6] = ['2001:db8:41::1', '2001:db8:41::2'];
    await pl.lab.execOk(pl.client.ns, ['ip', '-6', 'addr', 'add', `${c6}/64`, 'dev', pl.client.ifname, 'nodad']);
    await pl.lab.execOk(pl.host.ns, ['ip', '-6', 'addr', 'add', `${h6}/64`, 'dev', pl.host.ifname, 'nodad']);
    // only TCP is punted: neighbour discovery stays on the XDP pass path (see docs/live.md)
    const added = await pl.secuxflow('rule', 'add', '--src', `${c6}/128`, '--proto', 'tcp', '--action', 'inspect');
    expect(added.code, added.stderr).toBe(0);
    const echo6 = `require('net').createServer((s)=>s.pipe(s)).listen(${PORT + 1},'${h6}',()=>console.log('ready'))`;
    await pl.lab.spawn(pl.host.ns, [process.execPath, '-e', echo6], 'ready');
    const before = puntCounters(pl);
    const delivered0 = delivery!.stats().delivered;
    const r = await pl.lab.execOk(pl.client.ns, [process.execPath, '-e', clientScript(h6, 4000, PORT + 1)], { timeoutMs: 15_000 });
    expect(r.stdout.trim()).toBe('ECHO hello through the tap');
    await new Promise((res) => setTimeout(res, 300));
    const after = puntCounters(pl);
    expect(after.punt - before.punt).toBeGreaterThanOrEqual(4);
    expect(after.fallback - before.fallback).toBe(0);
    expect(delivery!.stats().delivered - delivered0).toBe(after.punt - before.punt);
  });

  it('close() removes the TAP and the XSKMAP entry; detach leaves nothing pinned', async () => {
    const tap = delivery!.tapName;
    delivery!.close();
    delivery = null;
    sock!.close();
    sock = null;
    const show = await pl.lab.exec(pl.host.ns, ['ip', 'link', 'show', 'dev', tap]);
    expect(show.code).not.toBe(0);
    const r = await pl.secuxflow('detach', '--iface', pl.host.ifname);
    expect(r.code, r.stderr).toBe(0);
    expect(pl.bpffs.leftovers().filter((x) => x.includes(pl.host.ifname))).toEqual([]);
  });
});
