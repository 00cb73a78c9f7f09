// inspect --pcap --never-block: FIN probes forged in a resolver's name make
// scan_flood ask for BLOCK_SRC; with the resolver listed, its probes' flows
// are blocked and its real queries afterwards still pass, as the daemon's
// never_block does live.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket } from '../../host/packet/build.js';
import { LinkType, TcpFlag } from '../../host/packet/types.js';
import { cli, requireBuilt, tempDir } from './support.js';

const RESOLVER = '198.18.5.53';
const SERVER = '198.18.1.1';

describe('inspect --pcap --never-block', () => {
  let pcap = '';
  let rules = '';
  beforeAll(() => {
    requireBuilt();
    const dir = tempDir('sf-never-block-');
    pcap = join(dir, 'forged-fin-probes.pcap');
    rules = join(dir, 'inspect.json');
    writeFileSync(rules, '{"default_policy":"inspect","rules":[]}');
    const w = new PcapWriter({ path: pcap, linkType: LinkType.ETHERNET });
    const t = 1_767_225_600;
    for (let i = 0; i < 10; i++) {
      w.write({ data: buildPacket({ src: RESOLVER, dst: SERVER, proto: 'tcp', srcPort: 53, dstPort: 20 + i, tcpFlags: TcpFlag.FIN }), tsSec: t, tsNsec: i * 1000 });
    }
    // the resolver's real answer to the server, a second later
    w.write({ data: buildPacket({ src: RESOLVER, dst: SERVER, proto: 'udp', srcPort: 53, dstPort: 41000, payload: 'answer' }), tsSec: t + 1, tsNsec: 0 });
    w.close();
  });

  const run = (...extra: string[]) => cli(['inspect', '--pcap', pcap, '--no-progress', '--rules', rules, '--module', 'scan_flood', '--json', ...extra]);

  it('without it the resolver is boxed and its answer dropped; with it only the probes are blocked', () => {
    const boxed = run();
    expect(boxed.status, boxed.stderr).toBe(0);
    const b = JSON.parse(boxed.stdout).counters;
    expect(b.by_stage.penalty).toBeGreaterThan(0);
    expect(b.by_verdict.BLOCK_SRC).toBeGreaterThan(0);
    expect(b.penalty_spared).toBe(0);

    const spared = run('--never-block', '198.18.5.0/24', '--never-block', '2001:db8::53');
    expect(spared.status, spared.stderr).toBe(0);
    const s = JSON.parse(spared.stdout);
    expect(s.counters.by_stage.penalty ?? 0).toBe(0);
    expect(s.counters.by_verdict.BLOCK_SRC ?? 0).toBe(0);
    expect(s.counters.by_verdict.BLOCK_FLOW).toBe(s.counters.penalty_spared);
    expect(s.counters.penalty_spared).toBeGreaterThan(0);
    expect(s.alertsBySignature.map((a: { signature_id: number }) => a.signature_id)).toContain(1006002);
    // the answer passed: every packet not a spared probe was passed on
    expect(s.counters.pass).toBeGreaterThan(0);
  });

  it('a text summary names the spared verdicts; a bad CIDR is refused with the entry and a hint', () => {
    const text = cli(['inspect', '--pcap', pcap, '--no-progress', '--rules', rules, '--module', 'scan_flood', '--never-block', RESOLVER]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/never blocked\s+\d+ BLOCK_SRC verdicts on --never-block sources blocked their flows instead/);
    const bad = run('--never-block', '198.18.5.0/255.255.255.0');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--never-block\[0\]: "198\.18\.5\.0\/255\.255\.255\.0" is not a CIDR/);
    expect(bad.stderr).toMatch(/198\.18\.5\.0\/24/);
    const dry = cli(['inspect', '--ip', SERVER, '--proto', 'tcp', '--port', '80', '--never-block', RESOLVER]);
    expect(dry.stderr).toMatch(/--never-block only applies to --pcap runs/);
  });
});
