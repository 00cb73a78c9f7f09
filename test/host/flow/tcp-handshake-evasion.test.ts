// Handshake tricks against stream reassembly: SYNs and SYN data the receiver
// never takes must not decide where the inspected stream starts.
import { describe, expect, it } from 'vitest';
import { TcpStreamPair } from '../../../host/flow/stream.js';
import { Direction } from '../../../host/flow/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt } from './helpers.js';

const C = '198.18.4.1', S = '198.18.4.2';
const { SYN, ACK, PSH } = TcpFlag;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ATTACK = "GET /?q=1' UNION SELECT pw FROM users-- HTTP/1.1\r\n\r\n";
const BENIGN = 'GET /?q=an_ordinary_and_harmless_search_term HTTP/1.1\r\n\r\n';

function seg(fromClient: boolean, flags: number, seq: number, ack: number, payload = '') {
  return pkt({
    src: fromClient ? C : S, dst: fromClient ? S : C, proto: 'tcp',
    srcPort: fromClient ? 40600 : 80, dstPort: fromClient ? 80 : 40600, tcpFlags: flags, seq: seq >>> 0, ack: ack >>> 0, payload,
  });
}

function run(pair: TcpStreamPair, segs: ReturnType<typeof seg>[]): void {
  for (const p of segs) pair.pushPacket(p, p.srcPort === 80 ? Direction.TO_CLIENT : Direction.TO_SERVER);
}

describe('TCP handshake evasions', () => {
  it('keeps the stream on the acknowledged ISN when a second SYN with another ISN follows the handshake', () => {
    const pair = new TcpStreamPair(4096);
    run(pair, [seg(true, SYN, 1000, 0), seg(false, SYN | ACK, 5000, 1001), seg(true, ACK, 1001, 5001),
      seg(true, SYN, 999_999, 0), seg(true, ACK | PSH, 1001, 5001, ATTACK)]);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
    expect(pair.synIgnored).toBe(1);
  });

  it('follows the SYN the server acknowledged, not the last one sent', () => {
    const pair = new TcpStreamPair(4096);
    // The first SYN reaches the server, a decoy SYN after it does not (its TTL ran out).
    run(pair, [seg(true, SYN, 1000, 0), seg(true, SYN, 777_777, 0), seg(false, SYN | ACK, 5000, 1001), seg(true, ACK, 1001, 5001),
      seg(true, ACK | PSH, 1001, 5001, ATTACK)]);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
  });

  it('drops SYN data the server did not acknowledge, so the data sent again at ISN+1 is what is inspected', () => {
    const pair = new TcpStreamPair(4096);
    run(pair, [seg(true, SYN, 1000, 0, BENIGN), seg(false, SYN | ACK, 5000, 1001), seg(true, ACK, 1001, 5001),
      seg(true, ACK | PSH, 1001, 5001, ATTACK)]);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
    expect(pair.synIgnored).toBe(1);
  });

  it('keeps SYN data the server acknowledged (TCP Fast Open) and hands it over with the next client packet', () => {
    const pair = new TcpStreamPair(4096);
    run(pair, [seg(true, SYN, 1000, 0, ATTACK), seg(false, SYN | ACK, 5000, 1001 + ATTACK.length)]);
    expect(pair.toServer.length).toBe(0);
    const released = pair.pushPacket(seg(true, ACK, 1001 + ATTACK.length, 5001), Direction.TO_SERVER);
    expect(released).toBe(ATTACK.length);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
  });

  it('without the server side, lets the client\'s next segment say whether its SYN data was kept', () => {
    const resent = new TcpStreamPair(4096);
    run(resent, [seg(true, SYN, 1000, 0, BENIGN), seg(true, ACK | PSH, 1001, 5001, ATTACK)]);
    expect(text(resent.toServer.bytes())).toBe(ATTACK);
    const followed = new TcpStreamPair(4096);
    run(followed, [seg(true, SYN, 1000, 0, ATTACK), seg(true, ACK | PSH, 1001 + ATTACK.length, 5001, 'X')]);
    expect(text(followed.toServer.bytes())).toBe(`${ATTACK}X`);
  });

  it('ignores a SYN-ACK that acknowledges no SYN the client sent', () => {
    const pair = new TcpStreamPair(4096);
    run(pair, [seg(true, SYN, 1000, 0), seg(false, SYN | ACK, 5000, 424_242), seg(false, SYN | ACK, 5000, 1001),
      seg(true, ACK, 1001, 5001), seg(true, ACK | PSH, 1001, 5001, ATTACK)]);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
  });

  it('reassembles across the 2^32 sequence wrap after a handshake', () => {
    const pair = new TcpStreamPair(4096);
    const isn = 2 ** 32 - 20;
    const data = [];
    for (let off = 0; off < ATTACK.length; off += 7) data.push(seg(true, ACK | PSH, isn + 1 + off, 5001, ATTACK.slice(off, off + 7)));
    run(pair, [seg(true, SYN, isn, 0), seg(false, SYN | ACK, 5000, isn + 1), seg(true, ACK, isn + 1, 5001), ...data.reverse()]);
    expect(text(pair.toServer.bytes())).toBe(ATTACK);
  });
});
