// Hostile input to `secuxflow module ...` through the built CLI: a broken
// registry, odd names, modules that misbehave. Each case ends with a stable
// error code, no stack trace, and the registry as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');
const FIXTURES = join(ROOT, 'test', 'fixtures');

function env(state: string): Record<string, string> {
  return { SECUXFLOW_STATE_DIR: state };
}

function noTrace(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at |E_INTERNAL/);
}

describe('secuxflow module, hostile input', () => {
  beforeAll(() => requireBuilt());

  it('a registry entry of the wrong type: E_STATE naming the entry for list, load, unload and inspect, the file untouched', () => {
    const entries = [
      [1, null],
      [{ name: 5 }],
      [{ name: 'x', source: 5, sha256: null }],
      [{ name: 'x', kind: 'wat', source: PORT_VERDICT, sha256: 'a'.repeat(64), abiVersion: 1, policy: 'fail-open', config: null,
        limits: { memoryMiB: 'lots' }, loadedAt: '2026-01-01T00:00:00Z', counters: null }],
      [{ name: 'x', kind: 'wat', source: PORT_VERDICT, sha256: 'a'.repeat(64), abiVersion: 1, policy: 'fail-open', config: null,
        limits: {}, loadedAt: '2026-01-01T00:00:00Z', counters: { meanBatchUs: 'fast' } }],
    ];
    for (const modules of entries) {
      const state = tempDir('mod-hostile');
      const text = JSON.stringify({ version: 1, modules });
      writeFileSync(join(state, 'modules.json'), text);
      for (const args of [['module', 'list'], ['module', 'load', PORT_VERDICT], ['module', 'unload', 'x'], ['inspect', '--pcap', DEMO_PCAP, '--module', 'x']]) {
        const r = cli(args, env(state));
        const what = `${args.join(' ')} with ${text}`;
        expect(r.stderr, what).toMatch(/error\[E_STATE\]: state file \S+modules\.json is corrupt: module entry 1 /);
        expect(r.stderr, what).toMatch(/hint: .*mv /);
        expect(r.status, what).toBe(1);
        noTrace(r.stderr);
        expect(readFileSync(join(state, 'modules.json'), 'utf8'), what).toBe(text);
      }
    }
  });

  it('a name with a terminal escape: refused by load, unload and inspect with the escape shown as \\u001b, never raw', () => {
    const state = tempDir('mod-hostile');
    const evil = 'a\u001b[31mred\u0007';
    for (const args of [['module', 'load', PORT_VERDICT, '--name', evil], ['module', 'unload', evil], ['inspect', '--pcap', DEMO_PCAP, '--module', evil]]) {
      const r = cli(args, env(state));
      expect(r.stderr, args[1]).toMatch(/error\[E_(USAGE|MODULE_NOT_FOUND)\]: .*"a\\u001b\[31mred\\u0007"/);
      expect(r.stderr, args[1]).not.toMatch(/[\u0000-\u0008\u001b]/);
      noTrace(r.stderr);
    }
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a file whose name makes no module name (too long): refused before validation, with a hint to use --name', () => {
    const state = tempDir('mod-hostile');
    const file = join(tempDir('mod-file'), `${'x'.repeat(100)}.wat`);
    // A start function that never returns: were it validated first, the refusal would wait for the init budget.
    copyFileSync(join(ROOT, 'test', 'hostile', 'modules', 'start_loop.wat'), file);
    const r = cli(['module', 'load', file, '--init-budget-ms', '60000'], env(state));
    expect(r.stderr).toMatch(/error\[E_USAGE\]: the module name taken from the file name "x{80}"… \(100 characters\) is not a module name\n\s+hint: give one with --name/);
    expect(r.status).toBe(2);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a module that fails while starting in the sandbox: its error has a hint that fits (trap: not loaded; bad sf_alloc pointer: the allocator)', () => {
    const state = tempDir('mod-hostile');
    const cases: [string, RegExp][] = [
      [join(FIXTURES, 'modules', 'start-trap.wat'), /error\[E_MODULE_TRAP\]: module start-trap trapped in instantiation \(start function\): .*\n\s+hint: the module failed while starting and was not loaded/],
      [join(FIXTURES, 'modules-hostile', 'alloc_outside.wat'), /error\[E_MODULE_INVALID\]: module alloc_outside: sf_alloc\(\d+\) for the batch area returned 4294967280, outside its memory\n\s+hint: its sf_alloc must return memory of its own: the module's allocator has a bug/],
    ];
    for (const [file, pattern] of cases) {
      const r = cli(['module', 'load', file, '--name', file.includes('start') ? 'start-trap' : 'alloc_outside'], env(state));
      expect(r.stderr, file).toMatch(pattern);
      expect(r.stderr, file).not.toMatch(/--memory-mib/);
      expect(r.status, file).toBe(1);
      noTrace(r.stderr);
    }
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a module whose refusal log line carries terminal escapes and a forged hint line: quoted escaped in E_MODULE_CONFIG, never raw', () => {
    const state = tempDir('mod-hostile');
    const r = cli(['module', 'load', join(FIXTURES, 'modules-hostile', 'escape_log.wat')], env(state));
    expect(r.stderr).toContain('error[E_MODULE_CONFIG]: module escape_log refused its configuration (on_init status 1): \\x1b[31mEVIL\\x1b]0;pwned\\x07\\n  hint: run this\n');
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u001b]/);
    expect(r.stderr.match(/hint:/g)).toHaveLength(2); // the forged one inside the message, and the real one
    expect(r.status).toBe(1);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('import and export names made of terminal escapes and a forged line: module info, load and inspect show them escaped, never raw', () => {
    const dir = tempDir('mod-hostile-names');
    const file = join(dir, 'names.wat');
    writeFileSync(file, [
      '(module',
      '  (import "env\\1b[2J" "x\\1b[31m" (func))',
      '  (memory (export "memory") 1)',
      '  (global (export "secuxflow_abi_version") i32 (i32.const 1))',
      '  (func (export "evil\\1b]0;pwned\\07\\0afinal    PASS")))',
    ].join('\n'));
    const state = tempDir('mod-hostile');
    const info = cli(['module', 'info', file], env(state));
    expect(info.status).toBe(1);
    expect(info.stdout).toContain('  env\\x1b[2J.x\\x1b[31m () -> ()   <- not allowed');
    expect(info.stdout).toContain('  evil\\x1b]0;pwned\\x07\\nfinal    PASS () -> ()');
    expect(info.stdout).not.toMatch(/^final/m);
    for (const args of [['module', 'load', file], ['inspect', '--pcap', DEMO_PCAP, '--module', file]]) {
      const r = cli(args, env(state));
      expect(r.stderr, args[1]).toContain('error[E_MODULE_IMPORT]: module names imports env\\x1b[2J.x\\x1b[31m (function)');
      expect(r.stderr, args[1]).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
      noTrace(r.stderr);
    }
    expect(`${info.stdout}${info.stderr}`).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a registered file grown past the size limit it was registered under: list says changed-on-disk (not missing), inspect E_MODULE_CHANGED (not a --max-module-mib hint)', () => {
    const state = tempDir('mod-hostile');
    const file = join(tempDir('mod-file'), 'grown.wat');
    copyFileSync(PORT_VERDICT, file);
    expect(cli(['module', 'load', file, '--max-module-mib', '1'], env(state)).status).toBe(0);
    const registry = readFileSync(join(state, 'modules.json'), 'utf8');
    truncateSync(file, 2 * 1024 * 1024);
    const list = cli(['module', 'list', '--json'], env(state));
    expect(JSON.parse(list.stdout).modules[0]).toMatchObject({ name: 'grown', status: 'changed-on-disk' });
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'grown'], env(state));
    expect(r.stderr).toMatch(/error\[E_MODULE_CHANGED\]: registered module grown: \S+grown\.wat changed on disk \(it is now above the 1 MiB it was registered under\)/);
    expect(r.stderr).toMatch(/hint: if the change is yours, re-register it: secuxflow module load \S+grown\.wat --name grown/);
    expect(r.status).toBe(1);
    noTrace(r.stderr);
    expect(readFileSync(join(state, 'modules.json'), 'utf8')).toBe(registry);
  });

  it('an empty module file (.wasm, or a .wat holding only whitespace): E_MODULE_INVALID "is empty", not "not built with the SDK"', () => {
    const state = tempDir('mod-hostile');
    const dir = tempDir('mod-file');
    for (const [file, text] of [['empty.wasm', ''], ['blank.wat', ' \n\t\n']]) {
      writeFileSync(join(dir, file), text);
      const r = cli(['module', 'load', join(dir, file)], env(state));
      expect(r.stderr, file).toMatch(new RegExp(`error\\[E_MODULE_INVALID\\]: module file \\S+${file.replace('.', '\\.')} is empty\\n\\s+hint: `));
      expect(r.status, file).toBe(1);
      noTrace(r.stderr);
    }
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a module whose on_flow_end never returns: E_MODULE_LIMIT at load (it used to be registered), the registry unchanged', () => {
    const state = tempDir('mod-hostile');
    const r = cli(['module', 'load', join(FIXTURES, 'modules-hostile', 'flow_end_loop.wat'), '--cpu-budget-ms', '50'], env(state));
    expect(r.stderr).toMatch(/error\[E_MODULE_LIMIT\]: module flow_end_loop failed when told a flow ended \(on_flow_end\): module flow_end_loop used its CPU budget of 50 ms in on_flow_end/);
    expect(r.stderr).toMatch(/hint: fix its on_flow_end/);
    expect(r.status).toBe(1);
    noTrace(r.stderr);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });
});
