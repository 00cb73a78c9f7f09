// The live daemon with more of the shipped inspectors on real clients: curl
// over TLS to an openssl server (tls_inspect reads the hellos from the
// reassembled stream, allows the flow or blocks it by SNI), an HTTP POST
// carrying a card number (dlp), and a burst of connections over a rate limit
// (ratelimit puts the source in the kernel's penalty box). Checks the
// kernel's flow and penalty entries through the pins and the EVE records the
// daemon wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { runOk, type RunResult } from './lab/run.js';
import { readEve, startHostDaemon, startHttpServer, until, type PinnedMaps } from './daemon-support.js';
import { SfStage, SfStat, type FlowKey } from '../../host/kernel/codec.js';
import { parseIp } from '../../host/packet/addr.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 63;
const TLS_PORT = 8443;
const HTTP_PORT = 8080;
const LIMITED_PORT = 8081;
/** A second client address, so the penalty box it earns leaves the other tests' source alone. */
const BURSTER = `198.18.${SUBNET}.5`;

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run with tls_inspect, dlp and ratelimit on real clients', () => {
  const lab = new NetLab('dl');
  let c: ClientServerLab;
  let maps: PinnedMaps;

  const { ok: secuxflow } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));
  const key = (sport: number, dport: number): FlowKey => ({ src: parseIp(c.client.addr), dst: parseIp(c.server.addr), sport, dport, vlanOuter: 0, vlanInner: 0, proto: 6 });
  const tls = (sni: string, localPort: number): Promise<RunResult> =>
    lab.exec(c.client.ns, ['curl', '-sk', '-m', '3', '--local-port', String(localPort), '--resolve', `${sni}:${TLS_PORT}:${c.server.addr}`, `https://${sni}:${TLS_PORT}/`], { timeoutMs: 10_000 });
  const eve = (): Array<Record<string, unknown>> => readEve(c.stateDir);

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    await runOk(['ip', '-n', c.client.ns, 'addr', 'add', `${BURSTER}/24`, 'dev', c.client.ifname]);

    const cert = join(c.stateDir, 'cert.pem');
    const certKey = join(c.stateDir, 'key.pem');
    await runOk(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=lab', '-days', '1', '-keyout', certKey, '-out', cert]);
    // -www answers each GET with a status page; -naccept is not set: it serves until killed.
    await lab.spawn(c.server.ns, ['openssl', 's_server', '-www', '-accept', `${c.server.addr}:${TLS_PORT}`, '-cert', cert, '-key', certKey], 'ACCEPT');
    await startHttpServer(lab, c.server.ns, c.server.addr, HTTP_PORT);
    await startHttpServer(lab, c.server.ns, c.server.addr, LIMITED_PORT);

    const tlsConfig = join(c.stateDir, 'tls_inspect.json');
    writeFileSync(tlsConfig, JSON.stringify({ sni_blocklist: ['blocked.example'] }));
    const dlpConfig = join(c.stateDir, 'dlp.json');
    writeFileSync(dlpConfig, JSON.stringify({ detect: ['credit_card'], action: 'block_flow' }));
    const rlConfig = join(c.stateDir, 'ratelimit.json');
    writeFileSync(rlConfig, JSON.stringify({ rules: [{ name: 'web', proto: 'tcp', ports: [LIMITED_PORT], algorithm: 'sliding_window', limit: 3, window_ms: 10_000, penalty: 4 }] }));
    const configPath = join(c.stateDir, 'daemon.yaml');
    writeFileSync(configPath, `modules:\n  - name: tls_inspect\n    config: ${tlsConfig}\n  - name: dlp\n    config: ${dlpConfig}\n  - name: ratelimit\n    config: ${rlConfig}\nexpiry_interval: 1\n`);
    await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(TLS_PORT), '--module', 'tls_inspect');
    await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(HTTP_PORT), '--module', 'dlp');
    await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(LIMITED_PORT), '--module', 'ratelimit');
    ({ maps } = await startHostDaemon(lab, c, configPath));
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('TLS with an allowed SNI completes; tls_inspect reports it and the kernel passes the rest of the flow', async () => {
    const r = await tls('ok.example', 42001);
    expect(r.stdout).toContain('<HTML><BODY'); // s_server -www's status page
    const entry = await until(() => maps.flow(key(42001, TLS_PORT)), 2500);
    expect(entry?.verdict).toBe(1); // SF_FLOW_ALLOW: both hellos read, the rest is encrypted
    const event = await until(() => eve().find((e) => e.event_type === 'tls' && e.src_port === 42001), 2500);
    expect((event!.tls as Record<string, unknown>).sni).toBe('ok.example');
    expect(typeof (event!.tls as Record<string, unknown>).ja3).toBe('object');
  });

  it('TLS to a blocklisted SNI gets no answer: the flow is blocked in XDP and the alert names the signature', async () => {
    const r = await tls('www.blocked.example', 42002);
    expect(r.stdout).not.toContain('<HTML>');
    const entry = await until(() => maps.flow(key(42002, TLS_PORT)), 2500);
    expect(entry?.verdict).toBe(2); // SF_FLOW_BLOCK
    const alert = await until(() => eve().find((e) => e.event_type === 'alert' && e.src_port === 42002), 2500);
    expect(alert).toMatchObject({ app_proto: 'tls', alert: { signature_id: 1003001, action: 'blocked' } });
  });

  it('an HTTP POST carrying a card number: dlp blocks the flow and its alert shows the number redacted', async () => {
    const card = '4111 1111 1111 1111';
    const r = await lab.exec(c.client.ns, ['curl', '-s', '-m', '3', '--local-port', '42003', '--data', `name=a&card=${card}&x=1`, `http://${c.server.addr}:${HTTP_PORT}/pay`], { timeoutMs: 10_000 });
    expect(r.stdout).not.toContain('hello');
    const entry = await until(() => maps.flow(key(42003, HTTP_PORT)), 2500);
    expect(entry?.verdict).toBe(2);
    const alert = await until(() => eve().find((e) => e.event_type === 'alert' && e.src_port === 42003), 2500);
    expect(alert).toMatchObject({ alert: { signature_id: 1005001 } });
    const text = JSON.stringify(alert);
    expect(text).toContain('************1111');
    expect(text).not.toContain('4111 1111 1111 1111');
    // A POST without one passes.
    const clean = await lab.exec(c.client.ns, ['curl', '-s', '-m', '3', '--local-port', '42004', '--data', 'name=a&note=order 1234', `http://${c.server.addr}:${HTTP_PORT}/pay`], { timeoutMs: 10_000 });
    expect(clean.stdout).toContain('hello /pay');
  });

  it('connections over a rate limit: the fourth in the window puts the source in the penalty box, in XDP, until the penalty ends', async () => {
    const get = (): Promise<RunResult> =>
      lab.exec(c.client.ns, ['curl', '-s', '-m', '2', '--interface', BURSTER, `http://${c.server.addr}:${LIMITED_PORT}/r`], { timeoutMs: 8_000 });
    for (let i = 0; i < 3; i++) expect((await get()).stdout).toContain('hello /r');
    const over = await get();
    expect(over.stdout).not.toContain('hello');
    expect(await until(() => maps.penaltyCount() > 0, 2500)).toBe(true);
    const dropped = maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY);
    expect((await get()).stdout).not.toContain('hello');
    expect(maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY)).toBeGreaterThan(dropped); // its SYNs now drop in XDP
    const alert = await until(() => eve().find((e) => e.event_type === 'alert' && e.src_ip === BURSTER), 2500);
    expect(alert).toMatchObject({ alert: { signature_id: 1007002 } });
    // The client's own address is not limited.
    expect((await lab.exec(c.client.ns, ['curl', '-s', '-m', '2', `http://${c.server.addr}:${LIMITED_PORT}/ok`], { timeoutMs: 8_000 })).stdout).toContain('hello /ok');
    // penalty 4 s; the expiry walk runs every second. The window (10 s) still counts the earlier three,
    // so the next connection after the penalty is over the limit again: wait for the box to empty only.
    expect(await until(() => maps.penaltyCount() === 0, 9000, 200)).toBe(true);
  });
});
