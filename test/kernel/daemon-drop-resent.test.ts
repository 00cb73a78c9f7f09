// basic_inspect's built-in SQL injection pattern drops the packet (DROP, not
// BLOCK_FLOW). The client's TCP resends the request ~200 ms later; the
// stream already held those bytes, so the resend was passed as already
// inspected and curl got its answer. Live, with real curl and a real
// server: the request must never reach the server, however often it is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { cleanUpLab, readEve, startHostDaemon, startHttpServer, type DaemonProc } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8080;
const SUBNET = 87;

describe.skipIf(kernel.skip || labReason !== null).sequential('a request a module DROPs, resent by the client', () => {
  const lab = new NetLab('drs');
  let net: ClientServerLab;
  let daemon: DaemonProc;

  const { ok } = cliIn(lab, () => ({ ...net, ns: net.server.ns }));
  const curl = (...args: string[]) =>
    lab.exec(net.client.ns, ['curl', '-s', '-m', '3', '-o', '-', '-w', '\n%{http_code}', ...args, `http://${net.server.addr}:${PORT}/`], { timeoutMs: 10_000 });

  beforeAll(async () => {
    net = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    await startHttpServer(lab, net.server.ns, net.server.addr, PORT);
    const config = join(net.stateDir, 'daemon.yaml');
    // basic_inspect's built-in patterns: 1000001 (' or '1'='1) is a DROP.
    writeFileSync(config, 'modules: [basic_inspect]\n');
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(PORT));
    ({ daemon } = await startHostDaemon(lab, net, config));
  }, 240_000);

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await cleanUpLab(lab);
  });

  it('a benign request on the same rules is answered', async () => {
    const r = await curl('--local-port', '42001');
    expect(r.stdout, r.stderr).toBe('hello /\n200');
  });

  it('the injection gets no answer within 3 s, though TCP resends it: every copy is dropped with its alert', async () => {
    const r = await curl('-H', "X-Q: 1' OR '1'='1", '--local-port', '42002');
    // curl's exit 28: the time limit, with no HTTP status.
    expect(r.code, r.stdout).toBe(28);
    expect(r.stdout).toBe('\n000');
    const alerts = readEve(net.stateDir).filter((e) => e.event_type === 'alert' && e.src_port === 42002 && (e.alert as { signature_id: number }).signature_id === 1000001);
    // The first copy and at least one retransmission (RTO 200 ms, then 400 ms, ... within the 3 s).
    expect(alerts.length).toBeGreaterThanOrEqual(2);
    expect(alerts.every((a) => (a.alert as { action: string }).action === 'blocked')).toBe(true);
  });
});
