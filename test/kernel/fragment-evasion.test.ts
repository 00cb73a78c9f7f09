// A port rule must not be evaded by fragmenting the packet it drops. nmap's
// -f (and --mtu 16) splits a SYN into fragments too small to hold the TCP
// header (RFC 1858's tiny fragments): the first fragment then has no ports
// for a rule to match, the later ones are never given ports, and the
// receiving host reassembles a SYN to the port the rule closes. The XDP
// program drops such first fragments before the rules (stage `invalid`),
// whatever the rules say, so the datagram can never be reassembled. Real nmap from a client namespace
// against a listener in the server namespace; ordinary fragmented traffic
// (a large UDP datagram, whose first fragment holds the whole UDP header)
// still passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { nmapTcpPortState, startEchoServers, udpEchoWorks } from './lab/traffic.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const TCP_PORT = 82;
const UDP_PORT = 5354;

describe.skipIf(kernel.skip || labReason !== null).sequential('fragmentation does not evade a port rule', () => {
  const lab = new NetLab('fev');
  let c: ClientServerLab;
  const { ok } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));

  /** nmap's state for TCP_PORT: a SYN scan, plain or with its fragmentation options. */
  const portState = (...extra: string[]): Promise<string> => nmapTcpPortState(lab, c.client.ns, c.server.addr, TCP_PORT, { extra });

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, 21);
    await startEchoServers(lab, c.server.ns, c.server.addr, TCP_PORT, UDP_PORT);
    await ok('attach', '--iface', c.server.ifname, '--mode', 'skb');
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  const invalidDrops = async (): Promise<number> => {
    const status = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: { iface: string; kernel: { invalid: number } | null }[] };
    return status.interfaces.find((i) => i.iface === c.server.ifname)?.kernel?.invalid ?? -1;
  };

  it('with no rule, the port is open to a plain scan; tiny fragments are dropped as invalid and counted', async () => {
    expect(await portState()).toBe('open');
    expect(await invalidDrops()).toBe(0);
    expect(await portState('-f')).toBe('filtered');
    expect(await invalidDrops()).toBeGreaterThan(0);
  });

  it('a drop rule on the port closes it to a plain scan and to tiny fragments (-f, --mtu 16)', async () => {
    await ok('rule', 'add', '--port', String(TCP_PORT), '--proto', 'tcp', '--action', 'drop');
    expect(await portState()).toBe('filtered');
    expect(await portState('-f')).toBe('filtered');
    expect(await portState('--mtu', '16')).toBe('filtered');
    expect((await ok('status')).stdout).toMatch(/invalid: tiny first fragments/);
  });

  it('ordinary fragmented traffic still passes: a UDP echo of 4,000 bytes', async () => {
    expect(await udpEchoWorks(lab, c.client.ns, c.server.addr, UDP_PORT, 3, 4000)).toBe(true);
  });

  it('detach leaves nothing pinned', async () => {
    await ok('detach', '--iface', c.server.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
