// What an operator does beside a running daemon. `secuxflow block`: a
// module's BLOCK_SRC shows in `block list`, and `block delete` releases it at
// once, in the kernel and in the daemon's engines (whose own penalty box would
// otherwise keep dropping the source's punted packets until the TTL); a block
// added by hand drops the source in XDP, `block clear` ends it. `flow
// delete`: a flow a module blocked is judged afresh, by the daemon's engine
// and the module too, which both keep a block for the flow's life. And the
// EVE stats records a log pipeline graphs, counting what the cases before did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { runOk, type RunResult } from './lab/run.js';
import { startEchoServers } from './lab/traffic.js';
import { openPinnedMaps, readEve, sleep, startDaemon, startHttpServer, until, type PinnedMaps } from './daemon-support.js';
import { SfStage, SfStat } from '../../host/kernel/codec.js';
import { requestDaemon } from '../../host/control/client.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8080;
const SUBNET = 44;
const SCANNER = `198.18.${SUBNET}.3`;
const UDP_PORT = 7081;
const UDP_SPORT = 40007;

interface ListJson {
  sources: { addr: string; expires_in_sec: number; dropped: number; interfaces: string[]; last_blocking_alert: { signature_id: number; signature: string } | null }[];
}

describe.skipIf(kernel.skip || labReason !== null).sequential('an operator beside a running daemon: the penalty box and EVE stats', () => {
  const lab = new NetLab('bd');
  let net: ClientServerLab;
  let maps: PinnedMaps;
  const { ok } = cliIn(lab, () => ({ ...net, ns: net.server.ns }));
  const curl = (...args: string[]): Promise<RunResult> =>
    lab.exec(net.client.ns, ['curl', '-s', '-m', '2', '--interface', SCANNER, ...args, `http://${net.server.addr}:${PORT}/`], { timeoutMs: 8000 });
  const list = async (): Promise<ListJson> => JSON.parse((await ok('block', 'list', '--json')).stdout) as ListJson;

  beforeAll(async () => {
    net = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    await runOk(['ip', '-n', net.client.ns, 'addr', 'add', `${SCANNER}/24`, 'dev', net.client.ifname]);
    await startHttpServer(lab, net.server.ns, net.server.addr, PORT);
    const bi = join(net.stateDir, 'basic_inspect.json');
    // A long TTL: only a release can end the block within the test.
    writeFileSync(bi, JSON.stringify({
      patterns: [
        { sid: 1000050, content: 'SCAN-ME', severity: 2, action: 'block_src', msg: 'scanner marker' },
        { sid: 1000051, content: 'FLAG-ME', severity: 2, action: 'block_flow', msg: 'flow marker' },
      ],
      block_ttl: 600,
    }));
    const config = join(net.stateDir, 'daemon.yaml');
    writeFileSync(config, `modules:\n  - name: basic_inspect\n    config: ${bi}\nexpiry_interval: 1\nstats_interval: 1\n`);
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(PORT));
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'udp', '--port', String(UDP_PORT));
    await startEchoServers(lab, net.server.ns, net.server.addr, PORT + 1, UDP_PORT);
    const daemon = startDaemon(lab, net.server.ns, net.cli, ['--iface', net.server.ifname, '--mode', 'skb', '--state-dir', net.stateDir, '--config', config], net.env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
    maps = openPinnedMaps(join(net.bpffs.root, net.server.ifname));
  }, 240_000);

  afterAll(async () => {
    maps?.close();
    await lab.cleanup();
  });

  it('a module\'s BLOCK_SRC shows in block list with its TTL, and the source is dropped', async () => {
    expect((await curl()).stdout).toContain('hello /');
    expect((await curl('-H', 'X-Scan: SCAN-ME')).stdout).not.toContain('hello');
    const l = await list();
    expect(l.sources.map((s) => [s.addr, s.interfaces])).toEqual([[SCANNER, [net.server.ifname]]]);
    // Why: the alert that blocked it, from the daemon's EVE file.
    expect(l.sources[0]!.last_blocking_alert).toMatchObject({ signature_id: 1000050, signature: expect.stringContaining('scanner marker') });
    expect((await ok('block', 'list')).stdout).toMatch(/LAST BLOCKING ALERT\n.* \[1000050\] .*scanner marker/);
    expect(l.sources[0]!.expires_in_sec).toBeGreaterThan(590);
    expect(l.sources[0]!.expires_in_sec).toBeLessThanOrEqual(600);
    expect((await curl()).stdout).not.toContain('hello');
    expect((await list()).sources[0]!.dropped).toBeGreaterThan(0);
  });

  it('block delete releases it in the kernel and in the daemon: a new connection is answered at once', async () => {
    const r = await ok('block', 'delete', SCANNER);
    expect(r.stdout).toBe(`released ${SCANNER} on ${net.server.ifname} and the running daemon\n`);
    expect((await list()).sources).toEqual([]);
    // Punted (the rule inspects port 80 traffic) and judged again by the engine, not dropped by its penalty box.
    const punts = maps.punts();
    expect((await curl()).stdout).toContain('hello /');
    expect(maps.punts()).toBeGreaterThan(punts);
  });

  it('a block added by hand drops the source in XDP, and block clear ends it', async () => {
    expect((await ok('block', 'add', SCANNER, '--ttl', '10m')).stdout).toBe(`blocked ${SCANNER} for 10m on ${net.server.ifname}\n`);
    const dropped = maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY);
    expect((await curl()).stdout).not.toContain('hello');
    expect(maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY)).toBeGreaterThan(dropped);
    expect((await ok('block', 'clear')).stdout).toBe(`released 1 source on ${net.server.ifname} and the running daemon\n`);
    expect((await curl()).stdout).toContain('hello /');
  });

  it('flow delete: a flow a module blocked is judged afresh, by the engine and the module', async () => {
    /** One datagram from the same source port (one flow), and the echo or 'timeout'. */
    const ask = async (payload: string): Promise<string> => (await lab.exec(net.client.ns, [process.execPath, '-e', `
const s = require('dgram').createSocket('udp4');
s.on('message', (m) => { console.log('echo ' + m); process.exit(0); });
s.bind(${UDP_SPORT}, '${net.client.addr}', () => s.send(${JSON.stringify(payload)}, ${UDP_PORT}, '${net.server.addr}'));
setTimeout(() => { console.log('timeout'); process.exit(0); }, 1000);`], { timeoutMs: 5000 })).stdout.trim();
    const blocked = async (): Promise<string[]> =>
      (JSON.parse((await ok('flow', 'list', '--json', '--port', String(UDP_PORT))).stdout) as { flows: { verdict: string }[] }).flows.map((f) => f.verdict);

    expect(await ask('hello FLAG-ME')).toBe('timeout');
    expect(await until(async () => (await blocked()).length > 0, 3000, 100)).toBe(true);
    expect(await blocked()).toEqual(['block']);
    // Dropped in XDP now, however benign.
    const punts = maps.punts();
    expect(await ask('benign')).toBe('timeout');
    expect(maps.punts()).toBe(punts);

    const r = await ok('flow', 'delete', '--host', net.client.addr, '--port', String(UDP_PORT));
    expect(r.stdout).toBe(`deleted 1 flow on ${net.server.ifname} and in the running daemon\n  ${net.client.addr}:${UDP_SPORT} ⇄ ${net.server.addr}:${UDP_PORT}/udp (block, ${net.server.ifname})\n`);
    expect(await blocked()).toEqual([]);
    // Punted, judged by a new flow in the engine and the module: the benign datagram is answered.
    expect(await ask('benign')).toBe('echo benign');
    expect(maps.punts()).toBeGreaterThan(punts);
    // And the marker is blocked again, in the kernel too.
    expect(await ask('again FLAG-ME')).toBe('timeout');
    expect(await until(async () => (await blocked()).length > 0, 3000, 100)).toBe(true);
    const ended = readEve(net.stateDir).filter((e) => e.event_type === 'flow' && (e as { src_port?: number }).src_port === UDP_SPORT);
    expect(ended.map((e) => (e as { flow: { reason: string } }).flow.reason)).toContain('forced');
  });

  it('penalty.release and flow.release requests with bad params are refused with E_USAGE, and the daemon keeps serving', async () => {
    for (const params of [{}, { addresses: 'all' }, { addresses: [] }, { addresses: [7] }, { addresses: ['not-an-ip'] }]) {
      await expect(requestDaemon(net.stateDir, 'penalty.release', params), JSON.stringify(params)).rejects.toMatchObject({ code: 'E_USAGE' });
    }
    expect(await requestDaemon(net.stateDir, 'penalty.release', { addresses: null })).toEqual({ queues: 1, released: 0 });
    for (const params of [{ host: 7 }, { host: 'nowhere' }, { port: -1 }, { verdict: 'drop' }]) {
      await expect(requestDaemon(net.stateDir, 'flow.release', params), JSON.stringify(params)).rejects.toMatchObject({ code: 'E_USAGE' });
    }
    expect(await requestDaemon(net.stateDir, 'flow.release', { host: '192.0.2.99' })).toEqual({ queues: 1, released: 0 });
    expect((await curl()).stdout).toContain('hello /');
  });

  it('writes an EVE stats record every stats_interval, with the totals so far; stats_interval 0 stops them', async () => {
    const stats = (): Array<{ stats: Record<string, Record<string, unknown> & { uptime?: number }> }> =>
      readEve(net.stateDir).filter((r) => r.event_type === 'stats') as never;
    const seen = stats().length;
    expect(await until(() => stats().length >= seen + 2, 5000, 200)).toBe(true);
    const last = stats().at(-1)!.stats;
    expect(last).toMatchObject({ decoder: {}, flow_bypassed: {}, penalty: {}, detect: {}, modules: { basic_inspect: {} } });
    // This file's earlier cases: punted HTTP, one alert and one BLOCK_SRC from SCAN-ME.
    expect(last.capture!.kernel_packets as number).toBeGreaterThan(0);
    expect(last.detect!.alert as number).toBeGreaterThanOrEqual(1);
    expect(last.penalty!.writes as number).toBeGreaterThanOrEqual(1);
    expect((last.modules!.basic_inspect as { packets: number }).packets).toBeGreaterThan(0);
    expect(last.xdp!.packets as number).toBeGreaterThanOrEqual(last.xdp!.punted as number);

    const config = join(net.stateDir, 'daemon.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('stats_interval: 1', 'stats_interval: 0'));
    await requestDaemon(net.stateDir, 'config.reload');
    const after = stats().length;
    await sleep(2500);
    expect(stats().length).toBe(after);
  });
});
