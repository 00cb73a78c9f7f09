// `secuxflow module new`, end to end as a user would: scaffold, npm install,
// build, npm test, module load the build, inspect the demo capture with it.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, DEMO_PCAP, cli, requireBuilt, tempDir } from './support.js';

function npm(args: string[], cwd: string): { status: number; out: string } {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  return { status: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

describe('secuxflow module new', () => {
  beforeAll(() => requireBuilt());

  it('scaffolds a project whose npm test passes out of the box and whose build loads and inspects', () => {
    const dir = join(tempDir('mod-new'), 'tarpit');
    const created = cli(['module', 'new', 'tarpit', '--dir', dir]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    for (const f of ['package.json', 'asconfig.json', 'index.ts', 'README.md', '.gitignore', 'test/inspector.test.ts', 'sdk/exports.ts', 'sdk/runtime/packet.ts']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('tarpit');
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toMatch(/class TarpitInspector extends Inspector/);

    const install = npm(['install', '--prefer-offline'], dir);
    if (install.status !== 0) {
      if (process.env.CI) throw new Error(`npm install failed in the scaffold:\n${install.out}`);
      console.warn(`skipping the rest: npm install could not fetch assemblyscript/vitest here:\n${install.out.slice(-400)}`);
      return;
    }
    const test = npm(['test'], dir);
    expect(test.out).toMatch(/3 passed/);
    expect(test.status).toBe(0);
    const wasm = join(dir, 'build', 'tarpit.wasm');
    expect(existsSync(wasm)).toBe(true);

    const state = tempDir('mod-new-state');
    const load = cli(['module', 'load', wasm], { SECUXFLOW_STATE_DIR: state });
    expect(load.stderr).toBe('');
    expect(load.stdout).toMatch(/registered module tarpit \(core, ABI 1/);

    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', wasm, '--json'], { SECUXFLOW_STATE_DIR: state });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.modules).toEqual(['tarpit']);
    // The demo capture carries telnet (TCP 23) traffic: the template's default policy drops it with alert 3000001.
    expect(JSON.stringify(report.alertsBySignature)).toMatch(/3000001/);
    expect(report.counters.drop).toBeGreaterThan(0);

    const byName = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'tarpit', '--json'], { SECUXFLOW_STATE_DIR: state });
    expect(byName.status).toBe(0);
    expect(JSON.parse(byName.stdout).counters).toEqual(report.counters);
  }, 600_000);

  it('refuses a bad name and a non-empty target directory', () => {
    const bad = cli(['module', 'new', 'Bad!']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/error\[E_USAGE\]: NAME "Bad!" is not a module name/);
    const dir = tempDir('mod-new-busy');
    expect(cli(['module', 'new', 'x', '--dir', dir]).status).toBe(0);
    const again = cli(['module', 'new', 'x', '--dir', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists and is not an empty directory/);
  });

  // In a checkout, `secuxflow` is not on PATH: a printed next step that says it fails with "command not found".
  it('the next steps name the command that runs this CLI: node and its path when secuxflow is not on PATH, secuxflow when it is', () => {
    const base = tempDir('mod-new-self');
    const bare = spawnSync(process.execPath, [CLI, 'module', 'new', 'a1', '--dir', join(base, 'a1')], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    expect(bare.status, bare.stderr).toBe(0);
    expect(bare.stdout).toContain(`  node ${CLI} module load build/a1.wasm --config config.json\n`);
    const bin = join(base, 'bin');
    mkdirSync(bin);
    symlinkSync(CLI, join(bin, 'secuxflow'));
    const linked = spawnSync(process.execPath, [CLI, 'module', 'new', 'a2', '--dir', join(base, 'a2')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` } });
    expect(linked.stdout).toContain('  secuxflow module load build/a2.wasm --config config.json\n');
  });

  it('an empty --dir and a file given as --dir are named as such, and nothing is created', () => {
    const cwd = tempDir('mod-new-cwd');
    const empty = spawnSync(process.execPath, [CLI, 'module', 'new', 'x', '--dir', ''], { cwd, encoding: 'utf8' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/error\[E_USAGE\]: --dir is empty\n {2}hint: give a directory, or leave --dir out to create \.\/x/);
    expect(readdirSync(cwd)).toEqual([]);
    const file = join(cwd, 'a-file');
    writeFileSync(file, 'x');
    const r = cli(['module', 'new', 'y', '--dir', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]: .*a-file is a file, not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});
