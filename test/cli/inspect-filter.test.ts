// inspect --pcap --filter: only the packets a tcpdump filter matches are
// read; the summary, --json and EVE say so, and a bad filter fails before
// the run with the word it did not know.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../host/capture/reader.js';
import { cli, DEMO_PCAP, requireBuilt, tempDir, toolOrSkip } from './support.js';

beforeAll(() => requireBuilt());

describe('inspect --pcap --filter', () => {
  const total = () => [...openCapture(DEMO_PCAP).frames()].length;

  it.runIf(toolOrSkip('tcpdump'))('reads the packets tcpdump selects, and says how many were left out', () => {
    const out = join(tempDir('filter'), 'dns.pcap');
    execFileSync('tcpdump', ['-r', DEMO_PCAP, '-w', out, 'udp port 53'], { stdio: 'pipe' });
    const selected = [...openCapture(out).frames()].length;
    expect(selected).toBeGreaterThan(0);
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--filter', 'udp port 53', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.counters.packets_read).toBe(selected);
    expect(j.filter).toBe('udp port 53');
    expect(j.filteredOut).toBe(total() - selected);
    const human = cli(['inspect', '--pcap', DEMO_PCAP, '--filter', 'udp port 53', '--no-progress']);
    expect(human.stdout).toContain(`filter           udp port 53: ${selected} packets matched, ${total() - selected} left out`);
    const eve = cli(['inspect', '--pcap', DEMO_PCAP, '--filter', 'udp port 53', '--eve', '-', '--no-progress']);
    const records = eve.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(records.filter((e) => e.src_port !== undefined).every((e) => e.src_port === 53 || e.dest_port === 53)).toBe(true);
  });

  it('refuses a filter it cannot read before reading the capture, and on a dry-run packet', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--filter', 'udp prt 53']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error[E_USAGE]: --filter "udp prt 53": "prt" is not a word this filter knows (did you mean "port"?)');
    const dry = cli(['inspect', '--ip', '198.18.0.1', '--port', '53', '--proto', 'udp', '--filter', 'udp']);
    expect(dry.stderr).toMatch(/--filter only applies to --pcap runs/);
  });
});
