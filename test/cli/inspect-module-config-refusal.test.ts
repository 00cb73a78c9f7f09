// inspect --module with a configuration the module refuses: the hint names
// the file to fix, or, when there was none, the flag that gives one.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PCAP, cli, requireBuilt, tempDir } from './support.js';

describe('inspect: a module refuses its configuration', () => {
  beforeAll(() => requireBuilt());

  it('a file it cannot read: the hint names that file', () => {
    const bad = join(tempDir('sf-modcfg-'), 'ti.json');
    writeFileSync(bad, '{"bogus": 1');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', 'threat_intel', '--module-config', `threat_intel=${bad}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_CONFIG\]: module threat_intel refused its configuration/);
    expect(r.stderr).toContain(`hint: fix ${bad} (the module's words above say what it could not take`);
  });

  it('a config file that is not there: said as such, without the syscall text', () => {
    const missing = join(tempDir('sf-modcfg-missing-'), 'nope.json');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', 'threat_intel', '--module-config', `threat_intel=${missing}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error[E_IO]: --module-config threat_intel: the config file ${missing} does not exist\n  hint: give threat_intel=FILE with the path of its JSON or YAML config`);
    expect(r.stderr).not.toMatch(/no such file or directory, open/);
  });

  it('none given to a module that needs one: the hint gives the flag', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', 'ratelimit']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('hint: it does not start without a configuration: give one with --module-config ratelimit=FILE');
  });

  it('a config for a module the run does not load (threat_intel is not in the default set): the hint says to add --module', () => {
    const iocs = join(tempDir('sf-modcfg-'), 'iocs.txt');
    writeFileSync(iocs, '198.18.0.66\n');
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module-config', `threat_intel=${iocs}`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error[E_USAGE]: --module-config threat_intel: no module of that name is loaded\n'
      + '  hint: add --module threat_intel to load it (a config does not load its module; loaded here: basic_inspect, http_waf,');
    const bare = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module-config', iocs]);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('expected NAME=FILE\n  hint: name the module the file configures, e.g. --module-config threat_intel=iocs.txt');
  });
});
