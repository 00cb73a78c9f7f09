// `--module-config threat_intel=a.json --module-config threat_intel=b.json`:
// a module takes one configuration, and the second file used to replace the
// first without a word (half of the IOC lists gone). Like a single-value flag
// given twice, it is refused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

describe('inspect --module-config given twice for one module', () => {
  it.each([
    ['a dry-run packet', ['--ip', '198.18.0.10', '--port', '53', '--proto', 'udp']],
    ['a capture', ['--pcap', DEMO_PCAP]],
  ])('is refused for %s, naming both files', (_what, args) => {
    const dir = tempDir('config-twice');
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, '{"blocklist": ["evil.example"]}');
    writeFileSync(b, '{"blocklist": ["worse.example"]}');
    const r = cli(['inspect', ...args, '--module', 'dns_guard', '--module-config', `dns_guard=${a}`, '--module-config', `dns_guard=${b}`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error[E_USAGE]: --module-config dns_guard is given twice (${a}, ${b}): a module takes one configuration file`);
    expect(r.stderr).toMatch(/hint: merge them into one file/);
    expect(r.stdout).toBe('');
  });
});
