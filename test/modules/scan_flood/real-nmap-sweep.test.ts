// A real horizontal sweep: nmap probing one port over 40 addresses of a
// server namespace, captured with tcpdump and run through the engine, beside
// a real client connecting to the same 40 addresses on that port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun, srcOf } from '../dlp/support.js';
import { startEchoServers } from '../../kernel/lab/traffic.js';
import { capture, makePair, readFrames, type Pair } from './lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['nmap', 'curl']);
const SUBNET = 65;
const HOSTS = Array.from({ length: 40 }, (_, i) => `198.18.${SUBNET}.${10 + i}`);
let pair: Pair;

beforeAll(async () => {
  await compiledModule('scan_flood');
  if (skip) return;
  pair = await makePair('scw', SUBNET);
  for (const h of HOSTS) await pair.lab.execOk(pair.serverNs, ['ip', 'addr', 'add', `${h}/24`, 'dev', pair.server.ifname]);
  // port 8080 open on every address, UDP 161 closed everywhere
  await startEchoServers(pair.lab, pair.serverNs, '0.0.0.0', 8080, 8053, 240_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

/** The benign client (second client address) fetching from every address on 8080: 40 hosts, one port, every handshake completed. */
async function busyClient(): Promise<void> {
  for (const h of HOSTS) {
    await pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '2', '--interface', pair.client2, `http://${h}:8080/`], { timeoutMs: 5_000 });
  }
}

async function sweep(name: string, argv: string[]) {
  const pcap = await capture(pair, name, async () => {
    await busyClient();
    const r = await pair.lab.exec(pair.clientNs, argv, { timeoutMs: 60_000 });
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  });
  const { decisions } = await engineRun(readFrames(pcap), [{ name: 'scan_flood' }]);
  const blocked = new Map<string, number | undefined>();
  for (const d of decisions) {
    const m = d.modules.find((x) => x.module === 'scan_flood');
    if (m?.verdict === Verdict.BLOCK_SRC && !blocked.has(srcOf(d))) blocked.set(srcOf(d), m.alerts[0]?.sigId);
  }
  return { decisions, blocked };
}

describe.skipIf(skip)('scan_flood against a real nmap sweep', () => {
  it('nmap -sS -p8080 over 40 hosts where the port is open: a sweep (1006008); curl to the same 40 hosts is not', async () => {
    const { decisions, blocked } = await sweep('nmap-sweep-syn', ['nmap', '-sS', '-Pn', '-n', '-p', '8080', '--max-retries', '0', '-T4', ...HOSTS]);
    // the benign client really reached all 40 hosts
    const benignSyns = new Set(decisions.filter((d) => srcOf(d) === pair.client2 && d.pkt.tcpFlags === 0x02).map((d) => d.pkt.dst.join('.')));
    expect(benignSyns.size).toBe(40);
    // the port was open: hosts answered nmap with SYN-ACKs (which nmap reset)
    expect(decisions.filter((d) => d.pkt.tcpFlags === 0x12 && srcOf(d) !== pair.client.addr && d.pkt.dst.join('.') === pair.client.addr).length).toBeGreaterThanOrEqual(30);
    expect([...blocked.entries()]).toEqual([[pair.client.addr, 1006008]]);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30, dest_port: 8080 } });
    expect(decisions.filter((d) => srcOf(d) === pair.client2).every((d) => !d.dropped)).toBe(true);
  }, 120_000);

  it('nmap -sU -p161 over 40 hosts (closed: ICMP port unreachable): a UDP sweep', async () => {
    const { decisions, blocked } = await sweep('nmap-sweep-udp', ['nmap', '-sU', '-Pn', '-n', '-p', '161', '--max-retries', '0', '-T4', ...HOSTS]);
    expect([...blocked.entries()]).toEqual([[pair.client.addr, 1006008]]);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30, dest_port: 161 } });
  }, 120_000);
});
