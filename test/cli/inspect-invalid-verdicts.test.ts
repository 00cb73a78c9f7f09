// A module whose verdict byte is above 5: each such verdict is treated as
// CONTINUE and counted, but the count stayed inside the instance. The
// summary, --json and the EVE stats now show it, sandboxed and in-thread.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

// Every packet gets verdict byte 9 (META.VERDICT at offset 61 of each 64-byte record).
const BAD_VERDICT_WAT = `(module
  (memory (export "memory") 2 256)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 4096))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $ptr) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.lt_s
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))
              (i32.const 0))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "on_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store8 offset=61 (i32.add (local.get $meta) (i32.mul (local.get $i) (i32.const 64))) (i32.const 9))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (func (export "on_flow_end") (param i64)))
`;

function badModule(): string {
  const file = join(tempDir('bad-verdict'), 'bad_verdict.wat');
  writeFileSync(file, BAD_VERDICT_WAT);
  return file;
}

describe('inspect --pcap with a module that returns verdicts above 5', () => {
  for (const [label, extra] of [['sandboxed', []], ['in-thread', ['--unsafe-in-thread']]] as const) {
    it(`${label}: the summary, --json and the EVE stats count them`, () => {
      const mod = badModule();
      const json = cli(['inspect', '--pcap', DEMO_PCAP, '--module', mod, ...extra, '--no-progress', '--json']);
      expect(json.status).toBe(0);
      const c = (JSON.parse(json.stdout) as { counters: { verdict_errors: number; inspected: number; module_failures: number } }).counters;
      expect(c.verdict_errors).toBeGreaterThan(0);
      expect(c.verdict_errors).toBe(c.inspected);
      expect(c.module_failures).toBe(0);

      const eve = join(tempDir('bad-verdict-eve'), 'eve.json');
      const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', mod, ...extra, '--no-progress', '--eve', eve]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`invalid verdicts\\s+${c.verdict_errors} verdicts outside 0\\.\\.5 returned by modules: each was treated as CONTINUE`));
      const stats = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event_type: string; stats?: { modules: { verdict_errors: number } } })
        .filter((e) => e.event_type === 'stats');
      expect(stats).toHaveLength(1);
      expect(stats[0]!.stats!.modules.verdict_errors).toBe(c.verdict_errors);
    });
  }

  it('says nothing of invalid verdicts when there were none; --json has 0', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'basic_inspect', '--no-progress']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/invalid verdicts/);
    const json = JSON.parse(cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'basic_inspect', '--no-progress', '--json']).stdout) as { counters: { verdict_errors: number } };
    expect(json.counters.verdict_errors).toBe(0);
  });
});

// The dry run is where an author debugs one packet: it showed the CONTINUE
// the host put in place of verdict 9, with no word that it was not the module's.
describe('inspect dry run with a module that returns a verdict above 5', () => {
  for (const [label, extra] of [['sandboxed', []], ['in-thread', ['--unsafe-in-thread']]] as const) {
    it(`${label}: a note says the module's verdict was invalid and was taken as CONTINUE`, () => {
      const mod = badModule();
      const args = ['inspect', '--ip', '198.18.1.1', '--port', '80', '--proto', 'tcp', '--module', mod, ...extra];
      const r = cli(args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/bad_verdict\s+CONTINUE/);
      expect(r.stdout).toContain('note     module bad_verdict wrote a verdict outside 0..5, which the host took as CONTINUE');
      const json = JSON.parse(cli([...args, '--json']).stdout) as { notes: string[] };
      expect(json.notes.some((n) => n.startsWith('module bad_verdict wrote a verdict outside 0..5'))).toBe(true);
    });
  }

  it('a module with valid verdicts gets no such note', () => {
    const r = cli(['inspect', '--ip', '198.18.1.1', '--port', '80', '--proto', 'tcp', '--module', 'basic_inspect']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/outside 0\.\.5/);
  });
});
