// inspect --pcap --stream-depth / --stream-memcap: the offline engine takes
// the daemon's stream budgets, so a capture of a memory attack can be
// replayed under the budget the live system runs with, and the summary says
// what the cap dropped.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket } from '../../host/packet/build.js';
import { LinkType, TcpFlag } from '../../host/packet/types.js';
import { cli, requireBuilt, tempDir } from './support.js';

const FLOWS = 40;

describe('inspect --pcap: stream budgets', () => {
  let pcap = '';
  let rules = '';
  beforeAll(() => {
    requireBuilt();
    const dir = tempDir('sf-stream-opts-');
    pcap = join(dir, 'stream-hog.pcap');
    rules = join(dir, 'inspect.json');
    writeFileSync(rules, '{"default_policy":"inspect","rules":[]}');
    // Two one-byte segments per flow, the second just inside a 64 KiB depth:
    // each flow's buffer grows to the whole depth.
    const w = new PcapWriter({ path: pcap, linkType: LinkType.ETHERNET });
    let t = 1_767_225_600;
    for (let i = 0; i < FLOWS; i++) {
      const base = { src: `198.18.0.${i + 1}`, dst: '198.18.1.1', proto: 'tcp' as const, srcPort: 40_000 + i, dstPort: 9000, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, ack: 1 };
      w.write({ data: buildPacket({ ...base, seq: 1000, payload: 'a' }), tsSec: t, tsNsec: 0 });
      w.write({ data: buildPacket({ ...base, seq: 1000 + 64 * 1024 - 10, payload: 'b' }), tsSec: t++, tsNsec: 0 });
    }
    w.close();
  });

  const run = (...extra: string[]) => cli(['inspect', '--pcap', pcap, '--no-progress', '--rules', rules, '--module', 'basic_inspect', ...extra]);

  it('under a 1 MiB memcap the segments that do not fit are dropped and the summary names the option', () => {
    const r = run('--stream-memcap', '1MiB');
    expect(r.status, r.stderr).toBe(0);
    const m = /stream memcap\s+(\d+) TCP segments dropped uninspected: the stream buffers held --stream-memcap/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const dropped = Number(m![1]);
    // 1 MiB holds 16 buffers of 64 KiB: once they are taken, a flow's first
    // segment needs a buffer too, so at most ~16 flows get both through.
    expect(2 * FLOWS - dropped).toBeGreaterThan(0);
    expect(2 * FLOWS - dropped).toBeLessThanOrEqual(2 * 17);
    const json = JSON.parse(run('--stream-memcap', '1048576', '--json').stdout);
    expect(json.counters.reassembly.stream_memcap_drops).toBe(dropped);
    expect(json.counters.by_stage.memcap).toBe(dropped);
  });

  it('with the default memcap nothing is dropped; a 16-byte depth keeps the buffers small under the same 1 MiB cap', () => {
    expect(JSON.parse(run('--json').stdout).counters.reassembly.stream_memcap_drops).toBe(0);
    const small = JSON.parse(run('--stream-memcap', '1MiB', '--stream-depth', '16', '--json').stdout);
    expect(small.counters.reassembly.stream_memcap_drops).toBe(0);
    expect(small.counters.reassembly.stream_bytes_beyond_depth).toBeGreaterThan(0);
  });

  it.each([
    [['--stream-memcap', '12 parsecs'], /--stream-memcap "12 parsecs": not a size/, /for example --stream-memcap 1MiB/],
    [['--stream-memcap', '4KiB'], /--stream-memcap 4KiB: out of range/, /give 1 MiB to/],
    [['--stream-depth', '65GiB'], /--stream-depth 65GiB: out of range/, /give 1 byte to 64 MiB/],
    [['--stream-depth', '0'], /--stream-depth 0: 0 would give TCP modules no stream bytes/, /in Suricata 0 means unlimited; here give the bytes to keep, up to 64MiB/],
  ])('refuses %j with a message naming the flag and what to give', (args, message, hint) => {
    const r = run(...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
  });

  it('refuses the stream options on a dry-run packet, where no stream is kept', () => {
    const r = cli(['inspect', '--ip', '198.18.1.1', '--port', '80', '--proto', 'tcp', '--stream-depth', '1MiB']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--stream-depth only applies to --pcap runs/);
  });
});
