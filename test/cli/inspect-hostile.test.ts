// `inspect` fed hostile input through the real CLI: each case gets a stable
// error code and a message naming the problem, and leaves no misleading file.
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

describe('inspect --pcap outputs that cannot all be opened', () => {
  it('--eve fine but --write-dropped in a missing directory: E_IO naming it, and no --eve file created or emptied', () => {
    const dir = tempDir('hostile-out');
    const freshEve = join(dir, 'fresh.json');
    const oldEve = join(dir, 'old.json');
    writeFileSync(oldEve, 'earlier run\n');
    for (const eve of [freshEve, oldEve]) {
      const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', eve, '--write-dropped', join(dir, 'missing', 'd.pcap')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/error\[E_IO\]: --write-dropped: cannot create capture file '.*missing\/d\.pcap': ENOENT[^]*hint: .*no output was written/);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    expect(existsSync(freshEve)).toBe(false);
    expect(readFileSync(oldEve, 'utf8')).toBe('earlier run\n');
  });

  it('--eve naming a directory and a fine --write-dropped: E_IO naming the EVE output, and no dropped-frames file left', () => {
    const dir = tempDir('hostile-out');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', dir, '--write-dropped', join(dir, 'd.pcap')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_IO\]: cannot write EVE output .*EISDIR/);
    expect(existsSync(join(dir, 'd.pcap'))).toBe(false);
  });
});

describe('inspect --pcap outputs behind symlinks', () => {
  it('--eve through a dangling symlink with an unwritable --write-dropped: E_IO, and the symlink is still there', () => {
    const dir = tempDir('hostile-link');
    const link = join(dir, 'eve.json');
    symlinkSync(join(dir, 'target.json'), link);
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', link, '--write-dropped', join(dir, 'missing', 'd.pcap')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[E_IO]: --write-dropped');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe('inspect dry-run packets too big for an IP packet', () => {
  it.each([
    ['udp', '198.18.0.9', 65508, 65507, 'UDP/IPv4'],
    ['tcp', '198.18.0.9', 65496, 65495, 'TCP/IPv4'],
    ['icmp', '2001:db8::9', 65528, 65527, 'ICMP/IPv6'],
  ])('a %s payload one byte over the limit to %s: E_USAGE naming --payload and the limit', (proto, ip, size, max, kind) => {
    const r = cli(['inspect', '--ip', ip, '--proto', proto, ...(proto === 'icmp' ? [] : ['--port', '53']), '--payload', 'a'.repeat(size)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error[E_USAGE]: --payload: ${size} bytes do not fit one ${kind} packet (at most ${max})`);
    expect(r.stderr).toContain('hint: ');
  });

  it('a payload of exactly the limit is built', () => {
    const r = cli(['inspect', '--ip', '198.18.0.9', '--proto', 'udp', '--port', '53', '--payload', 'a'.repeat(65507), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).packet).toContain('payload 65507');
  });
});

describe('inspect dry-run flags with bad values say how to fix them', () => {
  const base = ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp'];
  it.each([
    ['--port 65536', ['inspect', '--ip', '198.18.0.1', '--port', '65536', '--proto', 'tcp'], /--port: "65536"[^]*hint: give a decimal number/],
    ['--sport -1', [...base, '--sport', '-1'], /--sport: "-1"[^]*hint: give a decimal number/],
    ['--ip with a zone id', ['inspect', '--ip', 'fe80::1%eth0', '--port', '80', '--proto', 'tcp'], /--ip: "fe80::1%eth0"[^]*hint: use dotted IPv4/],
    ['--src IPv4 with --ip IPv6', ['inspect', '--ip', '2001:db8::2', '--src', '198.18.0.1', '--port', '80', '--proto', 'tcp'], /different IP versions[^]*hint: give --src an IPv6 address/],
    ['--proto empty', ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', ''], /--proto: ""[^]*hint: use --proto tcp/],
    ['--payload-hex odd length', [...base, '--payload-hex', '414'], /--payload-hex: "414"[^]*hint: two hex digits per byte/],
    ['--vlan empty', [...base, '--vlan', ''], /--vlan: ""[^]*hint: give a decimal id/],
  ])('%s: E_USAGE with a hint', (_what, args, pattern) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]/);
    expect(r.stderr).toMatch(pattern);
  });
});

describe('inspect echoes hostile text escaped', () => {
  const ESC_LINE = '\u001b[2J\nhint: run rm -rf';
  it.each([
    ['--ip', ['inspect', '--ip', `1.2.3.4${ESC_LINE}`, '--port', '80', '--proto', 'tcp']],
    ['--port', ['inspect', '--ip', '1.2.3.4', '--port', `80${ESC_LINE}`, '--proto', 'tcp']],
    ['--proto', ['inspect', '--ip', '1.2.3.4', '--port', '80', '--proto', `tcp${ESC_LINE}`]],
    ['--pcap (missing file)', ['inspect', '--pcap', `/nonexistent-dir-sf/x${ESC_LINE}`]],
    ['--eve (missing directory)', ['inspect', '--pcap', DEMO_PCAP, '--eve', `/nonexistent-dir-sf/x${ESC_LINE}`]],
  ])('a control character in %s: the error shows it escaped, with no terminal escape and no forged hint line', (_flag, args) => {
    const r = cli(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).not.toMatch(/^hint: run rm/m);
    expect(r.stderr).toContain('\\x1b[2J\\nhint: run rm -rf');
  });

  it('a capture file whose name holds an escape: the E_CAPTURE message shows it escaped', () => {
    const dir = tempDir('hostile-name');
    const path = join(dir, 'bad\u001b[2J.pcap');
    const header = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
    // Cut inside its file header: refused before the run, so no summary.
    writeFileSync(path, header.subarray(0, 10));
    const r = cli(['inspect', '--pcap', path, '--no-progress']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_CAPTURE\]: .*bad\\x1b\[2J\.pcap: byte offset 0: truncated pcap file header/);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stdout).toBe('');
    // Cut inside its first record: the run's summary names the capture too.
    writeFileSync(path, Buffer.concat([header, Buffer.alloc(10)]));
    const cut = cli(['inspect', '--pcap', path, '--no-progress']);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(/error\[E_CAPTURE\]: .*bad\\x1b\[2J\.pcap: byte offset 24: truncated record header/);
    expect(cut.stderr).not.toContain('\u001b');
    expect(cut.stdout).toMatch(/capture +.*bad\\x1b\[2J\.pcap \(pcap\)/);
    expect(cut.stdout).not.toContain('\u001b');
  });

  it('a module whose alert message is made of terminal escapes: the dry-run path and the capture summary show it escaped', () => {
    const mod = join(import.meta.dirname, '..', 'fixtures', 'modules-hostile', 'escape_alert.wat');
    for (const args of [
      ['inspect', '--ip', '198.18.0.1', '--port', '80', '--proto', 'tcp', '--module', mod],
      ['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', mod],
    ]) {
      const r = cli(args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('\\x1b[31mEVIL\\x1b]0;pwned\\x07\\nfinal    PASS: forged');
      expect(r.stdout).not.toContain('\u001b');
      expect(r.stdout).not.toMatch(/^final    PASS: forged/m);
    }
  });

  it('a module flooding alerts past its budget: the summary and --json say how many were dropped, and kept + dropped is all it raised', () => {
    const mod = join(import.meta.dirname, '..', 'fixtures', 'modules-hostile', 'alert_flood.wat');
    const json = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--json', '--module', mod]);
    expect(json.status, json.stderr).toBe(0);
    const c = (JSON.parse(json.stdout) as { counters: Record<string, number> }).counters;
    expect(c.alerts_dropped).toBeGreaterThan(0);
    expect(c.alerts! + c.alerts_dropped!).toBe(300 * c.inspected!); // the fixture raises 300 per packet
    const text = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', mod]);
    expect(text.stdout).toMatch(new RegExp(`dropped by modules +${c.alerts_dropped!.toLocaleString('en-US')} alerts, 0 events, 0 log lines over their output budgets`));
  });
});
