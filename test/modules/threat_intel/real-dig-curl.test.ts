// dig and curl in a namespace towards listed names and a listed address;
// the capture goes through the built CLI with the IOC file as the config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledModule } from '../dlp/support.js';
import { startEchoServers } from '../../kernel/lab/traffic.js';
import { capture, makePair, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['curl', 'dig']);
let pair: Pair;
const LISTED_ADDR = '198.18.64.4';

beforeAll(async () => {
  await compiledModule('threat_intel');
  if (skip) return;
  pair = await makePair('thi', 64);
  await pair.lab.execOk(pair.serverNs, ['ip', 'addr', 'add', `${LISTED_ADDR}/24`, 'dev', pair.server.ifname]);
  await startEchoServers(pair.lab, pair.serverNs, '0.0.0.0', 8080, 8053, 120_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('threat_intel on real dig and curl traffic', () => {
  it('flags a DNS query, an HTTP Host and a listed address; leaves the clean requests alone', async () => {
    const iocs = join(pair.dir, 'iocs.txt');
    writeFileSync(iocs, `# test IOCs\n#! action=block_flow\n${LISTED_ADDR}\nc2.example\n*.evil.example\n`);
    const pcap = await capture(pair, 'ti', async () => {
      const dig = (name: string) => pair.lab.exec(pair.clientNs, ['dig', '+tries=1', '+time=1', `@${pair.server.addr}`, name, 'A'], { timeoutMs: 5_000 });
      await dig('beacon.c2.example');
      await dig('www.good.example');
      const curl = (url: string, host?: string) => pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '2', ...(host ? ['-H', `Host: ${host}`] : []), url], { timeoutMs: 5_000 });
      await curl(`http://${pair.server.addr}:8080/`, 'cdn.evil.example');
      await curl(`http://${pair.server.addr}:8080/`, 'www.good.example');
      await curl(`http://${LISTED_ADDR}:8080/`);
    });
    const cli = join(import.meta.dirname, '..', '..', '..', 'dist', 'secuxflow.js');
    expect(existsSync(cli), 'dist/secuxflow.js: run npm run build').toBe(true);
    const r = spawnSync(process.execPath, [cli, 'inspect', '--pcap', pcap, '--module', 'threat_intel', '--module-config', `threat_intel=${iocs}`, '--eve', '-', '--no-progress'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const alerts = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.event_type === 'alert');
    const got = alerts.map((e) => [e.alert.signature_id, e.dest_ip, e.alert.metadata.name?.[0] ?? e.alert.metadata.address?.[0]]).sort();
    expect(got).toEqual([
      [1008002, LISTED_ADDR, LISTED_ADDR],
      [1008003, pair.server.addr, 'beacon.c2.example'],
      [1008005, pair.server.addr, 'cdn.evil.example'],
    ]);
    expect(alerts.every((e) => e.alert.action === 'blocked')).toBe(true);
  }, 60_000);
});
