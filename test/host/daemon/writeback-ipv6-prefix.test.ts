// What a module's BLOCK_SRC writes into the kernel penalty box for an IPv6
// source: the key of its /64 by default (the kernel then drops every address
// of it), or the address itself when block_ipv6_prefix is 128. IPv4 sources
// are keyed by their address either way.
import { describe, expect, it, vi } from 'vitest';

const keys = vi.hoisted(() => [] as string[]);
vi.mock('../../../host/kernel/verdictmaps.js', () => ({
  writeFlowVerdicts: () => {},
  writePenalty: (_fds: unknown, addr: Uint8Array) => { keys.push(Buffer.from(addr).toString('hex')); },
}));

import { VerdictWriteBack } from '../../../host/daemon/writeback.js';
import type { VerdictMapFds } from '../../../host/kernel/verdictmaps.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { Verdict } from '../../../host/verdict.js';
import { packet } from '../engine/support.js';

const FDS = { sf_config: -1, sf_flows: -1, sf_penalty: -1 } as unknown as VerdictMapFds;

function blockSrc(src: string): PacketDecision {
  return {
    verdict: Verdict.BLOCK_SRC, stage: 'module', flow: null,
    pkt: packet({ src, dst: src.includes(':') ? '2001:db8:9::1' : '198.18.9.1' }),
    modules: [{ module: 'm', verdict: Verdict.BLOCK_SRC, ttl: 30, alerts: [], events: [], failure: null }], inspected: 1,
  } as unknown as PacketDecision;
}

describe('BLOCK_SRC keys in the kernel penalty box', () => {
  it.each([
    [64, '20010db8000500000000000000000000'],
    [128, '20010db800050000000000000000000a'],
  ] as const)('block_ipv6_prefix %i', (prefix, v6Key) => {
    keys.length = 0;
    const wb = new VerdictWriteBack(FDS, { packets: 512, bytes: 1 << 20, policy: 'allow' }, () => 0n);
    if (prefix === 128) wb.setBlockIpv6Prefix(128);
    wb.apply(blockSrc('2001:db8:5::a'));
    wb.apply(blockSrc('198.18.0.7'));
    expect(keys).toEqual([v6Key, 'c6120007']);
  });
});
