import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireBuilt, tempDir } from './support.js';
import { DEFAULT_MODULES } from '../../host/engine/setup.js';

const SQLI = "GET /search?q=1' OR '1'='1' -- HTTP/1.1\r\nHost: shop.example\r\n\r\n";

describe('secuxflow inspect (dry-run packet)', () => {
  beforeAll(() => requireBuilt());

  it('prints the decision path: packet, rule match, each module, final verdict', () => {
    const r = cli(['inspect', '--ip', '198.18.0.10', '--src', '198.18.5.5', '--port', '80', '--sport', '41234', '--proto', 'tcp', '--payload', SQLI]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/packet\s+tcp 198\.18\.5\.5:41234 -> 198\.18\.0\.10:80/);
    expect(r.stdout).toMatch(/default policy -> inspect/);
    expect(r.stdout).toMatch(/basic_inspect/);
    expect(r.stdout).toMatch(/alert sid 100000\d/);
    expect(r.stdout).toMatch(/final\s+(DROP|BLOCK_FLOW|BLOCK_SRC): the packet is dropped/);
  });

  it('--json carries the same decision, and every argument shows up in it', () => {
    const r = cli(['inspect', '--ip', '2001:db8::10', '--src', '2001:db8::77', '--port', '53', '--sport', '5353', '--proto', 'udp',
      '--payload-hex', 'de ad be ef', '--vlan', '42', '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.packet).toMatch(/^udp \[2001:db8::77\]:5353 -> \[2001:db8::10\]:53 vlan 42 \(\d+ bytes, payload 4\)$/);
    expect(d.stage).toBe('module');
    expect(d.modules.map((m: { module: string }) => m.module)).toEqual(DEFAULT_MODULES);
    expect(d.dropped).toBe(false);
  });

  it('shows what modules report when the packet\'s flow ends: http_waf\'s unanswered request, in text and --json', () => {
    const req = 'GET /index.html HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8\r\n\r\n';
    const args = ['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp', '--payload', req, '--module', 'http_waf'];
    const text = cli(args);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/flow end \(the flow ends after this one packet\)\n  http_waf\n    http \{"hostname":"shop\.example","url":"\/index\.html","http_method":"GET"/);
    const d = JSON.parse(cli([...args, '--json']).stdout);
    expect(d.modules).toEqual([expect.objectContaining({ module: 'http_waf', verdict: 'CONTINUE', events: [] })]);
    expect(d.flow_end).toEqual([{ module: 'http_waf', alerts: [], events: [{ kind: 'http', data: expect.objectContaining({ url: '/index.html', http_method: 'GET', hostname: 'shop.example' }) }] }]);
  });

  it('a rule file decides before modules, and the matched rule is named', () => {
    const dir = tempDir('rules');
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, [
      'default_policy: pass',
      'rules:',
      '  - { id: 12, priority: 100, dst: 198.18.0.0/24, dst_port: 8000-8999, proto: tcp, action: drop, comment: no alt http }',
      '  - { id: 13, priority: 200, dst: 198.18.0.0/24, proto: tcp, action: inspect, modules: [basic_inspect] }',
    ].join('\n'));
    const drop = cli(['inspect', '--ip', '198.18.0.10', '--port', '8080', '--proto', 'tcp', '--rules', rules, '--json']);
    expect(drop.status).toBe(0);
    const d = JSON.parse(drop.stdout);
    expect(d.rule).toMatchObject({ id: 12, action: 'drop', comment: 'no alt http' });
    expect(d.modules).toHaveLength(0);
    expect(d.dropped).toBe(true);

    const inspect = JSON.parse(cli(['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp', '--rules', rules, '--json']).stdout);
    expect(inspect.rule.id).toBe(13);
    expect(inspect.modules[0].module).toBe('basic_inspect');

    const other = JSON.parse(cli(['inspect', '--ip', '198.18.9.9', '--port', '80', '--proto', 'udp', '--rules', rules, '--json']).stdout);
    expect(other.rule).toBeNull();
    expect(other.stage).toBe('default');
  });

  it('notes a --payload holding typed escapes (\\r\\n as backslash and letter), in text and --json, and not a real CR LF', () => {
    const typed = 'GET /?q=<script>alert(1)</script> HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n';
    const args = ['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp', '--module', 'http_waf'];
    const text = cli([...args, '--payload', typed]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^note\s+--payload is taken as typed: \\r \\n stayed a backslash/m);
    // What the note is about: http_waf waits for a line end and reports nothing.
    expect(text.stdout).not.toMatch(/alert sid/);
    const json = JSON.parse(cli([...args, '--payload', typed, '--json']).stdout);
    expect(json.notes).toHaveLength(1);
    expect(json.notes[0]).toContain('--payload-hex');
    const real = cli([...args, '--payload', typed.replaceAll('\\r\\n', '\r\n'), '--json']);
    const d = JSON.parse(real.stdout);
    expect(d.notes).toEqual([]);
    expect(d.modules[0].alerts.map((a: { signature_id: number }) => a.signature_id)).toContain(1001002);
  });

  it('notes a frame longer than the XDP program punts (1,792 bytes): live, the modules that answered here would not see it', () => {
    const args = ['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'udp', '--module', 'basic_inspect', '--json'];
    // 14 + 20 + 8 header bytes: 1,750 bytes of payload make a 1,792-byte frame, the longest punted.
    const longest = JSON.parse(cli([...args, '--payload', 'A'.repeat(1750)]).stdout);
    expect(longest.notes).toEqual([]);
    const over = JSON.parse(cli([...args, '--payload', 'A'.repeat(1751)]).stdout);
    expect(over.stage).toBe('module');
    expect(over.notes).toEqual([expect.stringMatching(/^the frame is 1,793 bytes, longer than the 1,792 the XDP program hands to the daemon: .*fail mode/)]);
    // A rule that decides without the modules punts nothing: no length note (only the one saying why no module ran).
    const state = tempDir('dry-run-long');
    expect(cli(['rule', 'add', '--action', 'pass', '--state-dir', state]).status).toBe(0);
    expect(JSON.parse(cli([...args, '--payload', 'A'.repeat(1751), '--state-dir', state]).stdout).notes).toEqual([expect.stringMatching(/^no module ran: rule 1 decides pass/)]);
  });

  it('icmp needs no port', () => {
    const r = cli(['inspect', '--ip', '198.18.0.10', '--proto', 'icmp', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).packet).toMatch(/^icmp 198\.18\.0\.1 -> 198\.18\.0\.10/);
  });

  it('tcp or udp without --port: says the packet needs a destination port, and shows the command with one', () => {
    for (const [proto, port] of [['tcp', 80], ['udp', 53]] as const) {
      const r = cli(['inspect', '--ip', '198.18.0.1', '--proto', proto]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`error[E_USAGE]: --port: a ${proto.toUpperCase()} packet needs a destination port\n`
        + `  hint: give it with --port, e.g. secuxflow inspect --ip 198.18.0.1 --proto ${proto} --port ${port}\n`);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['nothing to inspect', ['inspect'], /nothing to inspect/],
    ['port out of range', ['inspect', '--ip', '198.18.0.1', '--port', '70000', '--proto', 'tcp'], /--port: "70000"/],
    ['port not a number', ['inspect', '--ip', '198.18.0.1', '--port', '80x', '--proto', 'tcp'], /--port: "80x"/],
    ['unknown protocol', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'sctp'], /--proto: "sctp"/],
    ['bad address', ['inspect', '--ip', '300.1.1.1', '--port', '80', '--proto', 'tcp'], /--ip: "300\.1\.1\.1"/],
    ['mixed families', ['inspect', '--ip', '198.18.0.1', '--src', '2001:db8::1', '--port', '80', '--proto', 'tcp'], /--src/],
    ['icmp with a port', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'icmp'], /--port: ICMP has no ports/],
    ['two payloads', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--payload', 'a', '--payload-hex', '61'], /either --payload or --payload-hex/],
    ['bad hex', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--payload-hex', 'zz'], /--payload-hex/],
    ['bad vlan', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--vlan', '5000'], /--vlan: "5000"/],
    ['dry-run flag with --pcap', ['inspect', '--pcap', 'x.pcap', '--port', '80'], /--port builds a dry-run packet/],
    ['--eve on a dry run', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--eve', '-'], /--eve only applies to --pcap/],
    ['unknown module', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--module', 'nosuch'], /no shipped module named "nosuch"/],
    ['unknown option', ['inspect', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [what, args, pattern] of bad) {
    it(`bad input, ${what}: a non-zero exit and an error that names it`, () => {
      const r = cli(args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});
