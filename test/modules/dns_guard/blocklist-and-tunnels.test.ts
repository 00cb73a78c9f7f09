import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run, type LogLine } from './support.js';
import { dnsMessage, ipv4, nameRdata } from './dns-wire.js';
import { SecuxflowError } from '../../../host/errors.js';

beforeAll(async () => { await compiledModule('dns_guard'); }, 180_000);

const query = (name: string, over: { flowId?: number; src?: string; t?: number; type?: string } = {}) =>
  item(packet({ proto: 'udp', src: over.src ?? '198.18.0.1', dst: '198.18.0.53', srcPort: 40000, dstPort: 53,
    payload: dnsMessage({ questions: [{ name, type: (over.type ?? 'A') as 'A' }] }) }, [1_700_000_000 + (over.t ?? 0), 0]), { flowId: over.flowId ?? 1 });

const sids = (alerts: { sigId: number }[]) => alerts.map((a) => a.sigId);

describe('dns_guard blocklist', () => {
  it('plain entries match the name and names below it at label boundaries, case-insensitively', async () => {
    const inst = await instance('dns_guard', { blocklist: ['evil.example', '=only.example', '*.kids.example'] });
    const names = ['evil.example', 'A.B.EVIL.example', 'notevil.example', 'evil.example.org', 'only.example', 'x.only.example', 'kids.example', 'a.kids.example', 'evil.example.'];
    const out = run(inst, names.map((n, i) => query(n, { flowId: i + 1 })));
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.DROP, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.DROP, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.DROP, Verdict.DROP]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.severity])).toEqual([[0, 1002001, 1], [1, 1002001, 1], [4, 1002001, 1], [7, 1002001, 1], [8, 1002001, 1]]);
    expect(out.alerts[1]!.metadata).toEqual({ rrname: 'A.B.EVIL.example', rrtype: 'A', listed: 'evil.example', action: 'drop' });
  });

  it('block_action picks the verdict; block_src carries block_ttl', async () => {
    for (const [action, verdict] of [['alert', Verdict.CONTINUE], ['block_flow', Verdict.BLOCK_FLOW], ['block_src', Verdict.BLOCK_SRC]] as const) {
      const inst = await instance('dns_guard', { blocklist: ['evil.example'], block_action: action, block_ttl: 900 });
      const out = run(inst, [query('c2.evil.example')]);
      expect(out.verdicts).toEqual([verdict]);
      expect(out.args).toEqual([action === 'block_src' ? 900 : 0]);
      expect(sids(out.alerts)).toEqual([1002001]);
    }
  });

  it('blocklist_text reads list files: comments, hosts-file lines, several files', async () => {
    const fileA = '# my list\nevil.example\n\n0.0.0.0 ads.example   # tracker\n127.0.0.1\tmore.example\r\n';
    const fileB = '=exact.example\n*.below.example\n';
    const inst = await instance('dns_guard', { blocklist_text: [fileA, fileB] });
    const names = ['evil.example', 'x.ads.example', 'more.example', 'exact.example', 'y.exact.example', 'below.example', 'z.below.example', 'fine.example'];
    const out = run(inst, names.map((n, i) => query(n, { flowId: i + 1 })));
    expect(out.verdicts).toEqual([3, 3, 3, 3, 0, 0, 3, 0]);
  });

  it('a bad list line is refused with its line number and text; nothing half-applies', async () => {
    for (const [cfg, msg] of [
      [{ blocklist_text: 'ok.example\nbad domain here\n' }, /blocklist_text line 2: expected one domain/],
      [{ blocklist_text: 'ok.example\nb@d.example\n' }, /line 2 \("b@d.example"\): character '@'/],
      [{ blocklist: ['a..b'] }, /blocklist\[0\] \("a..b"\): empty label/],
      [{ blocklist: ['x'.repeat(64) + '.example'] }, /label longer than 63/],
      [{ block_action: 'nuke' }, /block_action must be one of/],
      [{ rate_window_s: 0 }, /rate_window_s must be an integer 1..3600/],
      [{ blocklist: 'evil.example' }, /blocklist must be an array of strings/],
      [{ colour: 1 }, /unknown field "colour"/],
    ] as const) {
      const err = await instance('dns_guard', cfg).then(() => null, (e: unknown) => e);
      expect(err, JSON.stringify(cfg)).toBeInstanceOf(SecuxflowError);
      expect((err as SecuxflowError).code).toBe('E_MODULE_CONFIG');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('an answer that aliases (CNAME/DNAME) to a listed domain is caught: CNAME cloaking', async () => {
    const inst = await instance('dns_guard', { blocklist: ['tracker.example'] });
    const answer = dnsMessage({
      response: true, questions: [{ name: 'metrics.shop.example' }],
      answers: [{ name: 12, type: 'CNAME', rdata: nameRdata('c.tracker.example') }, { name: 'c.tracker.example', type: 'A', rdata: ipv4('198.18.3.3') }],
    });
    const benign = dnsMessage({ response: true, questions: [{ name: 'www.shop.example' }], answers: [{ name: 12, type: 'CNAME', rdata: nameRdata('cdn.shop.example') }] });
    const out = run(inst, [
      item(packet({ proto: 'udp', src: '198.18.0.53', dst: '198.18.0.1', srcPort: 53, dstPort: 40000, payload: answer }), { flowId: 1, direction: 1 }),
      item(packet({ proto: 'udp', src: '198.18.0.53', dst: '198.18.0.1', srcPort: 53, dstPort: 40001, payload: benign }), { flowId: 2, direction: 1 }),
    ]);
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.CONTINUE]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.metadata])).toEqual([[0, 1002001, { rrname: 'metrics.shop.example', alias: 'c.tracker.example', listed: 'tracker.example', action: 'drop' }]]);
  });

  it('logs how many domains were loaded', async () => {
    const logs: LogLine[] = [];
    await instance('dns_guard', { blocklist: ['a.example', 'b.example', 'a.example'] }, logs);
    expect(logs.map((l) => l.message)).toContain('blocklist: 2 domains');
  });
});

describe('dns_guard tunnelling heuristics', () => {
  const rand = (n: number, alphabet: string, seed: number) => {
    let s = seed >>> 0;
    let out = '';
    for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; out += alphabet[s % alphabet.length]; }
    return out;
  };

  it('long labels, long names and high-entropy subdomains are flagged with their own sids', async () => {
    const inst = await instance('dns_guard', { rate_queries: 0 });
    const b32 = 'abcdefghijklmnopqrstuvwxyz234567';
    const iodine = `${rand(60, b32, 1)}.t.tunnel.example`;
    const dnscat = `${rand(30, '0123456789abcdef', 2)}.${rand(30, '0123456789abcdef', 3)}.${rand(30, '0123456789abcdef', 4)}.c2.example`;
    const longName = Array.from({ length: 6 }, (_, i) => rand(40, 'abcdefgh', i + 10)).join('.') + '.example';
    const benign = ['www.example.com', 'ec2-198-18-1-1.compute-1.amazonaws.com', 'r3---sn-4g5e6nze.googlevideo.com', 'login.microsoftonline.com', '_ldap._tcp.dc._msdcs.corp.example'];
    const out = run(inst, [query(iodine, { flowId: 1 }), query(dnscat, { flowId: 2 }), query(longName, { flowId: 3 }), ...benign.map((n, i) => query(n, { flowId: 10 + i }))]);
    const by = (i: number) => out.alerts.filter((a) => a.index === i).map((a) => a.sigId).sort();
    expect(by(0)).toEqual([1002002, 1002003]);
    expect(by(1)).toEqual([1002003]);
    expect(by(2)).toContain(1002005);
    for (let i = 3; i < 3 + benign.length; i++) expect(by(i)).toEqual([]);
    const ent = out.alerts.find((a) => a.index === 0 && a.sigId === 1002003)!.metadata as { entropy: number; subdomain_length: number };
    expect(ent.subdomain_length).toBe(62); // the 60-byte label plus ".t"
    expect(ent.entropy).toBeGreaterThan(4.0);
    expect(out.verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true); // tunnel_action defaults to alert
  });

  it('thresholds and tunnel_action come from the config; 0 switches a check off', async () => {
    const inst = await instance('dns_guard', { long_label: 20, entropy_min_length: 0, long_name: 0, tunnel_action: 'block_flow' });
    const out = run(inst, [query('a'.repeat(20) + '.example', { flowId: 1 }), query('a'.repeat(19) + '.example', { flowId: 2 })]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.CONTINUE]);
    expect(sids(out.alerts)).toEqual([1002002]);
  });

  it('query rate per source in a sliding window: one alert when crossing, per source, window slides', async () => {
    const inst = await instance('dns_guard', { rate_queries: 5, rate_window_s: 10, rate_action: 'block_src', block_ttl: 120 });
    const items = [];
    for (let i = 0; i < 8; i++) items.push(query(`q${i}.example`, { flowId: 100 + i, src: '198.18.0.9', t: i * 0.5 }));
    for (let i = 0; i < 5; i++) items.push(query(`q${i}.example`, { flowId: 200 + i, src: '198.18.0.10', t: 4 }));
    const out = run(inst, items);
    expect(out.verdicts.slice(0, 8)).toEqual([0, 0, 0, 0, 0, Verdict.BLOCK_SRC, Verdict.BLOCK_SRC, Verdict.BLOCK_SRC]);
    expect(out.args.slice(5, 8)).toEqual([120, 120, 120]);
    expect(out.verdicts.slice(8)).toEqual([0, 0, 0, 0, 0]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[5, 1002004]]);
    // 30 s later the window has emptied for the first source
    const later = run(inst, [query('late.example', { flowId: 300, src: '198.18.0.9', t: 40 })]);
    expect(later.verdicts).toEqual([0]);
  });
});
