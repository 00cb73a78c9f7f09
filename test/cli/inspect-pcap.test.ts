import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { captureFromBytes } from '../../host/capture/reader.js';
import { PcapngWriter, PcapWriter } from '../../host/capture/writer.js';
import { buildPacket, toLinkType } from '../../host/packet/build.js';
import { LinkType } from '../../host/packet/types.js';
import { CLI, DEMO_PCAP, cli, requireBuilt, tempDir, toolOrSkip } from './support.js';

function tsharkCount(file: string, filter?: string): number {
  const args = ['-r', file, '-T', 'fields', '-e', 'frame.number'];
  if (filter) args.push('-Y', filter);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

describe('secuxflow inspect --pcap (the main job)', () => {
  beforeAll(() => requireBuilt());

  it('inspects the sample capture on its defaults and prints a summary with alerts', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/packets\s+\d[\d,]* read/);
    expect(r.stdout).toMatch(/alerts\s+[1-9]/);
    expect(r.stdout).toMatch(/packets\/s/);
    expect(r.stdout).not.toMatch(/not inspected/);
  });

  it('says so when stored rules send nothing to the modules (a rule clear stores such a set)', () => {
    const dir = tempDir('sf-idle-rules-');
    expect(cli(['rule', 'clear', '--state-dir', dir]).status).toBe(0);
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--state-dir', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\(inspected 0\)\n  not inspected +no packet reached the modules: the rules send none to inspection \(secuxflow rule list shows them; --rules FILE runs others, or secuxflow rule default inspect\)\n/);
  });

  it('--json counts agree with an independent read of the capture and with tshark', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    const frames = [...captureFromBytes(new Uint8Array(readFileSync(DEMO_PCAP))).frames()].length;
    expect(report.counters.packets_read).toBe(frames);
    expect(report.counters.pass + report.counters.drop).toBe(frames);
    if (toolOrSkip('tshark')) expect(report.counters.packets_read).toBe(tsharkCount(DEMO_PCAP));
    expect(report.alertsBySignature.length).toBeGreaterThan(0);
    expect(report.modules).toContain('basic_inspect');
  });

  it('--eve writes Suricata-shaped events whose stats match the summary', () => {
    const dir = tempDir('eve');
    const eve = join(dir, 'eve.json');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--eve', eve, '--json']);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    const events = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const byType = (t: string) => events.filter((e) => e.event_type === t);
    for (const e of events) {
      expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$/);
    }
    const alerts = byType('alert');
    expect(alerts.length).toBe(summary.counters.alerts);
    for (const a of alerts) {
      expect(a).toHaveProperty('flow_id');
      expect(a).toHaveProperty('src_ip');
      expect(a).toHaveProperty('dest_ip');
      expect(a.alert).toMatchObject({ gid: 1, rev: 1 });
      expect(['allowed', 'blocked']).toContain(a.alert.action);
      expect(typeof a.alert.signature_id).toBe('number');
      expect(typeof a.alert.signature).toBe('string');
      expect(typeof a.alert.category).toBe('string');
      expect(a.alert.severity).toBeGreaterThanOrEqual(1);
    }
    const flows = byType('flow');
    expect(flows.length).toBe(summary.counters.flows);
    // a flow record says it alerted exactly when an alert record names its flow
    const alertedFlows = new Set(alerts.map((a) => a.flow_id));
    expect(alertedFlows.size).toBeGreaterThan(0);
    for (const f of flows) expect(f.flow.alerted, `flow ${f.flow_id}`).toBe(alertedFlows.has(f.flow_id));
    const flowPkts = flows.reduce((n, f) => n + f.flow.pkts_toserver + f.flow.pkts_toclient, 0);
    expect(flowPkts).toBeGreaterThan(0);
    for (const f of flows) {
      expect(f.flow).toHaveProperty('bytes_toserver');
      expect(f.flow).toHaveProperty('start');
      expect(f.flow).toHaveProperty('end');
      expect(f.flow).toHaveProperty('state');
      expect(f.flow).toHaveProperty('verdict');
    }
    // protocol events read client -> server, as Suricata logs transactions
    const http = byType('http');
    expect(http.length).toBeGreaterThan(0);
    for (const h of http) {
      const flow = flows.find((f) => f.flow_id === h.flow_id);
      expect(flow, `flow record of http event flow ${h.flow_id}`).toBeDefined();
      expect([h.src_ip, h.src_port, h.dest_ip, h.dest_port]).toEqual([flow.src_ip, flow.src_port, flow.dest_ip, flow.dest_port]);
      expect(h.dest_port).toBe(80);
      expect(h.http).toHaveProperty('hostname');
      expect(h.http).toHaveProperty('url');
    }
    expect(byType('dns').length).toBeGreaterThan(0);
    const stats = byType('stats');
    expect(stats).toHaveLength(1);
    expect(events[events.length - 1].event_type).toBe('stats');
    expect(stats[0].stats.decoder.pkts).toBe(summary.counters.packets_read);
    expect(stats[0].stats.decoder.invalid).toBe(summary.counters.malformed);
    expect(stats[0].stats.actions.drop).toBe(summary.counters.drop);
    // protocol events per kind: the records written, the summary and Suricata's app_layer.tx agree
    const kinds = ['dns', 'tls', 'http', 'ssh', 'other'];
    const written = Object.fromEntries(kinds.map((k) => [k, byType(k).length]));
    expect(written.http).toBeGreaterThan(0);
    expect(summary.counters.events_by_kind).toEqual(written);
    expect(stats[0].stats.app_layer.tx).toEqual(written);
    expect(summary.counters.events).toBe(kinds.reduce((n, k) => n + written[k]!, 0));
    if (toolOrSkip('tshark')) expect(stats[0].stats.decoder.pkts).toBe(tsharkCount(DEMO_PCAP));
  });

  it('--eve - streams events on stdout and moves the summary to stderr', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--eve', '-', '--no-progress']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(r.stderr).toMatch(/secuxflow inspect summary/);
  });

  it('--write-dropped writes exactly the dropped frames', () => {
    const dir = tempDir('dropped');
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ default_policy: 'inspect', rules: [{ id: 1, dst_port: 22, proto: 'tcp', action: 'drop' }] }));
    const out = join(dir, 'dropped.pcap');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--rules', rules, '--write-dropped', out, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counters.drop).toBeGreaterThan(0);
    const written = [...captureFromBytes(new Uint8Array(readFileSync(out))).frames()];
    expect(written.length).toBe(report.counters.drop);
    if (toolOrSkip('tshark')) {
      // every SSH packet to the server was dropped by rule 1
      expect(tsharkCount(out, 'tcp.dstport == 22')).toBe(tsharkCount(DEMO_PCAP, 'tcp.dstport == 22'));
    }
  });

  it('--write-dropped keeps mixed link types in a .pcapng, and says what a .pcap could not hold', () => {
    const dir = tempDir('mixed');
    const input = join(dir, 'mixed.pcapng');
    const w = new PcapngWriter({ path: input, interfaces: [{ linkType: LinkType.ETHERNET }, { linkType: LinkType.LINUX_SLL2 }] });
    for (let i = 0; i < 6; i++) {
      const eth = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000 + i, dstPort: 22 });
      const iface = i % 2;
      w.write({ data: iface ? toLinkType(eth, LinkType.LINUX_SLL2) : eth, tsSec: 1_767_225_600 + i, tsNsec: 0, iface });
    }
    w.close();
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ rules: [{ id: 1, dst_port: 22, proto: 'tcp', action: 'drop' }] }));

    const ng = join(dir, 'dropped.pcapng');
    const r1 = cli(['inspect', '--pcap', input, '--rules', rules, '--write-dropped', ng, '--json']);
    expect(r1.status).toBe(0);
    const kept = [...captureFromBytes(new Uint8Array(readFileSync(ng))).frames()];
    expect(kept.map((f) => f.linkType).sort()).toEqual([1, 1, 1, 276, 276, 276]);

    const classic = join(dir, 'dropped.pcap');
    const r2 = cli(['inspect', '--pcap', input, '--rules', rules, '--write-dropped', classic, '--no-progress']);
    expect(r2.status).toBe(0);
    expect(r2.stdout).toMatch(/3 dropped frames of another link type were not written: use a \.pcapng/);
    expect([...captureFromBytes(new Uint8Array(readFileSync(classic))).frames()]).toHaveLength(3);
  });

  it('a truncated capture: everything before the fault is processed, the error names the offset, exit 1', () => {
    const dir = tempDir('corrupt');
    const bytes = readFileSync(DEMO_PCAP);
    const cut = Math.floor(bytes.length / 2);
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, bytes.subarray(0, cut));
    const r = cli(['inspect', '--pcap', file, '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_CAPTURE/);
    expect(r.stderr).toMatch(/byte \d+|offset \d+/);
    const report = JSON.parse(r.stdout);
    let intact = 0;
    try {
      for (const _ of captureFromBytes(new Uint8Array(bytes.subarray(0, cut))).frames()) intact++;
    } catch {
      // the reader stops at the cut, after the frames before it
    }
    expect(intact).toBeGreaterThan(0);
    expect(report.counters.packets_read).toBe(intact);
    expect(report.error.code).toBe('E_CAPTURE');
  });

  it('reads a capture from a pipe (--pcap - and /dev/stdin), pcap and pcapng, with the same counts as from the file', () => {
    const fromFile = (pcap: string) => JSON.parse(cli(['inspect', '--pcap', pcap, '--json']).stdout) as { counters: Record<string, unknown> };
    for (const file of [DEMO_PCAP, DEMO_PCAP.replace(/\.pcap$/, '.pcapng')]) {
      const expected = fromFile(file).counters;
      for (const arg of ['-', '/dev/stdin']) {
        const r = spawnSync(process.execPath, [CLI, 'inspect', '--pcap', arg, '--json'], { input: readFileSync(file), encoding: 'utf8', env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('state') } });
        expect(r.status, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout) as { counters: Record<string, unknown>; format: string; error: unknown };
        expect(got.error).toBeNull();
        expect(got.format).toBe(file.endsWith('.pcapng') ? 'pcapng' : 'pcap');
        expect(got.counters).toEqual(expected);
      }
    }
    // larger than the reader's chunks and than what one pipe read returns
    const big = join(tempDir('pipe'), 'big.pcap');
    const w = new PcapWriter({ path: big, linkType: LinkType.ETHERNET });
    for (let i = 0; i < 4000; i++) {
      w.write({ data: buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1024 + (i % 500), dstPort: 53, payload: 'x'.repeat(300 + (i % 700)) }), tsSec: 1_767_225_600 + (i >> 6), tsNsec: i * 1000 });
    }
    w.close();
    const bigPiped = spawnSync(process.execPath, [CLI, 'inspect', '--pcap', '-', '--json'], { input: readFileSync(big), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(bigPiped.status, bigPiped.stderr).toBe(0);
    expect((JSON.parse(bigPiped.stdout) as { counters: unknown }).counters).toEqual(fromFile(big).counters);
    expect((JSON.parse(bigPiped.stdout) as { counters: { packets_read: number } }).counters.packets_read).toBe(4000);

    // cut short in a pipe: the offset is named and what came before is processed
    const cut = spawnSync(process.execPath, [CLI, 'inspect', '--pcap', '-'], { input: readFileSync(DEMO_PCAP).subarray(0, 1000), encoding: 'utf8' });
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(/error\[E_CAPTURE\]: <stdin>: byte offset \d+: truncated record/);
    expect(cut.stdout).toMatch(/packets\s+11 read/);
  });

  it('not a capture at all: a clear error and no crash', () => {
    const dir = tempDir('garbage');
    const file = join(dir, 'x.pcap');
    writeFileSync(file, 'this is not a capture file at all');
    const r = cli(['inspect', '--pcap', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_CAPTURE.*(magic|not a pcap)/i);
    const missing = cli(['inspect', '--pcap', join(dir, 'nope.pcap')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.pcap/);
  });
});
