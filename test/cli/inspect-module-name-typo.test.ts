// `inspect --module NAME` with a misspelt name listed only the shipped
// modules, so an author whose own registered module was one letter off was
// told to register it (again) instead of being shown the name they meant.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('inspect --module with a name that is neither registered nor shipped', () => {
  beforeAll(() => requireBuilt());

  it('suggests the registered name it is closest to, and lists the registered ones', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('typo') };
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'hdr_guard'], env).status).toBe(0);
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'hdr_gaurd'], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_NOT_FOUND\]: no shipped module named "hdr_gaurd", and none is registered under that name/);
    expect(r.stderr).toMatch(/hint: did you mean hdr_guard\? registered modules: hdr_guard; shipped modules: basic_inspect, /);
  });

  it('suggests a shipped name too', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'http-waf'], { SECUXFLOW_STATE_DIR: tempDir('typo') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/hint: did you mean http_waf\? shipped modules: /);
  });

  it('no suggestion for a name far from every module', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'zzzzzzzz'], { SECUXFLOW_STATE_DIR: tempDir('typo') });
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/did you mean/);
    expect(r.stderr).toMatch(/hint: shipped modules: .*; register your own with secuxflow module load FILE --name zzzzzzzz/);
  });
});
