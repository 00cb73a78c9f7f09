// `secuxflow run` with settings it cannot honour: each is refused with its
// own error code before anything is attached, so a first start that fails
// leaves no XDP program, no pins, no attachments.json entry and no eve.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab } from './support/veth-labs.js';
import { xdpOnLink } from './lab/bpffs.js';
import type { RunResult } from './lab/run.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 71;

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run refuses a bad start before attaching', () => {
  const lab = new NetLab('dsr');
  let c: VethCliLab;

  const { secuxflow } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const run = (...args: string[]): Promise<RunResult> => secuxflow('run', '--iface', c.end.ifname, '--mode', 'skb', ...args);

  /** Nothing of a start is left: no program, no pins, no record, no EVE file. */
  const nothingLeft = async (): Promise<void> => {
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(await xdpOnLink(c.peer.ns, c.peer.ifname)).toBeNull();
    const pins = join(c.bpffs.root, c.end.ifname);
    expect(existsSync(pins) ? readdirSync(pins) : []).toEqual([]);
    const records = join(c.stateDir, 'attachments.json');
    if (existsSync(records)) expect(readFileSync(records, 'utf8')).not.toContain(c.end.ifname);
    expect(existsSync(join(c.stateDir, 'eve.json'))).toBe(false);
  };
  const refused = async (r: RunResult, code: string, message: RegExp): Promise<void> => {
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('E_INTERNAL');
    await nothingLeft();
  };

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET, { daemon: true });
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('a stored rule naming a module the config does not load: E_MODULE_NOT_FOUND naming both, from the daemon itself', async () => {
    const config = join(c.stateDir, 'only-basic.yaml');
    writeFileSync(config, 'modules: [basic_inspect]\n');
    const added = await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'udp', '--port', '53', '--module', 'dns_guard');
    expect(added.code, added.stderr).toBe(0);
    const r = await run('--config', config);
    await refused(r, 'E_MODULE_NOT_FOUND', /rule 1 inspects with module "dns_guard"/);
    expect(r.stderr).toMatch(/daemon config's modules, or delete or change the rule \(secuxflow rule delete --id 1\)/);
    expect(r.stderr).toMatch(/^secuxflow run: /m);
    expect((await secuxflow('rule', 'delete', '--id', '1')).code).toBe(0);
  });

  it('a module that refuses its config fails the start after attaching: its code is kept and the first start is undone', async () => {
    const bad = join(c.stateDir, 'basic_inspect.bad.json');
    writeFileSync(bad, JSON.stringify({ no_such_field: true }));
    const config = join(c.stateDir, 'bad-module-config.yaml');
    writeFileSync(config, `modules:\n  - name: basic_inspect\n    config: ${bad}\n`);
    const r = await run('--config', config);
    expect(r.stderr).toMatch(/error\[E_MODULE_[A-Z]+\]: queue 0: .*basic_inspect/);
    await refused(r, r.stderr.match(/error\[(E_MODULE_[A-Z]+)\]/)![1]!, /queue 0/);
  });

  it('a failed start that re-attached an attached interface in another mode puts it back as it was, not bare', async () => {
    const bad = join(c.stateDir, 'basic_inspect.bad2.json');
    writeFileSync(bad, JSON.stringify({ no_such_field: true }));
    const config = join(c.stateDir, 'bad-module-config2.yaml');
    writeFileSync(config, `modules:\n  - name: basic_inspect\n    config: ${bad}\n`);
    const attached = await secuxflow('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect(attached.code, attached.stderr).toBe(0);
    const before = await xdpOnLink(c.end.ns, c.end.ifname);
    expect(before?.mode).toBe(2); // XDP_ATTACHED_SKB

    try {
      const r = await secuxflow('run', '--iface', c.end.ifname, '--mode', 'native', '--config', config);
      expect(r.stderr).toMatch(/error\[E_MODULE_[A-Z]+\]: queue 0: .*basic_inspect/);
      const now = await xdpOnLink(c.end.ns, c.end.ifname);
      expect(now).toMatchObject({ name: 'sf_xdp', mode: 2 });
      const status = JSON.parse((await secuxflow('status', '--json')).stdout) as { interfaces: Array<{ iface: string; mode: string; fail: string; live: boolean }> };
      expect(status.interfaces).toEqual([expect.objectContaining({ iface: c.end.ifname, mode: 'skb', fail: 'closed', live: true })]);
    } finally {
      // Whatever the start left (the attachment, or only kept maps), so the next cases start clean.
      await secuxflow('detach', '--iface', c.end.ifname);
    }
    await nothingLeft();
  });

  it('a peer that is --iface, or that does not exist', async () => {
    const config = join(c.stateDir, 'self-peer.yaml');
    writeFileSync(config, `peer: ${c.end.ifname}\n`);
    await refused(await run('--config', config), 'E_USAGE', /peer in .*self-peer\.yaml "[^"]+" is the protected interface/);
    const missing = await run('--peer', 'nosuch');
    await refused(missing, 'E_NO_IFACE', /"nosuch" does not exist/);
    // Refused before anything was touched: no "stopping, onStop detach" to alarm anyone.
    expect(missing.stdout + missing.stderr).not.toContain('"msg":"stopping"');
  });

  it('more --queues than the interface has RX queues', async () => {
    const r = await run('--queues', '4');
    await refused(r, 'E_USAGE', /--queues 4 is more than the 1 RX queue of/);
  });

  it('an --eve that is a directory or in a missing directory', async () => {
    const dir = join(c.stateDir, 'eve-dir');
    mkdirSync(dir, { recursive: true });
    await refused(await run('--eve', dir), 'E_IO', /cannot open the EVE file .*eve-dir/);
    await refused(await run('--eve', join(c.stateDir, 'missing', 'eve.json')), 'E_IO', /cannot open the EVE file .*missing\/eve\.json: ENOENT/);
    // No reader ever opens it: the start must not wait for one.
    const fifo = join(c.stateDir, 'eve.fifo');
    execFileSync('mkfifo', [fifo]);
    await refused(await run('--eve', fifo), 'E_IO', /cannot open the EVE file .*eve\.fifo: a FIFO or socket, not a file/);
  });
});
