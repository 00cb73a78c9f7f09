// attach's choices are allow/deny, native/skb/auto, open/closed; users coming
// from `rule default pass|drop` or `ip link ... xdpgeneric` type the other
// words, and the hint translates them. Refused before anything is attached.
import { describe, expect, it } from 'vitest';
import { cli, requireBuilt, tempDir } from './support.js';

describe('attach flag values', () => {
  it.each([
    [['--policy', 'pass'], /--policy "pass" is not one of allow, deny\n {2}hint: did you mean --policy allow\?/],
    [['--policy', 'drop'], /hint: did you mean --policy deny\?/],
    [['--policy', 'DENY'], /hint: did you mean --policy deny\?/],
    [['--mode', 'xdpgeneric'], /--mode "xdpgeneric" is not one of native, skb, auto\n {2}hint: did you mean --mode skb\?/],
    [['--fail', 'shut'], /--fail "shut" is not one of open, closed\n {2}hint: use --fail open\|closed/],
  ])('%j', (args, message) => {
    requireBuilt();
    const r = cli(['attach', '--iface', 'lo', ...args, '--state-dir', tempDir('attach-flags')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
