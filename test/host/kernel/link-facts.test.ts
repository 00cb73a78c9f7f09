// linkFacts answers for this process's namespace; where an interface does
// not exist it answers nothing rather than a guess.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linkFacts } from '../../../host/kernel/link-facts.js';

describe('linkFacts', () => {
  it('reads the loopback MTU and queue count that the kernel reports', () => {
    const f = linkFacts('lo');
    // The test runs in the namespace its /sys was mounted in, so sysfs is a fair witness here.
    expect(f.mtu).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim()));
    expect(f.rxQueues).toBeGreaterThanOrEqual(1);
  });

  it('gives nulls for an interface that does not exist here', () => {
    expect(linkFacts('sfnosuch0')).toEqual({ rxQueues: null, mtu: null });
  });
});
