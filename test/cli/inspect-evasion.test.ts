// Ptacek-Newsham style evasions, as pcaps through the real CLI with http_waf:
// the SQL injection must still raise its alert, and where the engine sees an
// evasion sign or a limit it says so in EVE.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../host/capture/writer.js';
import { fragmentIp } from '../../host/packet/build.js';
import { ACK, ATTACK, BENIGN, FIN, PSH, RST, SYN, TCP_CSUM, c2s, corrupt, handshake, s2c } from '../host/engine/evasion-support.js';
import { cli, requireBuilt, tempDir } from './support.js';

const SQLI = 1001001;
const T0 = 1_767_225_600;

beforeAll(() => requireBuilt());

/** Writes the frames (one per millisecond, or at the given seconds) and runs inspect with http_waf. */
function inspect(frames: (Uint8Array | { frame: Uint8Array; t: number })[]) {
  const dir = tempDir('evasion');
  const pcap = join(dir, 'in.pcap');
  const eve = join(dir, 'eve.json');
  const w = new PcapWriter({ path: pcap, nanosecond: true });
  frames.forEach((f, i) => {
    const { frame, t } = f instanceof Uint8Array ? { frame: f, t: i * 0.001 } : f;
    w.write({ data: frame, tsSec: T0 + Math.floor(t), tsNsec: Math.round((t % 1) * 1e9) });
  });
  w.close();
  const r = cli(['inspect', '--pcap', pcap, '--module', 'http_waf', '--eve', eve]);
  expect(r.status, r.stderr).toBe(0);
  const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const alerts = records.filter((x) => x.event_type === 'alert').map((x) => x.alert.signature_id as number);
  const stats = records.find((x) => x.event_type === 'stats')!.stats;
  return { alerts, stats, summary: r.stdout };
}

describe('inspect --pcap against evasions (http_waf)', () => {
  it('an attack split at every byte and shuffled', () => {
    const segs = [...ATTACK].map((ch, i) => c2s(ACK | PSH, 1001 + i, ch));
    for (let i = segs.length - 1; i > 0; i--) { const j = (i * 7919) % (i + 1); [segs[i], segs[j]] = [segs[j]!, segs[i]!]; }
    expect(inspect([...handshake(), ...segs]).alerts).toEqual([SQLI]);
  });

  it('a conflicting retransmission: the first copy is inspected and the conflict is an alert', () => {
    const { alerts, stats, summary } = inspect([...handshake(), c2s(ACK | PSH, 1001, BENIGN), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(alerts).toEqual([2100001]);
    expect(stats.tcp.overlap_diff_data).toBe(1);
    expect(summary).toMatch(/evasion signals +1 TCP segments re-sent held bytes with other data/);
  });

  it('a decoy with a bad TCP checksum ahead of the attack', () => {
    const { alerts, stats } = inspect([...handshake(), corrupt(c2s(ACK | PSH, 1001, BENIGN), TCP_CSUM), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(alerts).toEqual([SQLI]);
    expect(stats.tcp.invalid_checksum).toBe(1);
    expect(stats.decoder.invalid_checksum_refused).toBe(1);
  });

  it('a second SYN with another ISN after the handshake, and SYN data the server did not take', () => {
    expect(inspect([...handshake(), c2s(SYN, 987_654), c2s(ACK | PSH, 1001, ATTACK)]).alerts).toEqual([SQLI]);
    const synData = inspect([c2s(SYN, 1000, BENIGN), s2c(SYN | ACK, 5000, 1001), c2s(ACK, 1001), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(synData.alerts).toEqual([SQLI]);
    expect(synData.stats.tcp.syn_ignored).toBe(1);
  });

  it('a RST with a wrong sequence number, then the rest of the request after a pause', () => {
    const { alerts, stats } = inspect([
      ...handshake().map((frame, i) => ({ frame, t: i * 0.001 })),
      { frame: c2s(ACK | PSH, 1001, ATTACK.slice(0, 20)), t: 1 },
      { frame: s2c(RST | ACK, 5001 + 99_999, 1021), t: 1.1 },
      { frame: c2s(ACK | PSH, 1021, ATTACK.slice(20)), t: 30 },
    ]);
    expect(alerts).toEqual([SQLI]);
    expect(stats.tcp.rst_ignored).toBe(1);
  });

  it('a stray packet from the server side before the SYN', () => {
    expect(inspect([s2c(ACK | FIN, 5001, 1001), ...handshake(), c2s(ACK | PSH, 1001, ATTACK)]).alerts).toEqual([SQLI]);
  });

  it('reversed fragments interleaved with another datagram of the same id, conflicting fragments, and a first fragment that splits the TCP header', () => {
    const attack = fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 4242).reverse();
    const other = fragmentIp(c2s(ACK | PSH, 1001, BENIGN, { src: '198.18.7.9' }), 24, 4242);
    const mixed = attack.flatMap((f, i) => (other[i] ? [f, other[i]!] : [f]));
    expect(inspect([...handshake(), ...mixed]).alerts).toEqual([SQLI]);
    // RFC 1858: a first fragment too short for the TCP header is dropped, so its datagram never completes.
    const tiny = inspect([...handshake(), ...fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 8, 4243)]);
    expect(tiny.stats.stages.invalid).toBe(1);
    expect(tiny.stats.decoder.fragments_incomplete).toBe(8);
    const decoy = fragmentIp(c2s(ACK | PSH, 1001, BENIGN), 24, 77);
    const conflicting = inspect([...handshake(), decoy[1]!, ...fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 77)]);
    expect(conflicting.alerts).toEqual([2100002]);
    expect(conflicting.stats.defrag.overlap_diff_data).toBe(1);
  });

  it('an attack past the stream depth is not inspected, and the summary and http_waf (1001014) say bytes went uninspected', () => {
    const body = 'a='.padEnd(70_000, 'b');
    const first = `POST /upload HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const frames = [...handshake()];
    for (let off = 0; off < first.length; off += 1400) frames.push(c2s(ACK | PSH, 1001 + off, first.slice(off, off + 1400)));
    frames.push(c2s(ACK | PSH, 1001 + first.length, ATTACK));
    const { alerts, stats, summary } = inspect(frames);
    // No detection, but the body past http_waf's body_depth is reported.
    expect(alerts).toEqual([1001014]);
    expect(stats.tcp.bytes_beyond_depth).toBe(first.length + ATTACK.length - 64 * 1024);
    expect(summary).toMatch(/beyond depth +[\d,]+ TCP payload bytes past the stream depth were not inspected/);
  });
});
