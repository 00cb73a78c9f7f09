// `secuxflow inspect --kernel`: the dry-run packet through the real XDP
// program (BPF_PROG_TEST_RUN) next to the engine, via the built CLI.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireBuilt, tempDir } from '../cli/support.js';
import { requireKernel } from './support/kernel.js';

const k = requireKernel();

describe.skipIf(k.skip)('secuxflow inspect --kernel', () => {
  let rules: string;
  beforeAll(() => {
    requireBuilt();
    rules = join(tempDir('kinspect'), 'rules.json');
    writeFileSync(rules, JSON.stringify({
      default_policy: 'pass',
      rules: [
        { id: 5, priority: 10, dst_port: 22, proto: 'tcp', action: 'drop' },
        { id: 6, priority: 20, src: '2001:db8:bad::/48', action: 'drop' },
        { id: 7, priority: 30, dst: '198.18.0.0/16', dst_port: '8000-8999', proto: 'udp', action: 'inspect', modules: ['basic_inspect'] },
      ],
    }));
  });

  const cases: [string, string[], { action: string; rule: number | null; xdp: string }][] = [
    ['a port rule drops', ['--ip', '198.18.0.10', '--port', '22', '--proto', 'tcp'], { action: 'drop', rule: 5, xdp: 'drop' }],
    ['an IPv6 CIDR-only rule drops', ['--ip', '2001:db8::1', '--src', '2001:db8:bad::9', '--port', '443', '--proto', 'tcp'], { action: 'drop', rule: 6, xdp: 'drop' }],
    ['an inspect rule punts (fail-open without a socket)', ['--ip', '198.18.3.3', '--port', '8053', '--proto', 'udp'], { action: 'inspect', rule: 7, xdp: 'pass' }],
    ['the default policy passes', ['--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp'], { action: 'pass', rule: null, xdp: 'pass' }],
  ];
  for (const [what, args, want] of cases) {
    it(`${what}, and the kernel agrees with the engine`, () => {
      const r = cli(['inspect', ...args, '--rules', rules, '--kernel', '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.kernel).toMatchObject({ action: want.action, rule_id: want.rule, xdp_action: want.xdp, agrees: true });
      expect(report.rule?.id ?? null).toBe(want.rule);
    });
  }

  it('prints the kernel line in the decision path', () => {
    const r = cli(['inspect', '--ip', '198.18.0.10', '--port', '22', '--proto', 'tcp', '--rules', rules, '--kernel']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kernel\s+XDP_DROP: drop by rule 5; agrees with the engine/);
  });
});
