// status counts the kernel's flow and penalty entries; where there are any,
// it names the command that lists them, live and offline alike.
import { describe, expect, it } from 'vitest';
import { describeLive, describeOffline } from '../../cli/commands/status.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';
import type { OfflineStatus } from '../../host/daemon/offline-status.js';
import { validStatus } from '../host/control/fake-daemon.js';

const live = (flows: number, penalty: number): string => {
  const s = validStatus() as unknown as DaemonStatus;
  return describeLive({ ...s, maps: { ...s.maps, flows, penalty } });
};

const offline = (flows: number, penalty: number): string => describeOffline({
  daemon: { running: false }, rules: { count: 0, defaultPolicy: 'pass' }, rulesError: null, flowsMax: 65536, penaltyMax: 65536,
  interfaces: [{
    iface: 'eth9', ifindex: 9, netns: 1, mode: 'skb', requestedMode: 'skb', policy: 'allow', fail: 'open', pinDir: '/sys/fs/bpf/secuxflow/eth9', progId: 7,
    live: true, problem: null, kernelError: null,
    kernel: { rx: 1, pass: 1, drop: 0, invalid: 0, punt: 0, puntFallback: 0, passAll: false, flows, penalty },
  }],
} as unknown as OfflineStatus);

describe('status names the commands that list the kernel entries it counts', () => {
  it('live: none, flows, penalty, both', () => {
    const mapsLine = (text: string): string => text.split('\n').find((l) => l.startsWith('maps: '))!;
    expect(mapsLine(live(0, 0))).not.toContain('secuxflow');
    expect(mapsLine(live(3, 0))).toMatch(/penalty entries \(secuxflow flow list\)$/);
    expect(mapsLine(live(0, 2))).toMatch(/penalty entries \(secuxflow block list\)$/);
    expect(mapsLine(live(3, 2))).toMatch(/\(secuxflow flow list, secuxflow block list\)$/);
  });

  it('offline, per interface', () => {
    expect(offline(0, 0)).toMatch(/^ {2}maps: flows 0\/65,536, penalty 0\/65,536$/m);
    expect(offline(5, 1)).toMatch(/^ {2}maps: flows 5\/65,536, penalty 1\/65,536 \(secuxflow flow list, secuxflow block list\)$/m);
  });
});
