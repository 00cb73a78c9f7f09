// `secuxflow run --queues 1` on an interface with two RX queues: what queue 1
// punts reaches no socket and gets the fail mode (fail-open: passed
// uninspected). The daemon must say so when it starts, rather than leave
// the operator to find it in the punt-fallback counter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { run, runOk } from './lab/run.js';
import { xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { prepareDaemonLab, startDaemon } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();

describe.skipIf(kernel.skip || labReason !== null).sequential('a daemon that reads fewer queues than the interface has', () => {
  const lab = new NetLab('duq');
  let ns = '';
  let ifname = '';
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let config = '';
  let env: NodeJS.ProcessEnv;

  const { ok } = cliIn(lab, () => ({ ns, cli, stateDir, env }));
  const start = (...args: string[]) => startDaemon(lab, ns, cli, ['--iface', ifname, '--mode', 'skb', '--state-dir', stateDir, '--config', config, ...args], env);

  beforeAll(async () => {
    ({ cli, stateDir, bpffs, env } = await prepareDaemonLab(lab));
    ns = await lab.addNamespace('n');
    ifname = lab.name('a');
    // Deleting the namespace at cleanup removes the pair.
    await runOk(['ip', '-n', ns, 'link', 'add', ifname, 'numtxqueues', '2', 'numrxqueues', '2', 'type', 'veth', 'peer', 'name', lab.name('b'), 'numtxqueues', '2', 'numrxqueues', '2']);
    await runOk(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
    config = join(stateDir, 'daemon.yaml');
    writeFileSync(config, 'modules: [basic_inspect]\n');
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', '80');
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('--queues 1 of 2: a warning names the unread queue, the fail mode and what to do', async () => {
    const d = start('--queues', '1');
    try {
      await d.waitLog((l) => l.msg === 'daemon started', 60_000);
      // Logged before the start line, so it is in by now.
      const warn = d.logs.find((l) => l.level === 'warn' && String(l.msg).startsWith('RX queue'));
      expect(warn).toMatchObject({
        msg: `RX queue 1 of ${ifname} is not read: what they punt gets the fail mode (fail-open: passed uninspected), counted as punt fallback`,
        iface: ifname, queuesRead: 1, rxQueues: 2, fail: 'open',
      });
      expect(String(warn!.hint)).toContain('leave --queues out to read all 2');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });

  // nsenter --net keeps the host's /sys, where this interface does not
  // exist: the queue count must come from the daemon's own namespace.
  it('under nsenter --net: --queues beyond the interface\'s queues is refused before anything is attached', async () => {
    const r = await run(['nsenter', `--net=/run/netns/${ns}`, process.execPath, cli, 'run', '--iface', ifname, '--mode', 'skb', '--queues', '3', '--state-dir', stateDir, '--config', config],
      { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--queues 3 is more than the 2 RX queues of ${ifname}`);
    expect(r.stderr).toContain('use --queues 2 or fewer');
    expect(r.stderr).not.toContain('"msg":"attached"');
    expect(await xdpOnLink(ns, ifname)).toBeNull();
  });

  it('all queues read: no warning; detach leaves nothing', async () => {
    const d = start();
    await d.waitLog((l) => l.msg === 'daemon started', 60_000);
    expect(d.logs.filter((l) => l.msg === 'queue ready')).toHaveLength(2);
    expect(d.logs.some((l) => String(l.msg).startsWith('RX queue'))).toBe(false);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    await ok('detach', '--iface', ifname);
    expect(await xdpOnLink(ns, ifname)).toBeNull();
    expect(bpffs.leftovers()).toEqual([]);
  });
});
