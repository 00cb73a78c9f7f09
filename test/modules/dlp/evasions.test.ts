// Evasions of the dlp module found by an audit (DLP-1..DLP-8): values the
// receiving application gets whole (after its JSON, form or XML decoding,
// or a TCP resend) while the module stayed quiet.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, engineRun, enc, instance, run } from './support.js';
import { AWS_ID, AWS_SECRET, CARD, JWT, SSN, clientSegmentsAfterHandshake } from './codings-support.js';
import { compareCost } from '../cost.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);


const udp = (payload: string, flowId = 1) => item(packet({ proto: 'udp', dstPort: 514, payload }), { flowId });

async function sigsOf(text: string, config?: unknown): Promise<number[]> {
  const inst = await instance('dlp', config);
  return run(inst, [udp(text)]).alerts.map((a) => a.sigId);
}

function post(body: string): string {
  return `POST /upload HTTP/1.1\r\nHost: app.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

describe('DLP-1: with action drop, a resend of the dropped bytes is dropped too', () => {
  /** A packet of flow 1 whose new stream bytes are `stream` from `from` on. */
  const segment = (stream: Uint8Array, from: number): InspectItem =>
    item(packet({ proto: 'tcp', dstPort: 80, payload: stream.subarray(from) }), { flowId: 1, stream, streamNew: stream.length - from });

  it('the host shows the dropped bytes again (docs/abi/v1.md section 4): same verdict each time', async () => {
    const inst = await instance('dlp', { action: 'drop' });
    const stream = enc(post(`card=${CARD}&x=1`));
    const out = run(inst, [segment(stream, 0), segment(stream, 0), segment(stream, 0)]);
    expect(out.verdicts).toEqual([Verdict.DROP, Verdict.DROP, Verdict.DROP]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 1005001], [1, 1005001], [2, 1005001]]);
  });

  it('a dropped segment that began inside the value: the resend judges the whole value again', async () => {
    const inst = await instance('dlp', { action: 'drop' });
    const req = post(`card=${CARD}&x=1`);
    const stream = enc(req);
    const cut = req.indexOf(CARD) + 6;
    const out = run(inst, [segment(stream.subarray(0, cut), 0), segment(stream, cut), segment(stream, cut)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.DROP, Verdict.DROP]);
  });

  it('a resend whose bytes differ is judged on its own bytes', async () => {
    const inst = await instance('dlp', { action: 'drop' });
    const head = 'note: ok ';
    const dropped = enc(`${head}card=${CARD}&x=1`);
    const resent = enc(`${head}card=nothing-here`);
    const out = run(inst, [segment(enc(head), 0), segment(dropped, head.length), segment(resent, head.length)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.DROP, Verdict.CONTINUE]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[1, 1005001]]);
  });

  it('through the engine: every retransmission of the segment carrying a card is dropped', async () => {
    const req = post(`card=${CARD}&x=1`);
    const frames = clientSegmentsAfterHandshake([[0, req, 0.003], [0, req, 0.2], [0, req, 0.6]]);
    const { decisions } = await engineRun(frames, [{ name: 'dlp', config: { action: 'drop' } }]);
    const data = decisions.filter((d) => d.pkt.payloadLength > 0);
    expect(data.map((d) => d.dropped)).toEqual([true, true, true]);
  });
});

describe('DLP-2: a value right after an escaped or percent-encoded delimiter', () => {
  it.each([
    ['JSON \\n before a card', JSON.stringify({ note: `cards:\n${CARD}\n` }), [1005001]],
    ['JSON \\n before an SSN', JSON.stringify({ note: `ssn list\n${SSN}\n` }), [1005002]],
    ['JSON \\t before a card', JSON.stringify({ note: `a\t${CARD}` }), [1005001]],
    ['a credentials CSV inside a JSON string', JSON.stringify({ content: `User,Access key ID,Secret access key\n${AWS_ID},${AWS_SECRET}\n` }), [1005003, 1005004]],
    ['JSON \\n before a JWT', JSON.stringify({ log: `token\n${JWT}` }), [1005006]],
    ['URL-encoded JSON, card', 'data=' + encodeURIComponent(JSON.stringify({ card: CARD })), [1005001]],
    ['URL-encoded JSON, card after %3A', `data=%7B%22card%22%3A${CARD}%7D`, [1005001]],
    ['URL-encoded JSON, SSN', 'data=' + encodeURIComponent(JSON.stringify({ ssn: SSN })), [1005002]],
    ['URL-encoded JSON, key id', 'data=' + encodeURIComponent(JSON.stringify({ id: AWS_ID })), [1005003]],
    ['URL-encoded JSON, JWT', 'data=' + encodeURIComponent(JSON.stringify({ t: JWT })), [1005006]],
  ])('%s', async (_, text, sigs) => {
    expect(await sigsOf(text)).toEqual(sigs);
  });

  it('digits and ids inside longer words stay quiet, escaped or not', async () => {
    expect(await sigsOf(`id${CARD} x%2${CARD} \\nx${CARD} ab${SSN} %ZZ${CARD}1 X${AWS_ID} %41${AWS_ID}Z`)).toEqual([]);
  });
});

describe('DLP-3: form-encoded spaces between card digit groups', () => {
  it.each([
    ['+', `card=4111+1111+1111+1111&x=1`],
    ['%20', `card=4111%201111%201111%201111&x=1`],
  ])('groups joined by %s are a card', async (_, text) => {
    expect(await sigsOf(text)).toEqual([1005001]);
  });

  it('sums and encoded text that are not cards stay quiet', async () => {
    expect(await sigsOf('q=1+2+3&total=4111+1111+1111+1112&n=12%2034%2056')).toEqual([]);
  });
});

describe('DLP-4: an AWS secret key after its label in XML, nested JSON, Ruby and PHP-escaped JSON', () => {
  it.each([
    ['XML', `<CreateAccessKeyResult><AccessKey><SecretAccessKey>${AWS_SECRET}</SecretAccessKey></AccessKey></CreateAccessKeyResult>`],
    ['JSON inside a JSON string', JSON.stringify({ body: JSON.stringify({ aws_secret_access_key: AWS_SECRET }) })],
    ['a Ruby hash', `{ 'aws_secret_access_key' => '${AWS_SECRET}' }`],
    ['PHP json_encode with \\/', `{"SecretAccessKey":"${AWS_SECRET.replace(/\//g, '\\/')}"}`],
  ])('%s', async (_, text) => {
    expect(await sigsOf(text)).toEqual([1005004]);
  });

  it('the label with something else after it stays quiet', async () => {
    expect(await sigsOf(`<SecretAccessKey></SecretAccessKey>\n<SecretAccessKey>short\\/value</SecretAccessKey> secret_access_key => ${'a'.repeat(41)}`)).toEqual([]);
  });
});

describe('DLP-6: PGP private key blocks and form-encoded PEM headers', () => {
  it('a GnuPG secret key export', async () => {
    expect(await sigsOf('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF...\n-----END PGP PRIVATE KEY BLOCK-----\n')).toEqual([1005005]);
  });

  it('a PEM key pasted in a form, + or %20 for its spaces', async () => {
    const inst = await instance('dlp');
    const r = run(inst, [udp('key=-----BEGIN+RSA+PRIVATE+KEY-----%0AMIIEow'), udp('k=-----BEGIN%20EC%20PRIVATE%20KEY-----%0AMHc', 2)]);
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.kind])).toEqual([[1005005, 'RSA PRIVATE KEY'], [1005005, 'EC PRIVATE KEY']]);
  });

  it('public PGP blocks and certificates stay quiet', async () => {
    expect(await sigsOf('-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----BEGIN+CERTIFICATE-----\n-----BEGIN PGP SIGNATURE-----')).toEqual([]);
  });
});

describe('DLP-7: dense trigger strings leave no bytes unscanned', () => {
  it('a key id after 300 anchors in one datagram', async () => {
    expect(await sigsOf(`${'Asia/Tokyo,'.repeat(300)} ${AWS_ID} ${'asia'.repeat(100)}`)).toEqual([1005003]);
  });

  it.each([0, 4, 5, 6, 7])('a key id between 24 KB of "asia" each side, in 1448-byte segments (k=%i)', async (k) => {
    const body = `pad=${'asia'.repeat(6000 + 25 * k)} ${AWS_ID} ${'asia'.repeat(6000)}`;
    const stream = enc(post(body));
    const items: InspectItem[] = [];
    for (let at = 0; at < stream.length; at += 1448) {
      const upTo = Math.min(stream.length, at + 1448);
      items.push(item(packet({ proto: 'tcp', dstPort: 80, payload: stream.subarray(at, upTo) }), { flowId: 1, stream: stream.subarray(0, upTo), streamNew: upTo - at }));
    }
    const inst = await instance('dlp', { inspect_depth: 16777216 });
    expect(run(inst, items).alerts.map((a) => a.sigId)).toEqual([1005003]);
  });
});

describe('DLP-7: dense anchors cost work in proportion to the bytes', () => {
  it('a datagram of back-to-back labels and key-id prefixes costs about what plain text of its size does', async () => {
    const inst = await instance('dlp', { max_alerts_per_flow: 1 });
    const size = 8000;
    const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    const dense = [fill('secret_access_key'), fill('aws_secret_access_key_'), fill('AKIA'), fill('-----BEGIN+')];
    const plain = fill('the quick brown fox jumps over the lazy dog ');
    let flow = 0;
    const round = (texts: string[]) => () => texts.map((t) => udp(t, ++flow));
    const c = compareCost(inst, round(dense.map(() => plain)), round(dense), 5);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(8);
  }, 120_000);
});

describe('DLP-8: decoys do not hide a more severe finding, nor lift the action', () => {
  it('33 SSNs then a private key header in one datagram: the key is reported', async () => {
    const ssns = Array.from({ length: 33 }, (_, i) => `219-09-${String(1000 + i)}`).join('\n');
    const sigs = await sigsOf(`${ssns}\n-----BEGIN RSA PRIVATE KEY-----\nMIIE`, { max_alerts_per_flow: 10000 });
    expect(sigs).toContain(1005005);
    expect(sigs.length).toBe(32);
  });

  it('past max_alerts_per_flow a finding is not logged, but action drop still drops it', async () => {
    const inst = await instance('dlp', { action: 'drop', max_alerts_per_flow: 1 });
    const r = run(inst, [udp(`a ${SSN}`), udp(`b ${CARD}`), udp('c nothing')]);
    expect(r.verdicts).toEqual([Verdict.DROP, Verdict.DROP, Verdict.CONTINUE]);
    expect(r.alerts.length).toBe(1);
  });
});
