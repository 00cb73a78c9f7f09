// Insertion with bad checksums: the receiving host drops the segment, so the
// engine must not take it as data nor let it end the connection.
import { describe, expect, it } from 'vitest';
import { fragmentIp } from '../../../host/packet/build.js';
import { foldSum, pseudoHeaderSumAt } from '../../../host/packet/checksum.js';
import { ACK, ATTACK, BENIGN, IP_CSUM, PSH, RST, SYN, TCP_CSUM, c2s, corrupt, handshake, runFrames, s2c } from './evasion-support.js';

describe('checksum insertion', () => {
  it('does not let a decoy with a bad TCP checksum take the attack\'s place in the stream', () => {
    const { rec, counters } = runFrames([...handshake(), corrupt(c2s(ACK | PSH, 1001, BENIGN), TCP_CSUM), c2s(ACK | PSH, 1001, ATTACK)], { checksums: 'validate' });
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.checksums.tcpBad).toBe(1);
  });

  it('does not take a decoy whose IPv4 header checksum is bad', () => {
    const { rec, counters } = runFrames([...handshake(), corrupt(c2s(ACK | PSH, 1001, BENIGN), IP_CSUM), c2s(ACK | PSH, 1001, ATTACK)], { checksums: 'validate' });
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.checksums.ipv4Bad).toBe(1);
  });

  it('does not reassemble a fragment with a bad IPv4 header checksum into the datagram', () => {
    const attack = fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 77);
    const decoy = fragmentIp(c2s(ACK | PSH, 1001, BENIGN), 24, 77);
    const { rec } = runFrames([...handshake(), corrupt(decoy[1]!, IP_CSUM), ...attack], { checksums: 'validate' });
    expect(rec.toServer()).toEqual([ATTACK]);
  });

  it('does not let a RST with a bad checksum end the flow before the rest of the request', () => {
    const half = 20;
    const { rec, flows } = runFrames([
      ...handshake().map((frame, i) => ({ frame, t: i * 0.001 })),
      { frame: c2s(ACK | PSH, 1001, ATTACK.slice(0, half)), t: 1 },
      { frame: corrupt(s2c(RST | ACK, 5001, 1001 + half), TCP_CSUM), t: 1.1 },
      // Past the 10 s a reset connection is kept, well within an established one's.
      { frame: c2s(ACK | PSH, 1001 + half, ATTACK.slice(half)), t: 20 },
    ], { checksums: 'validate' });
    expect(flows).toHaveLength(1);
    expect(rec.toServer()).toEqual([ATTACK]);
  });

  it('in auto, takes the data of a host that never sent a right checksum: a capture with checksum offload on that host', () => {
    // tcpdump on the client: every segment its sockets sent carries a checksum the NIC was to fill in.
    const bad = (f: Uint8Array) => corrupt(f, TCP_CSUM);
    // A pure ACK with a right checksum (Linux answers for closed connections in software) proves nothing.
    const { rec, counters } = runFrames([bad(c2s(SYN, 1000)), s2c(SYN | ACK, 5000, 1001), c2s(ACK, 1001), bad(c2s(ACK | PSH, 1001, ATTACK))], { checksums: 'auto' });
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.checksums).toMatchObject({ tcpBad: 2, refused: 0 });
  });

  it('in auto, refuses a decoy with a bad checksum from a host whose SYN was right', () => {
    const { rec, counters } = runFrames([...handshake(), corrupt(c2s(ACK | PSH, 1001, BENIGN), TCP_CSUM), c2s(ACK | PSH, 1001, ATTACK)], { checksums: 'auto' });
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.checksums).toMatchObject({ tcpBad: 1, refused: 1 });
  });

  it('in auto, tells IPv6 sources apart by their whole address: one proven by a right SYN, its neighbour not', () => {
    // 2001:db8::a sends right checksums; 2001:db8::b (one bit away) has offload on.
    const v6 = (src: string, dst: string) => ({ src, dst });
    const a = v6('2001:db8::a', '2001:db8::1'), b = v6('2001:db8::b', '2001:db8::1');
    const back = (c: { src: string; dst: string }) => ({ src: c.dst, dst: c.src });
    const TCP_CSUM_V6 = 14 + 40 + 16;
    const bad = (f: Uint8Array) => corrupt(f, TCP_CSUM_V6);
    const { rec, counters } = runFrames([
      c2s(SYN, 1000, '', a), s2c(SYN | ACK, 5000, 1001, back(a)), c2s(ACK, 1001, '', a),
      bad(c2s(ACK | PSH, 1001, BENIGN, a)), c2s(ACK | PSH, 1001, ATTACK, a),
      bad(c2s(SYN, 1000, '', { ...b, srcPort: 40701 })), s2c(SYN | ACK, 5000, 1001, { ...back(b), dstPort: 40701 }),
      bad(c2s(ACK | PSH, 1001, ATTACK, { ...b, srcPort: 40701 })),
    ], { checksums: 'auto' });
    // a's decoy refused, b's data taken: the stream of each flow holds the attack once.
    expect(rec.toServer()).toEqual([ATTACK, ATTACK]);
    expect(counters.checksums).toMatchObject({ tcpBad: 3, refused: 1 });
  });

  it('in auto, always refuses a bad IPv4 header checksum: no offload leaves one', () => {
    const { rec, counters } = runFrames([...handshake(), corrupt(c2s(ACK | PSH, 1001, BENIGN), IP_CSUM), c2s(ACK | PSH, 1001, ATTACK)], { checksums: 'auto' });
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.checksums).toMatchObject({ ipv4Bad: 1, refused: 1 });
  });

  // The live daemon in host mode: frames from veth or containers carry only
  // the pseudo-header sum, and the TAP delivery hands those to the stack as
  // CHECKSUM_PARTIAL (taken); any other wrong checksum the stack drops.
  describe('offload (the daemon in host mode)', () => {
    /** `frame` (IPv4, TCP) as a sender with checksum offload leaves it: the field holds the folded pseudo-header sum. */
    function partial(frame: Uint8Array, l3 = 14): Uint8Array {
      const f = frame.slice();
      const l4 = l3 + 20;
      const total = (f[l3 + 2]! << 8) | f[l3 + 3]!;
      const sum = foldSum(pseudoHeaderSumAt(f, l3 + 12, f, l3 + 16, 4, 6, total - 20));
      f[l4 + 16] = sum >> 8;
      f[l4 + 17] = sum & 0xff;
      return f;
    }

    it('takes segments whose checksum was left to offload, as the stack will', () => {
      const { rec, counters } = runFrames([partial(c2s(SYN, 1000)), s2c(SYN | ACK, 5000, 1001), partial(c2s(ACK, 1001)), partial(c2s(ACK | PSH, 1001, ATTACK))], { checksums: 'offload' });
      expect(rec.toServer()).toEqual([ATTACK]);
      expect(counters.checksums).toMatchObject({ tcpBad: 0, refused: 0 });
    });

    it('refuses a decoy with any other bad checksum, even from a host whose segments are all offloaded', () => {
      const { rec, counters } = runFrames([partial(c2s(SYN, 1000)), s2c(SYN | ACK, 5000, 1001), partial(c2s(ACK, 1001)),
        corrupt(c2s(ACK | PSH, 1001, BENIGN), TCP_CSUM), partial(c2s(ACK | PSH, 1001, ATTACK))], { checksums: 'offload' });
      expect(rec.toServer()).toEqual([ATTACK]);
      expect(counters.checksums).toMatchObject({ tcpBad: 1, refused: 1 });
    });

    it('refuses a partial checksum on a VLAN-tagged frame: the delivery does not mark those, and the stack drops it', () => {
      const tagged = (f: Uint8Array) => partial(f, 18);
      const vlan = { vlans: [10] };
      const { rec, counters } = runFrames([c2s(SYN, 1000, '', vlan), s2c(SYN | ACK, 5000, 1001, vlan), c2s(ACK, 1001, '', vlan),
        tagged(c2s(ACK | PSH, 1001, BENIGN, vlan)), c2s(ACK | PSH, 1001, ATTACK, vlan)], { checksums: 'offload' });
      expect(rec.toServer()).toEqual([ATTACK]);
      expect(counters.checksums).toMatchObject({ tcpBad: 1, refused: 1 });
    });

    // Inline mode completes offload-pending checksums under any tags before
    // it sends a frame on (host/daemon/checksum.ts), and forwards every other
    // wrong one as it came, for the receiver to drop.
    describe('forward (the daemon in inline mode)', () => {
      const vlan = { vlans: [10] };
      const tagged = (f: Uint8Array) => partial(f, 18);

      it('takes offload-pending segments, VLAN-tagged ones too: the daemon completes them before they go on', () => {
        const { rec, counters } = runFrames([tagged(c2s(SYN, 1000, '', vlan)), s2c(SYN | ACK, 5000, 1001, vlan), tagged(c2s(ACK, 1001, '', vlan)),
          tagged(c2s(ACK | PSH, 1001, ATTACK, vlan))], { checksums: 'forward' });
        expect(rec.toServer()).toEqual([ATTACK]);
        expect(counters.checksums).toMatchObject({ tcpBad: 0, refused: 0 });
      });

      it('refuses a decoy with any other bad checksum: it goes on wrong and the receiver drops it', () => {
        const { rec, counters } = runFrames([c2s(SYN, 1000), s2c(SYN | ACK, 5000, 1001), c2s(ACK, 1001),
          corrupt(c2s(ACK | PSH, 1001, BENIGN), TCP_CSUM), c2s(ACK | PSH, 1001, ATTACK)], { checksums: 'forward' });
        expect(rec.toServer()).toEqual([ATTACK]);
        expect(counters.checksums).toMatchObject({ tcpBad: 1, refused: 1 });
      });
    });
  });
});
