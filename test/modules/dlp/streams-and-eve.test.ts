import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun, tcpSession, tempDir, writePcap } from './support.js';
import { withLuhn } from './luhn.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const CARD = withLuhn('542523343010990'); // a mastercard-range number
const JWT = `${Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url')}.${Buffer.from('{"sub":"42","admin":true}').toString('base64url')}.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtbm90LXJlYWw`;
const BODY = `{"card":"${CARD}","token":"${JWT}","ssn":"219-09-9999"}`;
const REQUEST = `POST /checkout HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;

/** The request cut at the given offsets. */
function segments(cuts: number[]): string[] {
  const b = [0, ...cuts, REQUEST.length];
  return b.slice(1).map((end, i) => REQUEST.slice(b[i], end));
}

describe('dlp on TCP streams', () => {
  it('finds tokens split across segments once, on the segment that completes them, at stream offsets', async () => {
    const cardAt = REQUEST.indexOf(CARD);
    const jwtAt = REQUEST.indexOf(JWT);
    const ssnAt = REQUEST.indexOf('219-09-9999');
    const cuts = [cardAt + 7, jwtAt + 30, jwtAt + 100, ssnAt + 4];
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: segments(cuts) });
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    const a = alertsOf(decisions, 'dlp');
    expect(a.map((x) => [x.sigId, x.metadata!.offset, x.metadata!.in_stream])).toEqual([[1005001, cardAt, true], [1005006, jwtAt, true], [1005002, ssnAt, true]]);
    // each alert sits on the data segment whose bytes completed the token: segments are frames 3, 5, 7, 9, 11
    const dataFrames = decisions.filter((d) => d.direction === 0 && d.pkt.payloadLength > 0).map((d) => d.index);
    expect(a.map((x) => dataFrames.indexOf(x.frame))).toEqual([1, 3, 4]);
  });

  it('the same stream in one segment and in 3-byte segments gives the same alerts', async () => {
    const whole = await engineRun(tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: [REQUEST] }), [{ name: 'dlp' }]);
    const bytes = await engineRun(tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: REQUEST.match(/[^]{1,3}/g)! }), [{ name: 'dlp' }]);
    // (the engine hands a module at most 512 packets of a flow: 3-byte segments stay under that)
    const key = (r: typeof whole) => alertsOf(r.decisions, 'dlp').map((x) => [x.sigId, x.metadata!.offset, x.metadata!.redacted]).sort((a, b) => (a[1] as number) - (b[1] as number));
    expect(key(whole).length).toBe(3);
    expect(key(bytes)).toEqual(key(whole));
  });

  it('a number at the very end of a stream is judged once the other side answers, or the sender closes', async () => {
    const req = `POST /pay HTTP/1.1\r\nContent-Length: 21\r\n\r\ncard=${CARD}`;
    const answered = await engineRun(tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: [req], toClient: ['HTTP/1.1 200 OK\r\n\r\n'] }), [{ name: 'dlp' }]);
    const a = alertsOf(answered.decisions, 'dlp');
    expect(a.map((x) => [x.sigId, x.metadata!.offset, x.metadata!.direction])).toEqual([[1005001, req.indexOf(CARD), 'to_server']]);
    const on = answered.decisions[a[0]!.frame]!;
    expect([on.direction, on.pkt.payloadLength > 0]).toEqual([1, true]);
    const closed = await engineRun(tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: [req] }), [{ name: 'dlp' }]);
    const b = alertsOf(closed.decisions, 'dlp');
    expect(b.map((x) => x.sigId)).toEqual([1005001]);
    expect(closed.decisions[b[0]!.frame]!.pkt.tcpFlags & 0x01).toBe(1);
  });

  it('action block_flow drops the rest of the flow in both directions', async () => {
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: segments([REQUEST.indexOf(CARD) + 20]), toClient: ['HTTP/1.1 200 OK\r\n\r\n'] });
    const { decisions } = await engineRun(frames, [{ name: 'dlp', config: { action: 'block_flow', detect: ['credit_card'] } }]);
    const hit = decisions.find((d) => d.modules[0]?.alerts.length)!;
    expect(hit.modules[0]!.verdict).toBe(Verdict.BLOCK_FLOW);
    expect(decisions.filter((d) => d.index >= hit.index).every((d) => d.dropped)).toBe(true);
    expect(decisions.filter((d) => d.index < hit.index).some((d) => d.dropped)).toBe(false);
  });
});

describe('dlp through the built CLI', () => {
  it('inspect --pcap --module dlp --eve -: alerts with redacted matches, and no secret anywhere in the output', () => {
    const cli = join(import.meta.dirname, '..', '..', '..', 'dist', 'secuxflow.js');
    expect(existsSync(cli), 'dist/secuxflow.js: run npm run build').toBe(true);
    const dir = tempDir('dlp-eve');
    const pcap = join(dir, 'checkout.pcap');
    writePcap(pcap, tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: segments([REQUEST.indexOf(JWT) + 50]) }));
    const r = spawnSync(process.execPath, [cli, 'inspect', '--pcap', pcap, '--module', 'dlp', '--eve', '-', '--no-progress'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const eve = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const alerts = eve.filter((e) => e.event_type === 'alert');
    expect(alerts.map((e) => e.alert.signature_id).sort()).toEqual([1005001, 1005002, 1005006]);
    expect(alerts[0]!.alert.metadata ?? alerts[0]!.metadata).toBeDefined();
    expect(alerts.every((e) => e.src_ip === '198.18.0.1' && e.dest_port === 80)).toBe(true);
    const everything = r.stdout + r.stderr;
    for (const secret of [CARD, JWT, JWT.split('.')[1]!, JWT.split('.')[2]!, '219-09-9999', '219099999']) expect(everything).not.toContain(secret);
    expect(everything).toContain(CARD.slice(-4));
  });
});
