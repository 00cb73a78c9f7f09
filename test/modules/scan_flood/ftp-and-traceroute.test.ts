// The two ordinary clients the README named as looking like scans: an FTP
// client fetching many files (a new data port per file) and Linux
// traceroute (UDP to 33434 and up, TTL raised hop by hop). Each exemption is
// narrow; the same packets without their marks still count.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun, frame } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

const CLIENT = '198.18.40.5';
const SERVER = '198.18.40.2';
const SYN = 0x02, PSH = 0x08, ACK = 0x10;

type Decisions = Awaited<ReturnType<typeof engineRun>>['decisions'];

function blocksOf(decisions: Decisions) {
  return decisions.filter((d) => d.modules.some((m) => m.module === 'scan_flood' && m.verdict === Verdict.BLOCK_SRC));
}

interface FtpRun {
  mode: 'passive 227' | 'passive 229' | 'active PORT' | 'active EPRT';
  files: number;
  /** What the control connection says for each file; `announce: false` sends a NOOP and a 200 instead of the port. */
  announce?: boolean;
  /** Offset added to the port the data connection really goes to. */
  portSkew?: number;
}

/** An FTP session: a control connection (port 21) with sequence numbers, and one data connection per file, 0.2 s apart. */
function ftpSession(r: FtpRun): RawFrame[] {
  const out: RawFrame[] = [];
  let t = 0;
  let cseq = 1000, sseq = 9000;
  const ctl = (fromClient: boolean, flags: number, payload?: string) => {
    const len = payload?.length ?? 0;
    out.push(frame(fromClient
      ? { src: CLIENT, dst: SERVER, proto: 'tcp', srcPort: 45000, dstPort: 21, tcpFlags: flags, seq: cseq, ack: sseq, ...(payload ? { payload } : {}) }
      : { src: SERVER, dst: CLIENT, proto: 'tcp', srcPort: 21, dstPort: 45000, tcpFlags: flags, seq: sseq, ack: cseq, ...(payload ? { payload } : {}) }, t += 0.001));
    if (fromClient) cseq += len + (flags & SYN ? 1 : 0); else sseq += len + (flags & SYN ? 1 : 0);
  };
  ctl(true, SYN); ctl(false, SYN | ACK); ctl(true, ACK);
  ctl(false, ACK | PSH, '220 ready\r\n');
  ctl(true, ACK | PSH, 'USER anonymous\r\n'); ctl(false, ACK | PSH, '230 Login successful.\r\n');
  const active = r.mode.startsWith('active');
  for (let f = 0; f < r.files; f++) {
    t = f * 0.2 + 0.05;
    const port = 40000 + f * 7;
    const [p1, p2] = [port >> 8, port & 255];
    if (r.announce === false) {
      ctl(true, ACK | PSH, 'NOOP\r\n'); ctl(false, ACK | PSH, '200 NOOP ok.\r\n');
    } else if (r.mode === 'passive 227') {
      ctl(true, ACK | PSH, 'PASV\r\n'); ctl(false, ACK | PSH, `227 Entering Passive Mode (198,18,40,2,${p1},${p2}).\r\n`);
    } else if (r.mode === 'passive 229') {
      ctl(true, ACK | PSH, 'EPSV\r\n'); ctl(false, ACK | PSH, `229 Entering Extended Passive Mode (|||${port}|)\r\n`);
    } else if (r.mode === 'active PORT') {
      ctl(true, ACK | PSH, `PORT 198,18,40,5,${p1},${p2}\r\n`); ctl(false, ACK | PSH, '200 PORT command successful.\r\n');
    } else {
      ctl(true, ACK | PSH, `EPRT |1|198.18.40.5|${port}|\r\n`); ctl(false, ACK | PSH, '200 EPRT command successful.\r\n');
    }
    ctl(true, ACK | PSH, `RETR file${f}\r\n`);
    const dport = port + (r.portSkew ?? 0);
    // the data connection: the client connects in passive mode, the server (from port 20) in active mode
    const [a, b, sport] = active ? [SERVER, CLIENT, 20] : [CLIENT, SERVER, 46000 + f];
    out.push(frame({ src: a, dst: b, proto: 'tcp', srcPort: sport, dstPort: dport, tcpFlags: SYN }, t += 0.001));
    out.push(frame({ src: b, dst: a, proto: 'tcp', srcPort: dport, dstPort: sport, tcpFlags: SYN | ACK }, t += 0.001));
    out.push(frame({ src: a, dst: b, proto: 'tcp', srcPort: sport, dstPort: dport, tcpFlags: ACK }, t += 0.001));
    ctl(false, ACK | PSH, '150 Opening data connection.\r\n');
    ctl(false, ACK | PSH, '226 Transfer complete.\r\n');
  }
  return out;
}

describe('FTP data connections', () => {
  it.each([['passive 227'], ['passive 229'], ['active PORT'], ['active EPRT']] as const)(
    'a %s session fetching 40 files in 8 s is not a SYN scan', async (mode) => {
      const { decisions } = await engineRun(ftpSession({ mode, files: 40 }), [{ name: 'scan_flood' }]);
      expect(blocksOf(decisions)).toEqual([]);
      expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
    });

  it('the same data connections without the announcements are a SYN scan', async () => {
    const { decisions } = await engineRun(ftpSession({ mode: 'passive 227', files: 40, announce: false }), [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006001, metadata: { distinct_ports: 20 } });
  });

  it('only the announced port is exempt: SYNs one port off the announced ones are a SYN scan', async () => {
    const { decisions } = await engineRun(ftpSession({ mode: 'passive 227', files: 40, portSkew: 1 }), [{ name: 'scan_flood' }]);
    // port 21 and 19 data ports make 20
    expect(blocksOf(decisions)[0]?.pkt.dstPort).toBe(40000 + 18 * 7 + 1);
  });
});

describe('Linux traceroute', () => {
  /** traceroute's probes: 3 per hop, a new port each from 33434, TTL = hop. */
  const traceroute = (hops: number, ttl: (hop: number) => number) => Array.from({ length: hops * 3 }, (_, i) =>
    frame({ src: CLIENT, dst: '203.0.113.9', proto: 'udp', srcPort: 51000 + i, dstPort: 33434 + i, payload: '@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_', ttl: ttl(1 + Math.floor(i / 3)) }, i * 0.05));

  it('a 20-hop traceroute (60 probes, TTL 1 to 20) is not a UDP scan, over IPv6 too', async () => {
    const v6 = Array.from({ length: 60 }, (_, i) =>
      frame({ src: '2001:db8::5', dst: '2001:db8:9::9', proto: 'udp', srcPort: 51000 + i, dstPort: 33434 + i, payload: 'probe', ttl: 1 + Math.floor(i / 3) }, i * 0.05 + 0.01));
    const { decisions } = await engineRun([...traceroute(20, (h) => h), ...v6].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec), [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('the same probes arriving with a TTL of 64 are a UDP scan, and so is a traceroute with exempt_traceroute false', async () => {
    const high = await engineRun(traceroute(10, () => 64), [{ name: 'scan_flood' }]);
    expect(alertsOf(high.decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006005, metadata: { distinct_ports: 15 } });
    const off = await engineRun(traceroute(10, (h) => h), [{ name: 'scan_flood', config: { exempt_traceroute: false } }]);
    expect(blocksOf(off.decisions)[0]?.pkt.dstPort).toBe(33434 + 14);
  });

  it('low-TTL probes outside 33434-33534 still count', async () => {
    const frames = Array.from({ length: 30 }, (_, i) => frame({ src: CLIENT, dst: SERVER, proto: 'udp', srcPort: 51000, dstPort: 33535 + i, payload: 'x', ttl: 3 }, i * 0.05));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)[0]?.pkt.dstPort).toBe(33535 + 14);
  });
});
