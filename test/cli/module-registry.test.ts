// `secuxflow module load|list|unload|info` through the built CLI, each test
// with its own state directory.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';

const HOSTILE = join(ROOT, 'test', 'hostile', 'modules');
const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');
const BASIC = join(ROOT, 'build', 'modules', 'basic_inspect.wasm');

function env(state: string): Record<string, string> {
  return { SECUXFLOW_STATE_DIR: state };
}

function list(state: string): { modules: Record<string, unknown>[] } {
  const r = cli(['module', 'list', '--json'], env(state));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('secuxflow module load/list/unload/info', () => {
  beforeAll(() => requireBuilt());

  it('load validates, registers with the file sha256, and list shows it with its validation counters', () => {
    const state = tempDir('mod-state');
    const file = join(tempDir('mod-file'), 'pv.wat');
    copyFileSync(PORT_VERDICT, file);
    const r = cli(['module', 'load', file, '--name', 'port_verdict', '--policy', 'fail-open'], env(state));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/registered module port_verdict \(wat, ABI 1, sha256 [0-9a-f]{12}, policy fail-open\)/);
    const [m] = list(state).modules;
    expect(m).toMatchObject({ name: 'port_verdict', kind: 'wat', abiVersion: 1, status: 'ok', policy: 'fail-open', traps: 0, source: file });
    expect(m!.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(m!.packets).toBeGreaterThan(0);
    const stored = JSON.parse(readFileSync(join(state, 'modules.json'), 'utf8'));
    expect(stored.version).toBe(1);
    expect(stored.modules[0].limits).toMatchObject({ memoryMiB: 64, cpuBudgetMs: 100 });
    const text = cli(['module', 'list'], env(state));
    expect(text.stdout).toMatch(/port_verdict\s+wat\s+1\s+[0-9a-f]{12}\s+ok\s+fail-open/);
  });

  it('a changed file is refused by name until it is registered again', () => {
    const state = tempDir('mod-state');
    const file = join(tempDir('mod-file'), 'pv.wat');
    copyFileSync(PORT_VERDICT, file);
    expect(cli(['module', 'load', file, '--name', 'pv'], env(state)).status).toBe(0);
    const ok = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'pv', '--json'], env(state));
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).modules).toEqual(['pv']);

    appendFileSync(file, '\n;; edited\n');
    expect(list(state).modules[0]!.status).toBe('changed-on-disk');
    const refused = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'pv'], env(state));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/error\[E_MODULE_CHANGED\]: registered module pv: .*pv\.wat changed on disk/);
    expect(refused.stderr).toMatch(/hint: if the change is yours, re-register it: secuxflow module load .*pv\.wat --name pv/);

    const before = createHash('sha256').update(readFileSync(PORT_VERDICT)).digest('hex').slice(0, 12);
    const again = cli(['module', 'load', file, '--name', 'pv'], env(state));
    expect(again.stdout).toMatch(/re-registered module pv/);
    // The edit is named: the name now runs other bytes.
    expect(again.stdout).toContain(`  replaces sha256 ${before}: rules and runs that name pv now use this file\n`);
    expect(cli(['module', 'load', file, '--name', 'pv'], env(state)).stdout).toContain('  the same file as before (sha256 unchanged)\n');
    expect(list(state).modules[0]!.status).toBe('ok');
    expect(cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'pv'], env(state)).status).toBe(0);
  });

  it('a registered config is used by inspect --module NAME', () => {
    const state = tempDir('mod-state');
    const cfg = join(tempDir('mod-cfg'), 'basic.json');
    // Only port 80 denied: every alert then comes from this config, not the defaults.
    writeFileSync(cfg, JSON.stringify({ deny_ports: [80] }));
    const loaded = cli(['module', 'load', BASIC, '--name', 'strict', '--config', cfg], env(state));
    expect(loaded.status).toBe(0);
    // Which config the name now runs with is said at once, not only in modules.json.
    expect(loaded.stdout).toContain(`  config ${cfg} (handed to on_init whenever it runs)\n`);
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'strict', '--json'], env(state));
    expect(r.status).toBe(0);
    const sids = JSON.parse(r.stdout).alertsBySignature.map((a: { signature_id?: number; sigId?: number; sid?: number }) => a.signature_id ?? a.sigId ?? a.sid);
    expect(sids.length).toBeGreaterThan(0);
    expect(new Set(sids)).toEqual(new Set([1000101]));
  });

  it('refusals write nothing and name the problem', () => {
    const state = tempDir('mod-state');
    const cases: [string[], RegExp, number][] = [
      [[join(HOSTILE, 'forbidden_import.wat')], /error\[E_MODULE_IMPORT\]: module forbidden_import imports wasi_snapshot_preview1\.fd_write/, 1],
      [[join(HOSTILE, 'wrong_abi.wat')], /error\[E_MODULE_ABI\]: module wrong_abi was built for ABI 2/, 1],
      [[join(HOSTILE, 'missing_export.wat')], /error\[E_MODULE_INVALID\]: module missing_export does not export on_batch/, 1],
      [[join(HOSTILE, 'infinite_loop.wat'), '--cpu-budget-ms', '50'], /error\[E_MODULE_LIMIT\]: module infinite_loop used its CPU budget of 50 ms/, 1],
      [[join(HOSTILE, 'start_loop.wat'), '--init-budget-ms', '200'], /error\[E_MODULE_LIMIT\]: module start_loop did not finish instantiation and on_init within 200 ms/, 1],
      [[join(HOSTILE, 'oob_load.wat')], /error\[E_MODULE_TRAP\]: module oob_load trapped in on_batch/, 1],
      [[PORT_VERDICT, '--policy', 'sometimes'], /error\[E_USAGE\]: --policy "sometimes" is not a failure policy\n\s+hint: use one of fail-open, fail-closed, reload/, 2],
      [[PORT_VERDICT, '--memory-mib', '0'], /error\[E_USAGE\]: --memory-mib must be an integer in 1\.\.4096, got 0/, 2],
      [[PORT_VERDICT, '--name', 'Bad Name'], /error\[E_USAGE\]: --name "Bad Name" is not a module name/, 2],
      [[PORT_VERDICT, '--config', '/nonexistent/cfg.json'], /error\[E_USAGE\]: --config \/nonexistent\/cfg\.json: no such file/, 2],
      [[PORT_VERDICT, '--config', '/dev/urandom'], /error\[E_IO\]: --config \/dev\/urandom is a device, not a regular file/, 1],
      [['/nonexistent/x.wasm'], /error\[E_MODULE_NOT_FOUND\]: module file \/nonexistent\/x\.wasm does not exist/, 1],
      [['/dev/zero'], /error\[E_MODULE_INVALID\]: \/dev\/zero is a device, not a module file/, 1],
    ];
    for (const [args, pattern, status] of cases) {
      const r = cli(['module', 'load', ...args], env(state));
      expect(r.stderr, args.join(' ')).toMatch(pattern);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(state, 'modules.json')), args.join(' ')).toBe(false);
    }
  });

  it('unload is refused while a rule uses the module, and works once the rule is gone', () => {
    const state = tempDir('mod-state');
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'pv'], env(state)).status).toBe(0);
    const add = cli(['rule', 'add', '--dst', '198.18.0.0/15', '--action', 'inspect', '--module', 'pv', '--id', '7', '--json'], env(state));
    expect(add.stderr).toBe('');
    const refused = cli(['module', 'unload', 'pv'], env(state));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/module pv is used by rule 7; it stays registered/);
    expect(list(state).modules.map((m) => m.name)).toEqual(['pv']);
    expect(cli(['rule', 'delete', '--id', '7'], env(state)).status).toBe(0);
    const ok = cli(['module', 'unload', 'pv'], env(state));
    expect(ok.stdout).toMatch(/unloaded module pv/);
    expect(list(state).modules).toEqual([]);
    const again = cli(['module', 'unload', 'pv'], env(state));
    expect(again.stderr).toMatch(/error\[E_MODULE_NOT_FOUND\]: no registered module named "pv"/);
  });

  it('info shows the interface and whether the module would load', () => {
    const good = cli(['module', 'info', BASIC, '--json']);
    expect(good.status).toBe(0);
    const g = JSON.parse(good.stdout);
    expect(g).toMatchObject({ kind: 'core', abiVersion: 1, wouldLoad: true, reason: null });
    expect(g.exports.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['memory', 'sf_alloc', 'on_init', 'on_batch', 'on_flow_end', 'secuxflow_abi_version']));
    expect(g.imports.every((i: { allowed: boolean }) => i.allowed)).toBe(true);
    expect(g.memory.sandboxMaxPages).toBeLessThanOrEqual(1024);

    const bad = cli(['module', 'info', join(HOSTILE, 'forbidden_import.wat')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/wasi_snapshot_preview1\.path_open .*<- not allowed/);
    expect(bad.stdout).toMatch(/loads\s+no: \[E_MODULE_IMPORT\]/);
    const grow = cli(['module', 'info', join(HOSTILE, 'memory_grow.wat')]);
    expect(grow.stdout).toMatch(/declared maximum none; the sandbox caps it at 1024 pages/);
  });

  it('a limit flag out of range is told the range, and one that is no integer is told so', () => {
    for (const [value, message] of [
      ['99999999999999', /--memory-mib must be an integer in 1\.\.4096, got 99999999999999/],
      ['-1', /--memory-mib must be an integer in 1\.\.4096, got -1/],
      ['1e3', /--memory-mib "1e3" is not a whole number/],
      ['99999999999999999999', /--memory-mib "99999999999999999999" is out of range/],
    ] as const) {
      const r = cli(['module', 'info', BASIC, '--memory-mib', value]);
      expect(r.status, value).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('--memory-mib is what info reports as the cap, and one too small for the batch area is named as the cause', () => {
    const info = JSON.parse(cli(['module', 'info', BASIC, '--json', '--memory-mib', '8']).stdout);
    expect(info.memory.sandboxMaxPages).toBe(128);
    expect(JSON.parse(cli(['module', 'info', BASIC, '--json']).stdout).memory.sandboxMaxPages).toBe(1024);
    const state = tempDir('mod-tiny');
    const r = cli(['module', 'load', BASIC, '--name', 'tiny', '--memory-mib', '1'], env(state));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_TRAP\]: module tiny trapped in sf_alloc: unreachable\n {2}hint: sf_alloc could not place the batch area, the 1\.0 MiB the host asks for once to hand over packets: the module's memory limit leaves no room for it, so raise it \(module load --memory-mib 3 or more\)\n/);
    expect(r.stderr).not.toMatch(/it has a bug/);
    expect(cli(['module', 'load', BASIC, '--name', 'tiny', '--memory-mib', '3'], env(state)).status).toBe(0);
  });

  // An author's registered module not running in a plain inspect looked like
  // a module that found nothing; and a dry run that sent the packet to no
  // module said only "none ran".
  it('inspect without --module names the registered modules it left out, and a dry run says why no module ran', () => {
    const state = tempDir('mod-not-run');
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'mine'], env(state)).status).toBe(0);
    const summary = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress'], env(state));
    expect(summary.stdout).toMatch(/not run\s+registered module mine: inspect runs the shipped set unless --module names others \(--module mine\); run uses the registry/);
    expect(JSON.parse(cli(['inspect', '--pcap', DEMO_PCAP, '--json'], env(state)).stdout).registeredNotRun).toEqual(['mine']);
    const named = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--module', 'mine'], env(state));
    expect(named.stdout).not.toMatch(/not run/);

    expect(cli(['rule', 'add', '--action', 'drop', '--port', '23'], env(state)).status).toBe(0);
    const dry = cli(['inspect', '--ip', '198.18.1.1', '--port', '80', '--proto', 'tcp', '--module', 'mine'], env(state));
    expect(dry.stdout).toMatch(/modules {2}none ran\n/);
    expect(dry.stdout).toContain('note     no module ran: no rule matched and the default policy is pass, so the packet is not sent to inspection (a rule with --action inspect or secuxflow rule default inspect sends it');
    const dropped = cli(['inspect', '--ip', '198.18.1.1', '--port', '23', '--proto', 'tcp', '--module', 'mine'], env(state));
    expect(dropped.stdout).toContain('note     no module ran: rule 1 decides drop, so the packet is not sent to inspection');
  });

  it('--config and --no-config together are refused, in either order, and nothing is registered', () => {
    const state = tempDir('mod-negation');
    const cfg = join(tempDir('mod-negation-cfg'), 'cfg.json');
    writeFileSync(cfg, '{}');
    for (const flags of [['--config', cfg, '--no-config'], ['--no-config', '--config', cfg], ['--no-config', `--config=${cfg}`]]) {
      const r = cli(['module', 'load', PORT_VERDICT, '--name', 'x1', ...flags], env(state));
      expect(r.status, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/secuxflow module load: error\[E_USAGE\]: --(no-)?config and --(no-)?config are both given, so which is meant is a guess\n {2}hint: give one of them/);
      expect(existsSync(join(state, 'modules.json'))).toBe(false);
    }
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'x1', '--no-config'], env(state)).status).toBe(0);
  });

  // A file that is no module still has a size and a hash, and those are what
  // a user compares against a download; "core, 0 bytes, sha256 " was wrong on all three.
  it('info on a file that is no module gives its real size and sha256, kind unknown, and why it would not load', () => {
    const dir = tempDir('mod-garbage');
    const garbage = join(dir, 'garbage.wasm');
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    writeFileSync(garbage, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const json = cli(['module', 'info', garbage, '--json']);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'unknown', size: 300, sha256: sha, wouldLoad: false, reason: { code: 'E_MODULE_INVALID' } });
    const text = cli(['module', 'info', garbage]);
    expect(text.stdout).toContain(`kind     unknown, 300 bytes, sha256 ${sha}`);
    const wat = join(dir, 'typo.wat');
    writeFileSync(wat, '(module (func $f (result i32) (i32.const)))');
    expect(JSON.parse(cli(['module', 'info', wat, '--json']).stdout)).toMatchObject({ kind: 'wat', size: 43, wouldLoad: false });
    // A directory is no file at all: an error, not a description.
    const d = cli(['module', 'info', dir]);
    expect(d.status).toBe(1);
    expect(d.stdout).toBe('');
    expect(d.stderr).toMatch(/error\[E_MODULE_INVALID\]: .* is a directory, not a module file/);
  });
});
