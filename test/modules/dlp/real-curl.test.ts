// curl POSTs a form with a card number and an AWS key to a server in a
// namespace (which echoes it back); the tcpdump capture goes through the
// built CLI with dlp: both directions are flagged, nothing secret is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compiledModule } from './support.js';
import { withLuhn } from './luhn.js';
import { startEchoServers } from '../../kernel/lab/traffic.js';
import { capture, makePair, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['curl']);
let pair: Pair;
const CARD = withLuhn('401288888888188');
const KEY_ID = 'AKIAJ7Q3EXAMPLEKEY42';

beforeAll(async () => {
  await compiledModule('dlp');
  if (skip) return;
  pair = await makePair('dlp', 63);
  await startEchoServers(pair.lab, pair.serverNs, pair.server.addr, 8080, 8053, 120_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('dlp on a real curl POST', () => {
  it('flags the card and key id going out and coming back, redacted, through the built CLI', async () => {
    const pcap = await capture(pair, 'post', async () => {
      await pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '3', '--data', `name=x&card=${CARD}&key=${KEY_ID}`, `http://${pair.server.addr}:8080/pay`], { timeoutMs: 10_000 });
    });
    const cli = join(import.meta.dirname, '..', '..', '..', 'dist', 'secuxflow.js');
    expect(existsSync(cli), 'dist/secuxflow.js: run npm run build').toBe(true);
    const r = spawnSync(process.execPath, [cli, 'inspect', '--pcap', pcap, '--module', 'dlp', '--eve', '-', '--no-progress'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const alerts = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.event_type === 'alert');
    // the direction the secret travelled (a token ending the request is judged on the answer's first packet)
    const seen = alerts.map((e) => `${e.alert.signature_id} ${e.alert.metadata.direction[0]}`).sort();
    // the client's request, and the echo server sending the same bytes back
    expect(seen).toEqual(['1005001 to_client', '1005001 to_server', '1005003 to_client', '1005003 to_server']);
    expect(new Set(alerts.map((e) => e.alert.metadata.redacted[0]))).toEqual(new Set([`************${CARD.slice(-4)}`, 'AKIA************EY42']));
    expect(r.stdout + r.stderr).not.toContain(CARD);
    expect(r.stdout + r.stderr).not.toContain(KEY_ID);
  }, 60_000);
});
