// Every question of a DNS query is checked, not only the first: a server or
// forwarder that takes QDCOUNT > 1 answers each (most refuse it, RFC 9619),
// so a listed name can sit behind a harmless first one. Read up to 16
// questions a message, over UDP and TCP; a count larger than the questions
// present is read as far as they go.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession } from '../dlp/support.js';
import { dnsQuery } from './wire.js';
import { overTcp } from './streams.js';
import { dnsQueryQuestions } from './retry-wire.js';

const LIST = 'evil.example\n';

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

const udp = (payload: Uint8Array) => packet({ proto: 'udp', src: '198.18.0.1', dst: '198.18.0.53', srcPort: 53000, dstPort: 53, payload });

/** Each query on its own UDP flow through one instance: the verdicts and the names alerted on, by query. */
async function queries(list: Uint8Array[]) {
  const inst = await instance('threat_intel', LIST);
  const r = run(inst, list.map((q, i) => item(udp(q), { flowId: i + 1 })));
  return { verdicts: r.verdicts, found: r.alerts.map((a) => [a.index, a.sigId, a.metadata!.seen_in, a.metadata!.name]) };
}

const goods = (n: number) => Array.from({ length: n }, (_, i) => `q${i}.good.example`);

describe('a listed name in a later question', () => {
  it('over UDP: second, or sixteenth, question; written out or ending in a compression pointer into the first', async () => {
    // the first name "www.good.example" starts at 12 (after the header): "example" at 21
    const c2EvilThenPointer = [2, 0x63, 0x32, 4, 0x65, 0x76, 0x69, 0x6c, 0xc0, 21];
    const { verdicts, found } = await queries([
      dnsQueryQuestions(['www.good.example', 'c2.evil.example']),
      dnsQueryQuestions([...goods(15), 'c2.evil.example']),
      dnsQueryQuestions(['www.good.example', c2EvilThenPointer]),
      dnsQueryQuestions(['www.good.example', 'a.good.example', 'b.good.example']),
    ]);
    expect(found).toEqual([
      [0, 1008003, 'dns', 'c2.evil.example'],
      [1, 1008003, 'dns', 'c2.evil.example'],
      [2, 1008003, 'dns', 'c2.evil.example'],
    ]);
    expect(verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.CONTINUE]);
  });

  it('over TCP, in the second message of the connection as well', async () => {
    const frames = tcpSession({
      client: '198.18.0.1', server: '198.18.0.53', serverPort: 53,
      toServer: [overTcp(dnsQuery('www.good.example', 1)), overTcp(dnsQueryQuestions(['a.good.example', 'beacon.evil.example'], 2, 2))],
    });
    const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config: LIST }]);
    expect(alertsOf(decisions, 'threat_intel').map((a) => [a.sigId, a.metadata!.name])).toEqual([[1008003, 'beacon.evil.example']]);
  });
});

describe('bounds and malformed counts', () => {
  it('questions past the sixteenth are not read', async () => {
    const { found } = await queries([dnsQueryQuestions([...goods(16), 'c2.evil.example'])]);
    expect(found).toEqual([]);
  });

  it('a QDCOUNT larger than the questions present: those present are read, nothing is read past the message', async () => {
    const { verdicts, found } = await queries([
      dnsQueryQuestions(['www.good.example', 'c2.evil.example'], 5),
      dnsQueryQuestions(['www.good.example', 'a.good.example'], 65535),
      dnsQueryQuestions(['www.good.example'], 16).subarray(0, 20),
      // the second question's type and class cut off: its name is still read
      dnsQueryQuestions(['www.good.example', 'c2.evil.example'], 2).subarray(0, 12 + 22 + 17),
    ]);
    expect(found).toEqual([
      [0, 1008003, 'dns', 'c2.evil.example'],
      [3, 1008003, 'dns', 'c2.evil.example'],
    ]);
    expect(verdicts[1]).toBe(Verdict.CONTINUE);
    expect(verdicts[2]).toBe(Verdict.CONTINUE);
  });

  it('a first name that cannot be read (over 253 bytes) does not hide the next', async () => {
    const long = Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.') + '.good.example';
    const { found } = await queries([dnsQueryQuestions([long, 'c2.evil.example'])]);
    expect(found).toEqual([[0, 1008003, 'dns', 'c2.evil.example']]);
  });
});
