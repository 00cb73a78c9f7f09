// Real scanners in network namespaces: nmap (-sS, -sF, -sN, -sX, -sU) and
// hping3 (SYN and ICMP floods) against a server namespace, captured with
// tcpdump, then the capture through the engine and the built CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '../../../host/verdict.js';
import { compiledModule, engineRun, srcOf } from '../dlp/support.js';
import { startEchoServers } from '../../kernel/lab/traffic.js';
import { capture, makePair, readFrames, type Pair } from './lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['nmap', 'hping3', 'curl']);
const SUBNET = 61;
let pair: Pair;

beforeAll(async () => {
  await compiledModule('scan_flood');
  if (skip) return;
  pair = await makePair('scf', SUBNET);
  await startEchoServers(pair.lab, pair.serverNs, pair.server.addr, 8080, 8053, 240_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

/** A benign client on the second client address: two short TCP connections and one UDP exchange. */
async function benign(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '2', '--interface', pair.client2, `http://${pair.server.addr}:8080/`], { timeoutMs: 5_000 });
  }
}

async function scanCapture(name: string, argv: string[], timeoutMs = 60_000): Promise<string> {
  return capture(pair, name, async () => {
    await benign();
    const r = await pair.lab.exec(pair.clientNs, argv, { timeoutMs });
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    await benign();
  });
}

async function verdictsBySource(pcap: string) {
  const { decisions } = await engineRun(readFrames(pcap), [{ name: 'scan_flood' }]);
  const blocked = new Map<string, { sid: number | undefined; ttl: number }>();
  const dropped = new Set<string>();
  const seen = new Set<string>();
  for (const d of decisions) {
    seen.add(srcOf(d));
    if (d.dropped) dropped.add(srcOf(d));
    const m = d.modules.find((x) => x.module === 'scan_flood');
    if (m?.verdict === Verdict.BLOCK_SRC && !blocked.has(srcOf(d))) blocked.set(srcOf(d), { sid: m.alerts[0]?.sigId, ttl: m.ttl });
  }
  return { blocked, dropped, seen };
}

describe.skipIf(skip)('scan_flood against real nmap and hping3', () => {
  it.each([
    ['-sS', 1006001],
    ['-sF', 1006002],
    ['-sN', 1006003],
    ['-sX', 1006004],
  ])('nmap %s over 60 ports: the scanner is blocked (sid %i), the benign client is not', { timeout: 120_000 }, async (flag, sid) => {
    const pcap = await scanCapture(`nmap${flag}`, ['nmap', flag as string, '-Pn', '-n', '-p', '1-60', '--max-retries', '0', '-T4', '--host-timeout', '30s', pair.server.addr]);
    const { blocked, dropped, seen } = await verdictsBySource(pcap);
    expect(seen.has(pair.client2)).toBe(true);
    expect([...blocked.keys()]).toEqual([pair.client.addr]);
    expect(blocked.get(pair.client.addr)).toEqual({ sid, ttl: 600 });
    expect(dropped.has(pair.client2)).toBe(false);
  });

  it('nmap -sU over 40 ports: a UDP scan', async () => {
    const pcap = await scanCapture('nmap-sU', ['nmap', '-sU', '-Pn', '-n', '-p', '1-40', '--max-retries', '0', '-T5', '--host-timeout', '40s', pair.server.addr], 90_000);
    const { blocked, dropped } = await verdictsBySource(pcap);
    expect([...blocked.keys()]).toEqual([pair.client.addr]);
    expect(blocked.get(pair.client.addr)!.sid).toBe(1006005);
    expect(dropped.has(pair.client2)).toBe(false);
  }, 120_000);

  it('hping3 SYN flood (-S, 800 packets, 1 ms apart): the flooder is blocked', async () => {
    const pcap = await scanCapture('hping3-syn', ['hping3', '-q', '-S', '-p', '8080', '-c', '800', '-i', 'u1000', pair.server.addr], 60_000);
    const { blocked, dropped } = await verdictsBySource(pcap);
    expect([...blocked.keys()]).toEqual([pair.client.addr]);
    expect(blocked.get(pair.client.addr)!.sid).toBe(1006010);
    expect(dropped.has(pair.client2)).toBe(false);
  }, 120_000);

  it('hping3 ICMP flood (--icmp, 600 packets): the flooder is blocked, through the built CLI too', async () => {
    const pcap = await scanCapture('hping3-icmp', ['hping3', '-q', '--icmp', '-c', '600', '-i', 'u1000', pair.server.addr], 60_000);
    const { blocked, dropped } = await verdictsBySource(pcap);
    expect([...blocked.keys()]).toEqual([pair.client.addr]);
    expect(blocked.get(pair.client.addr)!.sid).toBe(1006011);
    expect(dropped.has(pair.client2)).toBe(false);

    const cli = join(import.meta.dirname, '..', '..', '..', 'dist', 'secuxflow.js');
    expect(existsSync(cli), 'dist/secuxflow.js: run npm run build').toBe(true);
    const r = spawnSync(process.execPath, [cli, 'inspect', '--pcap', pcap, '--module', 'scan_flood', '--eve', '-', '--no-progress'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const eve = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const alerts = eve.filter((e) => e.event_type === 'alert');
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.src_ip))).toEqual(new Set([pair.client.addr]));
    expect(alerts[0]!.alert.signature_id).toBe(1006011);
    expect(alerts[0]!.alert.signature).toBe('ICMP echo flood');
  }, 120_000);
});
