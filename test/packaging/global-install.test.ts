// The package as a user installs it: `npm pack`, then `npm install -g` of the
// tarball into a private prefix, and the installed `secuxflow` bin run from
// elsewhere. What the package's "files" leave out (the built modules, the
// sample captures, the XDP object, the addon) fails here, not on a user's
// machine. `npx secuxflow` in the checkout is the README's first command.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, requireBuilt, tempDir } from '../cli/support.js';
import { requireKernel } from '../kernel/support/kernel.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

interface Summary { counters: { packets_read: number; alerts: number; drop: number; pass: number; events: number } }

describe('npm install -g of the packed tarball', () => {
  let prefix = '';
  let bin = '';
  let installed = '';
  let elsewhere = '';

  beforeAll(() => {
    requireBuilt();
    const dir = tempDir('global');
    const packed = run('npm', ['pack', '--silent', '--pack-destination', dir], ROOT);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball, `npm pack wrote no tarball: ${packed.stdout}`).toBeTruthy();
    prefix = join(dir, 'prefix');
    // As README.md says to (npm 11 asks before install scripts run): the addon and XDP object
    // are rebuilt in place. The dependencies come from the cache npm ci filled.
    const inst = run('npm', ['install', '-g', '--prefix', prefix, '--allow-scripts=secuxflow', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball!)], dir);
    expect(inst.status, inst.stderr).toBe(0);
    bin = join(prefix, 'bin', 'secuxflow');
    installed = join(prefix, 'lib', 'node_modules', 'secuxflow');
    elsewhere = tempDir('global-cwd');
  }, 300_000);

  it('installs a secuxflow bin that prints the package version', () => {
    const r = run(bin, ['--version'], elsewhere);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('inspects the shipped sample capture with the shipped modules, as the checkout does', () => {
    const args = (pcap: string) => ['inspect', '--pcap', pcap, '--json', '--no-progress'];
    const env = { SECUXFLOW_STATE_DIR: tempDir('global-state') };
    const got = run(bin, args(join(installed, 'samples', 'demo.pcap')), elsewhere, env);
    expect(got.status, got.stderr).toBe(0);
    const want = run(process.execPath, [CLI, ...args(join(ROOT, 'samples', 'demo.pcap'))], elsewhere, env);
    expect(want.status, want.stderr).toBe(0);
    const a = JSON.parse(got.stdout) as Summary;
    const b = JSON.parse(want.stdout) as Summary;
    expect(a.counters.packets_read).toBeGreaterThan(0);
    expect(a.counters.alerts).toBeGreaterThan(0);
    const { packets_read, alerts, events, drop, pass } = b.counters;
    expect(a.counters).toMatchObject({ packets_read, alerts, events, drop, pass });
  });

  const kernel = requireKernel();
  it.skipIf(kernel.skip)('runs a dry-run packet through the installed XDP object and addon (--kernel)', () => {
    const r = run(bin, ['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp', '--kernel'], elsewhere, { SECUXFLOW_STATE_DIR: tempDir('global-state') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kernel\s+XDP_PASS/);
    expect(r.stdout).toContain('agrees with the engine');
  });

  it('answers `npx secuxflow` in the checkout, the README\'s first command', () => {
    const r = run('npx', ['--no-install', 'secuxflow', '--version'], ROOT);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
