// DNS over TCP with many messages in one segment, resends of a dropped
// segment, and streams past the host's stream depth. Resolvers answer
// pipelined queries (RFC 7766 6.2.1.1), so every message a packet carries
// must be judged on that packet: the audit's F6 sent 64 benign queries and
// evil.example as the 65th in one segment, and dnsmasq answered it.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { MetaFlag } from '../../../host/wasm/abi.js';
import type { InspectItem, ModuleAlert } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from './support.js';
import { dnsMessage, nameRdata, tcpFramed } from './dns-wire.js';

beforeAll(async () => { await compiledModule('dns_guard'); }, 180_000);

const CONFIG = { blocklist: ['evil.example'] };
const STREAM_DEPTH = 64 * 1024;

const query = (name: string, id = 1) => dnsMessage({ id, questions: [{ name }] });

/** `count` pipelined queries g0.example, g1.example…, with evil.example as message number `evilAt` (1-based). */
function pipelined(count: number, evilAt: number): Uint8Array {
  return tcpFramed(...Array.from({ length: count }, (_, i) => query(i + 1 === evilAt ? 'evil.example' : `g${i}.example`, i)));
}

/** A query packet of flow 1 carrying `segment`, which ends the stream `stream`. */
function segmentOf(stream: Uint8Array, segment: Uint8Array, over: Partial<InspectItem> = {}): InspectItem {
  return item(packet({ proto: 'tcp', dstPort: 53, payload: segment }), { flowId: 1, stream, streamNew: segment.length, ...over });
}

/** The packet that carries the whole of `stream` as one segment. */
const oneSegment = (stream: Uint8Array) => segmentOf(stream, stream);

/** A packet that fills a hole at the stream's start, releasing all of `stream` (held past the hole) at once. */
const releasesAll = (stream: Uint8Array, flowId = 1) => segmentOf(stream, stream.subarray(0, 100), { streamNew: stream.length, flowId });

/**
 * A resend of the bytes from `from` on, after a DROP kept them from the
 * receiver: the host shows the stream again from there (docs/abi/v1.md
 * section 4), with the resend's bytes in it.
 */
function resend(stream: Uint8Array, from: number): InspectItem {
  return segmentOf(stream, stream.subarray(from));
}

const blockedNames = (alerts: ModuleAlert[]) =>
  alerts.filter((a) => a.sigId === 1002001).map((a) => a.metadata?.rrname);

describe('dns_guard: every pipelined message in a TCP segment is judged on that segment', () => {
  it.each([
    ['the 65th of 65 (the audit\'s F6)', 65, 65],
    ['the 200th of 250', 250, 200],
  ])('a blocklisted query as %s drops the segment that carries it', async (_, count, evilAt) => {
    const inst = await instance('dns_guard', CONFIG);
    const out = run(inst, [oneSegment(pipelined(count, evilAt))]);
    expect(out.verdicts).toEqual([Verdict.DROP]);
    expect(blockedNames(out.alerts)).toEqual(['evil.example']);
    expect(out.alerts.every((a) => a.index === 0)).toBe(true);
    // Events stay capped at 64 a packet; the check is not.
    expect(out.events.length).toBe(64);
    expect(out.events.map((e) => e.data.rrname)).toEqual(Array.from({ length: 64 }, (_, i) => `g${i}.example`));
  });

  it('a later segment goes on after the last message judged: nothing is judged twice, nothing skipped', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const first = pipelined(100, 0);
    const second = tcpFramed(query('after.example', 100), query('evil.example', 101));
    const stream = Uint8Array.from([...first, ...second]);
    const out = run(inst, [oneSegment(first), segmentOf(stream, second)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.DROP]);
    expect(out.alerts.map((a) => [a.index, a.metadata?.rrname])).toEqual([[1, 'evil.example']]);
    expect(out.events.filter((e) => e.index === 1).map((e) => e.data.rrname)).toEqual(['after.example', 'evil.example']);
  });

  it('the tunnel checks and CNAME cloaking see every message too', async () => {
    const inst = await instance('dns_guard', { ...CONFIG, tunnel_action: 'drop' });
    const benign = (i: number) => query(`g${i}.example`, i);
    const tunnel = query(`${'q'.repeat(60)}.t.example`, 99);
    const answer = (i: number, alias: string) =>
      dnsMessage({ id: i, response: true, questions: [{ name: `g${i}.example` }], answers: [{ name: 12, type: 'CNAME', rdata: nameRdata(alias) }] });
    const answers = tcpFramed(...Array.from({ length: 100 }, (_, i) => answer(i, i === 99 ? 'cdn.evil.example' : 'cdn.fine.example')));
    const out = run(inst, [
      oneSegment(tcpFramed(...Array.from({ length: 99 }, (_, i) => benign(i)), tunnel)),
      item(packet({ proto: 'tcp', srcPort: 53, dstPort: 40000, payload: answers }), { flowId: 1, direction: 1, stream: answers, streamNew: answers.length }),
    ]);
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.DROP]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 1002002], [1, 1002001]]);
    expect(out.alerts[1]!.metadata).toMatchObject({ rrname: 'g99.example', alias: 'cdn.evil.example' });
  });

  it('one packet raises at most 16 alerts of a sid, and the verdict still counts every message', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const msgs = Array.from({ length: 300 }, (_, i) => query(`x${i}.evil.example`, i));
    const out = run(inst, [oneSegment(tcpFramed(...msgs))]);
    expect(out.verdicts).toEqual([Verdict.DROP]);
    expect(blockedNames(out.alerts)).toEqual(Array.from({ length: 16 }, (_, i) => `x${i}.evil.example`));
    expect(out.events.length).toBe(64);
  });
});

describe('dns_guard: the worst segment, 64 KiB of the smallest messages', () => {
  // The cost of checking every message is bounded by the new stream bytes
  // one packet can release: a segment (under 64 KiB), or, for a segment
  // that fills a hole, the held bytes after it, up to the host's stream
  // depth (64 KiB by default). These streams are the densest such release;
  // the test checks the result, and COST_LOG=1 prints the time for the README.
  function timed(label: string, fn: () => ReturnType<typeof run>): ReturnType<typeof run> {
    const t0 = process.hrtime.bigint();
    const out = fn();
    if (process.env.COST_LOG) console.log(`${label}: ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);
    return out;
  }

  it('3,120 one-label queries, the blocklisted one last: the packet is dropped', async () => {
    const inst = await instance('dns_guard', { blocklist: ['evil'] });
    // header 12 + name "\x01a\x00" 3 + type/class 4 = 19 bytes, 21 with the prefix
    const count = Math.floor(STREAM_DEPTH / 21);
    const msgs = Array.from({ length: count }, (_, i) => query(i === count - 1 ? 'evil' : 'a', i));
    const stream = tcpFramed(...msgs);
    expect(stream.length).toBeLessThanOrEqual(STREAM_DEPTH);
    run(inst, [releasesAll(stream)]); // warm-up
    const out = timed(`${count} queries`, () => run(inst, [releasesAll(stream, 2)]));
    expect(out.verdicts).toEqual([Verdict.DROP]);
    expect(blockedNames(out.alerts)).toEqual(['evil']);
    expect(out.events.length).toBe(64);
  });

  it('32,768 empty (malformed) messages: 16 alerts, the malformed_action verdict, no trap', async () => {
    const inst = await instance('dns_guard', { ...CONFIG, malformed_action: 'drop' });
    const stream = new Uint8Array(STREAM_DEPTH); // every 2 bytes a zero length prefix
    const out = timed('32768 empty messages', () => run(inst, [releasesAll(stream)]));
    expect(out.verdicts).toEqual([Verdict.DROP]);
    expect(out.alerts.map((a) => a.sigId)).toEqual(Array(16).fill(1002010));
    expect(out.events).toEqual([]);
  });
});

describe('dns_guard: a resent dropped segment is judged again', () => {
  it('the resend of a segment with a blocklisted query is dropped too', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const stream = tcpFramed(query('good.example', 1), query('evil.example', 2));
    const out = run(inst, [oneSegment(stream), resend(stream, 0), resend(stream, 0)]);
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.DROP, Verdict.DROP]);
    expect(blockedNames(out.alerts)).toEqual(['evil.example', 'evil.example', 'evil.example']);
  });

  it('a dropped segment that began inside a message: the resend judges that whole message again', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const good = query('good.example', 1);
    const stream = tcpFramed(good, query('evil.example', 2));
    const cut = good.length + 2 + 7; // the first segment ends inside evil.example's message
    const out = run(inst, [
      oneSegment(stream.subarray(0, cut)),
      segmentOf(stream, stream.subarray(cut)),
      resend(stream, cut),
    ]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.DROP, Verdict.DROP]);
    expect(out.alerts.map((a) => a.index)).toEqual([1, 2]);
  });

  it('the resend is judged on its own bytes, which the receiver takes', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const dropped = tcpFramed(query('evil.example', 1));
    const resent = tcpFramed(query('nice.example', 1));
    const out = run(inst, [oneSegment(dropped), oneSegment(resent)]);
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.CONTINUE]);
    expect(out.events.map((e) => e.data.rrname)).toEqual(['evil.example', 'nice.example']);
  });
});

describe('dns_guard: queries past the host\'s stream depth', () => {
  const gap = { flags: MetaFlag.STREAM_GAP };
  const queries = pipelined(3, 0);
  // Past the depth the host shows no more stream bytes: the packets carry payload, no stream.
  const pastDepth = (direction: 0 | 1 = 0) => {
    const ports = direction === 0 ? { srcPort: 40000, dstPort: 53 } : { srcPort: 53, dstPort: 40000 };
    return item(packet({ proto: 'tcp', ...ports, payload: query('unseen.example') }), { flowId: 1, direction, ...gap });
  };
  const ack = () => item(packet({ proto: 'tcp', dstPort: 53 }), { flowId: 1, ...gap });

  it('are alerted once (sid 1002006) and get depth_action, alert by default', async () => {
    const inst = await instance('dns_guard', CONFIG);
    const out = run(inst, [oneSegment(queries), ack(), pastDepth(), pastDepth()]);
    expect(out.verdicts).toEqual(Array(4).fill(Verdict.CONTINUE));
    expect(out.alerts.map((a) => [a.index, a.sigId, a.severity])).toEqual([[2, 1002006, 2]]);
    expect(out.alerts[0]!.metadata).toEqual({ inspected_bytes: queries.length, action: 'alert' });
  });

  it('depth_action block_flow ends the flow from the packet that reaches the depth; acks and answers are left alone', async () => {
    const inst = await instance('dns_guard', { ...CONFIG, depth_action: 'block_flow' });
    const cut = queries.length - 30; // the last segment before the depth ends the third query
    const out = run(inst, [
      oneSegment(queries.subarray(0, cut)), ack(), segmentOf(queries, queries.subarray(cut), gap), pastDepth(1), pastDepth(),
    ]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[2, 1002006]]);
  });

  it('depth_action takes the action names; others are refused', async () => {
    await expect(instance('dns_guard', { depth_action: 'explode' })).rejects.toThrow(/depth_action must be one of "alert", "drop"/);
  });
});
