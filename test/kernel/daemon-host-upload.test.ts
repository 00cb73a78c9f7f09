// A bulk upload to the protected host through an inspected port, in host
// mode on skb: the client's veth hands over GSO segments of up to 64 KiB,
// which no socket frame holds. They take the fail mode (open: straight into
// the stack) while the small segments go through the daemon and the TAP, and
// TCP puts the two paths back in order. Before the punt limit the kernel
// dropped every long segment on the socket and the upload stalled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { cleanUpLab, startHostDaemon, type DaemonProc, type PinnedMaps } from './daemon-support.js';
import { SfStat } from '../../host/kernel/codec.js';
import { requestDaemon } from '../../host/control/client.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8081;
const SUBNET = 73;
const BYTES = 4_000_000;

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run in host mode: a bulk upload', () => {
  const lab = new NetLab('du');
  let c: ClientServerLab;
  let daemon: DaemonProc;
  let maps: PinnedMaps;
  const { ok } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    const upload = `
const http = require('http');
setTimeout(() => process.exit(0), 120000);
const s = http.createServer((req, res) => { let n = 0; req.on('data', (c) => (n += c.length)); req.on('end', () => res.end('got ' + n)); });
s.listen(${PORT}, '${c.server.addr}', () => console.log('ready'));`;
    await lab.spawn(c.server.ns, [process.execPath, '-e', upload], 'ready');
    // The default inspection cap (512 packets or 1 MiB): the upload stays punted long enough to matter.
    const configPath = join(c.stateDir, 'daemon.yaml');
    writeFileSync(configPath, 'modules:\n  - name: basic_inspect\n');
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(PORT));
    ({ daemon, maps } = await startHostDaemon(lab, c, configPath));
  }, 240_000);

  afterAll(() => cleanUpLab(lab));

  it('completes, with the long segments counted as punt fallback and the short ones inspected', async () => {
    const body = join(c.stateDir, 'upload.bin');
    writeFileSync(body, randomBytes(BYTES));
    const fallback = maps.stat(SfStat.PUNT_FALLBACK);
    const punts = maps.punts();
    const r = await lab.exec(c.client.ns, ['curl', '-s', '-m', '20', '--data-binary', `@${body}`, `http://${c.server.addr}:${PORT}/`], { timeoutMs: 40_000 });
    expect(r.stdout, `curl exit ${r.code}`).toBe(`got ${BYTES}`);
    expect(maps.stat(SfStat.PUNT_FALLBACK)).toBeGreaterThan(fallback);
    expect(maps.punts()).toBeGreaterThan(punts);
    const s = (await requestDaemon(c.stateDir, 'status')) as DaemonStatus;
    expect(s.queues[0]!.sockets[0]!.rxDropped).toBe(0);
    expect(daemon.logs.map((l) => String(l.msg)).find((m) => m.includes(`${c.server.ifname} is in skb mode: GSO segments`))).toBeTruthy();
  }, 60_000);
});
