// A module that traps on a capture gets its packets the failure policy
// (fail-closed: dropped). The summary said "drop 158" and nothing about why:
// the failures were only in --json and the EVE stats. It now says so too.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, DEMO_PCAP, requireBuilt, ROOT } from './support.js';

beforeAll(() => requireBuilt());

const OOB = join(ROOT, 'test', 'hostile', 'modules', 'oob_load.wat');

describe('inspect --pcap summary of a module that fails', () => {
  it('counts its failed calls, as --json does', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', OOB, '--no-progress']);
    expect(r.status).toBe(0);
    const json = JSON.parse(cli(['inspect', '--pcap', DEMO_PCAP, '--module', OOB, '--no-progress', '--json']).stdout) as { counters: { module_failures: number; module_failure_packets: number; inspected: number } };
    const n = json.counters.module_failures;
    expect(n).toBeGreaterThan(0);
    // Every packet of a failed call's batch gets the policy: here the module traps on every batch, so all inspected packets.
    const p = json.counters.module_failure_packets;
    expect(p).toBe(json.counters.inspected);
    expect(p).toBeGreaterThan(n);
    expect(r.stdout).toMatch(new RegExp(`module failures\\s+${n} failed module calls? \\(a trap, the CPU budget or the memory limit; .*\\): ${p} packets got the module's failure policy, every packet of a failed call's batch, not only the one it failed on`));
  });

  it('says nothing of failures when there were none', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'basic_inspect', '--no-progress']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/module failures/);
  });
});
