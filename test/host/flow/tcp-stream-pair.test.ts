import { describe, expect, it } from 'vitest';
import { TcpStreamPair } from '../../../host/flow/stream.js';
import { FlowTable } from '../../../host/flow/table.js';
import { Direction } from '../../../host/flow/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt, rng, shuffle } from './helpers.js';

const C = '198.18.3.1', S = '198.18.3.2';
const { SYN, ACK, PSH, RST } = TcpFlag;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function seg(fromClient: boolean, flags: number, seq: number, payload = '') {
  return pkt({
    src: fromClient ? C : S, dst: fromClient ? S : C, proto: 'tcp',
    srcPort: fromClient ? 40500 : 80, dstPort: fromClient ? 80 : 40500, tcpFlags: flags, seq, payload,
  });
}

describe('TcpStreamPair with the flow table', () => {
  it('rebuilds an HTTP request split into out-of-order segments, and the response, per direction', () => {
    const request = 'GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: t\r\n\r\n';
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    const cIsn = 0xfffffff0, sIsn = 12345;
    const pieces: { off: number; s: string }[] = [];
    for (let off = 0; off < request.length; off += 9) pieces.push({ off, s: request.slice(off, off + 9) });

    const table = new FlowTable();
    const pair = new TcpStreamPair(65536);
    const feed = (p: ReturnType<typeof seg>) => {
      const r = table.track(p)!;
      return { dir: r.direction, n: pair.pushPacket(p, r.direction) };
    };
    feed(seg(true, SYN, cIsn));
    feed(seg(false, SYN | ACK, sIsn));
    feed(seg(true, ACK, (cIsn + 1) >>> 0));
    // A retransmitted copy of one piece, and a shuffle.
    const order = shuffle([...pieces, pieces[2]!], rng(4));
    let released = 0;
    for (const pc of order) released += feed(seg(true, ACK | PSH, (cIsn + 1 + pc.off) >>> 0, pc.s)).n;
    expect(released).toBe(request.length);
    expect(text(pair.toServer.bytes())).toBe(request);
    const resp = feed(seg(false, ACK | PSH, sIsn + 1, response));
    expect(resp.dir).toBe(Direction.TO_CLIENT);
    expect(text(pair.stream(Direction.TO_CLIENT).bytes())).toBe(response);
    expect(pair.toServer.stats.overlapConflicts).toBe(0);
  });

  it('takes data carried by a SYN as starting at ISN+1 once the next segment follows it, and ignores RST payloads', () => {
    const pair = new TcpStreamPair(1024);
    expect(pair.pushPacket(seg(true, SYN, 500, 'fast-open'), Direction.TO_SERVER)).toBe(0);
    expect(pair.pushPacket(seg(true, ACK, 510, '!'), Direction.TO_SERVER)).toBe(10);
    expect(pair.pushPacket(seg(true, RST, 511, 'junk'), Direction.TO_SERVER)).toBe(0);
    expect(text(pair.toServer.bytes())).toBe('fast-open!');
    expect(pair.toClient.length).toBe(0);
  });

  it('ignores non-TCP packets', () => {
    const pair = new TcpStreamPair(1024);
    const udp = pkt({ src: C, dst: S, proto: 'udp', srcPort: 1, dstPort: 2, payload: 'data' });
    expect(pair.pushPacket(udp, Direction.TO_SERVER)).toBe(0);
    expect(pair.toServer.initialized).toBe(false);
  });
});
