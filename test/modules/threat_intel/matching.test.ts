import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession, type LogLine } from '../dlp/support.js';
import { clientHello, dnsQuery } from './wire.js';

const DATA = join(import.meta.dirname, '..', '..', 'data', 'ioc');
const IPS = readFileSync(join(DATA, 'ips.txt'), 'utf8');
const DOMAINS = readFileSync(join(DATA, 'domains.txt'), 'utf8');
const both = { ip_list_text: IPS, domain_list_text: DOMAINS };

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

describe('threat_intel address IOCs', () => {
  it('single addresses and CIDRs, IPv4 and IPv6, on either side of a flow', async () => {
    const inst = await instance('threat_intel', both);
    const r = run(inst, [
      item(packet({ src: '198.18.99.7', dst: '198.18.0.2' }), { flowId: 1 }),
      item(packet({ src: '198.18.0.1', dst: '198.18.100.250' }), { flowId: 2 }),
      item(packet({ src: '2001:db8:bad:ffff::1', dst: '2001:db8::2' }), { flowId: 3 }),
      item(packet({ src: '2001:db8::1', dst: '2001:db8::dead:beef' }), { flowId: 4 }),
      item(packet({ src: '198.18.99.8', dst: '198.18.101.1' }), { flowId: 5 }),
      item(packet({ src: '2001:db8:bae::1', dst: '2001:db8::dead:bef0' }), { flowId: 6 }),
    ]);
    // unlisted TCP flows stay under watch: their stream may still name a listed domain
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.CONTINUE, Verdict.CONTINUE]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.address, a.metadata!.prefix_len])).toEqual([
      [0, 1008001, '198.18.99.7', 32],
      [1, 1008002, '198.18.100.250', 24],
      [2, 1008001, '2001:db8:bad:ffff:0:0:0:1', 48],
      [3, 1008002, '2001:db8:0:0:0:0:dead:beef', 128],
    ]);
  });

  it('the decision sticks for the flow; block_src blocks only a listed source, a listed destination gets block_flow', async () => {
    const inst = await instance('threat_intel', { ...both, action: 'block_src', block_ttl: 1200 });
    const r = run(inst, [
      item(packet({ src: '198.18.99.7', dst: '198.18.0.2' }), { flowId: 1 }),
      item(packet({ src: '198.18.99.7', dst: '198.18.0.2', payload: 'more' }), { flowId: 1 }),
      item(packet({ src: '198.18.0.1', dst: '198.18.99.7' }), { flowId: 2 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_SRC, Verdict.BLOCK_SRC, Verdict.BLOCK_FLOW]);
    expect(r.args.slice(0, 2)).toEqual([1200, 1200]);
    expect(r.alerts.length).toBe(2);
  });
});

describe('threat_intel domain IOCs in DNS, TLS and HTTP', () => {
  it('DNS queries over UDP: name, subdomain, exact-only, below-only and hosts-file entries', async () => {
    const inst = await instance('threat_intel', both);
    const names = ['evil.example', 'a.b.EVIL.example.', 'login.bank.example', 'x.login.bank.example', 'cdn.test', 'img.cdn.test', 'tracker.example', 'notevil.example', 'example'];
    const r = run(inst, names.map((n, i) => item(packet({ proto: 'udp', srcPort: 5353 + i, dstPort: 53, payload: dnsQuery(n) }), { flowId: 10 + i })));
    expect(r.alerts.map((a) => [names[a.index], a.sigId, a.metadata!.listed])).toEqual([
      ['evil.example', 1008003, 'evil.example'],
      ['a.b.EVIL.example.', 1008003, 'evil.example'],
      ['login.bank.example', 1008003, 'login.bank.example'],
      ['img.cdn.test', 1008003, 'cdn.test'],
      ['tracker.example', 1008003, 'tracker.example'],
    ]);
    expect(r.alerts[1]!.metadata!.name).toBe('a.b.evil.example');
  });

  it('TLS SNI and HTTP Host, each split across segments, through the engine; benign names pass', async () => {
    const hello = clientHello('api.evil.example');
    const frames = [
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 443, toServer: [hello.subarray(0, 20), hello.subarray(20, 61), hello.subarray(61)], at: 0 }),
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 8080, clientPort: 40001, toServer: ['GET /x HTTP/1.1\r\nUser-Agent: t\r\nHo', 'st: Tracker.Example:8080\r\n\r\n'], at: 1 }),
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 443, clientPort: 40002, toServer: [clientHello('good.example')], at: 2 }),
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 80, clientPort: 40003, toServer: ['GET / HTTP/1.1\r\nHost: good.example\r\n\r\n'], at: 3 }),
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 53, clientPort: 40004, toServer: [Uint8Array.from([0, dnsQuery('c.cdn.test').length, ...dnsQuery('c.cdn.test')])], at: 4 }),
    ];
    const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config: both }]);
    const a = alertsOf(decisions, 'threat_intel');
    expect(a.map((x) => [decisions[x.frame]!.pkt.dstPort, x.sigId, x.metadata!.name, x.metadata!.seen_in])).toEqual([
      [443, 1008004, 'api.evil.example', 'tls'],
      [8080, 1008005, 'tracker.example', 'http'],
      [53, 1008003, 'c.cdn.test', 'dns'],
    ]);
    // the alert comes on the segment that completed the name
    expect(decisions[a[0]!.frame]!.pkt.payloadLength).toBe(hello.length - 61);
    // the rest of each listed session is dropped (flows told apart by their client port)
    const droppedSessions = new Set(decisions.filter((d) => d.dropped).map((d) => (d.direction === 0 ? d.pkt.srcPort : d.pkt.dstPort)));
    expect(droppedSessions).toEqual(new Set([40000, 40001, 40004]));
    // the benign sessions were never dropped
    expect(decisions.filter((d) => d.pkt.srcPort === 40002 || d.pkt.srcPort === 40003).some((d) => d.dropped)).toBe(false);
  });

  it('a ClientHello without SNI, or a non-TLS stream, is let go without an alert', async () => {
    const frames = [
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 443, toServer: [clientHello(null)], at: 0 }),
      ...tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 22, clientPort: 40001, toServer: ['SSH-2.0-OpenSSH_9.6 evil.example\r\n'], at: 1 }),
    ];
    const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config: both }]);
    expect(alertsOf(decisions).length).toBe(0);
    expect(decisions.some((d) => d.modules.some((m) => m.verdict === Verdict.ALLOW_FLOW))).toBe(true);
  });
});

describe('threat_intel configuration', () => {
  it('the plain form: the config file is itself the list, "#!" lines set options', async () => {
    const inst = await instance('threat_intel', readFileSync(join(DATA, 'mixed.txt'), 'utf8'));
    const r = run(inst, [
      item(packet({ src: '198.18.62.2', dst: '198.18.0.2' }), { flowId: 1 }),
      item(packet({ proto: 'udp', dstPort: 53, payload: dnsQuery('www.c2.example') }), { flowId: 2 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_SRC, Verdict.BLOCK_FLOW]);
    expect(r.args[0]).toBe(900);
  });

  it('inline arrays and alert-only action', async () => {
    const inst = await instance('threat_intel', { ips: ['198.18.7.0/30'], domains: ['=only.example'], action: 'alert', severity: 2 });
    const r = run(inst, [
      item(packet({ src: '198.18.7.3', dst: '198.18.0.2' }), { flowId: 1 }),
      item(packet({ src: '198.18.7.4', dst: '198.18.0.2' }), { flowId: 2 }),
    ]);
    // alert only: the listed flow is reported once and let go; the other one is still watched
    expect(r.verdicts).toEqual([Verdict.ALLOW_FLOW, Verdict.CONTINUE]);
    expect(r.alerts.map((a) => [a.index, a.severity, a.metadata!.action])).toEqual([[0, 2, 'alert']]);
  });

  it('refuses a bad list naming the field, the line and the reason; refuses bad options', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ip_list_text: '198.18.0.1\n# c\n198.18.0.300\n' }, /ip_list_text line 3: not an IPv4\/IPv6 address or CIDR/],
      [{ ip_list_text: '198.18.0.0/33' }, /ip_list_text line 1: prefix length must be 0\.\.32/],
      [{ ip_list_text: 'evil.example' }, /ip_list_text line 1: not an IPv4\/IPv6 address or CIDR/],
      [{ domain_list_text: 'ok.example\nbad_chars!.example' }, /domain_list_text line 2: character '!' is not allowed/],
      [{ domain_list_text: '198.18.0.1' }, /domain_list_text line 1: an address in a list of domains/],
      [{ domains: ['a..example'] }, /domains\[0\] line 1: empty label/],
      [{ domains: ['one two three'] }, /expected one entry, or "address domain"/],
      [{ action: 'quarantine' }, /action must be one of alert, drop, block_flow, block_src/],
      [{ lists: [] }, /unknown field "lists"/],
      ['#! colour=red\nevil.example\n', /directive "#!colour=red": unknown option "colour"/],
      ['#! block_ttl=0\n', /bad value "0" for block_ttl/],
      ['2001:db8::1::2\n', /config line 1: not an IPv4\/IPv6 address or CIDR/],
    ];
    for (const [config, re] of cases) {
      const logs: LogLine[] = [];
      const err = await instance('threat_intel', config, logs).then(() => null, (e: unknown) => e);
      expect(err, String(re)).toBeInstanceOf(SecuxflowError);
      expect(String((err as Error).message)).toMatch(re);
    }
  });

  it('with no config it loads nothing, says so, and lets flows go', async () => {
    const logs: LogLine[] = [];
    const inst = await instance('threat_intel', undefined, logs);
    expect(run(inst, [item(packet({ src: '198.18.99.7' }))]).verdicts).toEqual([Verdict.ALLOW_FLOW]);
    expect(logs.some((l) => l.level === 'warn' && /no IOCs loaded/.test(l.message))).toBe(true);
  });
});

