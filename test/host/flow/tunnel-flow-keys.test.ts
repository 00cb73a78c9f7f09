// The flow table keys an inner flow with its tunnels: the hash only picks
// the chain, so two overlays' flows must stay apart when every flow lands in
// one chain (hashBits 0), and an untunnelled flow with the same inner tuple
// is a third flow.
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { Direction } from '../../../host/flow/types.js';
import { vxlan, greIp } from '../packet/tunnel-frames.js';

const SYN: PacketSpec = { src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: 0x02 };
const SYNACK: PacketSpec = { src: '10.0.0.2', dst: '10.0.0.1', proto: 'tcp', srcPort: 80, dstPort: 40000, tcpFlags: 0x12 };
const A = { src: '192.0.2.1', dst: '192.0.2.2' };
const B = { src: '192.0.2.2', dst: '192.0.2.1' };
const dec = (f: Uint8Array): DecodedPacket => decodePacket(f, LinkType.ETHERNET, 1_700_000_000, 0);

describe('flow keys of tunnelled packets', () => {
  it('with every flow in one hash chain: VNI 1, VNI 2, GRE and the bare tuple are four flows; each answer finds its own', () => {
    const t = new FlowTable({ hashBits: 0 });
    const ids = [dec(vxlan(A, 1, SYN)), dec(vxlan(A, 2, SYN)), dec(greIp(A, SYN)), dec(buildPacket(SYN))].map((p) => t.track(p)!.flow.id);
    expect(new Set(ids).size).toBe(4);
    expect(t.chains).toBe(1);
    const answers = [dec(vxlan(B, 1, SYNACK)), dec(vxlan(B, 2, SYNACK)), dec(greIp(B, SYNACK)), dec(buildPacket(SYNACK))].map((p) => t.track(p)!);
    expect(answers.map((r) => r.flow.id)).toEqual(ids);
    expect(answers.every((r) => r.direction === Direction.TO_CLIENT && !r.isNew)).toBe(true);
  });

  it('an inner flow keeps its outermost tunnel for EVE; a bare flow has none', () => {
    const t = new FlowTable();
    expect(t.track(dec(vxlan(A, 5, SYN)))!.flow.tunnel).toEqual({ src_ip: '192.0.2.1', dest_ip: '192.0.2.2', proto: 'UDP', depth: 1, type: 'vxlan', vni: 5 });
    expect(t.track(dec(buildPacket(SYN)))!.flow.tunnel).toBeNull();
  });
});
