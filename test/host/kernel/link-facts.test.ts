// linkRxQueues and linkMtu answer for this process's namespace; where an
// interface does not exist they answer nothing rather than a guess.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linkMtu, linkRxQueues } from '../../../host/kernel/link-facts.js';

describe('linkRxQueues and linkMtu', () => {
  it('reads the loopback MTU and queue count that the kernel reports', () => {
    // The test runs in the namespace its /sys was mounted in, so sysfs is a fair witness here.
    expect(linkMtu('lo')).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim()));
    expect(linkRxQueues('lo')).toBeGreaterThanOrEqual(1);
  });

  it('gives nulls for an interface that does not exist here', () => {
    expect(linkRxQueues('sfnosuch0')).toBeNull();
    expect(linkMtu('sfnosuch0')).toBeNull();
  });
});
