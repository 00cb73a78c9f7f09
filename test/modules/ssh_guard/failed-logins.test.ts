// Failed logins told apart without decryption (max_failed_logins, sid
// 1004008). The sessions below copy, segment by segment, the sizes of real
// OpenSSH 9.2 sessions (chacha20-poly1305) recorded against sshd: a password
// refused six times until "Too many authentication failures", `ssh host
// true` with a key, an interactive shell and a 12 KB `cat`. The server's
// SERVICE_ACCEPT is 44 bytes, each USERAUTH_FAILURE 52, USERAUTH_SUCCESS 28.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const FLOW_START = 0x02;
const T0 = 1_700_000_000;
const SERVER = '198.18.0.22';
const enc = (s: string) => new TextEncoder().encode(s);

/** A cleartext binary packet (RFC 4253 6): length, padding length 4, message number, body, padding. */
function clear(msg: number, body: number): Uint8Array {
  const len = 1 + 1 + body + 4;
  const p = new Uint8Array(4 + len);
  new DataView(p.buffer).setUint32(0, len);
  p[4] = 4;
  p[5] = msg;
  return p;
}
const concat = (...parts: Uint8Array[]) => { const o = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let i = 0; for (const p of parts) { o.set(p, i); i += p.length; } return o; };
/** Ciphertext stands in as filler: only its length is ever looked at. */
const sealed = (n: number) => new Uint8Array(n).fill(0xa5);

type Seg = ['C' | 'S', number];
// Banners, KEXINITs, ECDH init / reply with the server's NEWKEYS and EXT_INFO in one segment, then the client's NEWKEYS.
const KEX: ['C' | 'S', Uint8Array][] = [
  ['C', enc('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')],
  ['S', enc('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')],
  ['C', clear(20, 1550)],
  ['S', clear(20, 1078)],
  ['C', clear(30, 1198)],
  ['S', concat(clear(31, 1230), clear(21, 0), sealed(308))],
  ['C', clear(21, 0)],
];
const failedPasswords = (tries: number): Seg[] => [
  ['C', 44], ['S', 44], ['C', 60], ['S', 52],
  ...Array.from({ length: tries - 1 }, () => [['C', 148], ['S', 52]] as Seg[]).flat(),
  ['C', 148], ['S', 76],
];
const loggedInTrue: Seg[] = [['C', 44], ['S', 44], ['C', 60], ['S', 52], ['C', 140], ['S', 100], ['C', 308], ['S', 28], ['C', 112], ['S', 248], ['S', 176], ['C', 52], ['S', 72], ['C', 36], ['S', 124], ['C', 36], ['C', 60]];
const loggedInCat: Seg[] = [...loggedInTrue.slice(0, 13), ['S', 12852], ...loggedInTrue.slice(13)];
const shell: Seg[] = [...loggedInTrue.slice(0, 11), ...Array.from({ length: 60 }, (_, i) => [i % 2 ? 'S' : 'C', 36 + (i % 7) * 8] as Seg)];

interface Session { items: InspectItem[]; at: Record<string, number> }

/**
 * One connection from `src` at second `t`: its SYN, the key exchange (or
 * only `kexParts` of it), the encrypted segments, and a FIN from `closer`
 * (none when null). `at.success` is the index of the server's 28-byte segment.
 */
function session(src: string, flowId: number, t: number, segs: Seg[], closer: 'C' | 'S' | null = 'C', kexParts = KEX.length): Session {
  const sport = 30000 + (flowId % 30000);
  const streams = { C: new Uint8Array(0), S: new Uint8Array(0) };
  const at: Record<string, number> = {};
  let step = 0;
  const ts = (): [number, number] => { const x = t + 0.01 * step++; return [T0 + Math.floor(x), Math.round((x % 1) * 1e9)]; };
  const seg = (dir: 'C' | 'S', data: Uint8Array, flags = TcpFlag.ACK | TcpFlag.PSH, extra = 0): InspectItem => {
    const p = dir === 'C'
      ? packet({ src, dst: SERVER, srcPort: sport, dstPort: 22, tcpFlags: flags, payload: data }, ts())
      : packet({ src: SERVER, dst: src, srcPort: 22, dstPort: sport, tcpFlags: flags, payload: data }, ts());
    if (data.length > 0) streams[dir] = concat(streams[dir], data);
    return item(p, { flowId, direction: dir === 'C' ? 0 : 1, flags: extra, ...(data.length > 0 ? { stream: streams[dir], streamNew: data.length } : {}) });
  };
  const items = [seg('C', new Uint8Array(0), TcpFlag.SYN, FLOW_START)];
  for (const [dir, data] of KEX.slice(0, kexParts)) items.push(seg(dir, data));
  for (const [dir, n] of segs) {
    if (dir === 'S' && n === 28) at.success = items.length;
    items.push(seg(dir, sealed(n)));
  }
  if (closer) { at.fin = items.length; items.push(seg(closer, new Uint8Array(0), TcpFlag.FIN | TcpFlag.ACK)); }
  return { items, at };
}

const failedAlerts = (out: ReturnType<typeof run>) => out.alerts.filter((a) => a.sigId === 1004008);

describe('ssh_guard failed logins', () => {
  it('a failed login every 40 s, under both connection windows, is caught: the 22nd connection is blocked', async () => {
    const inst = await instance('ssh_guard', { max_failed_logins: 20 });
    const first = session('198.18.9.1', 1, 0, failedPasswords(6));
    const out1 = run(inst, first.items);
    // followed through authentication, let go once it closed
    expect(out1.verdicts.slice(2, -1).every((v) => v === Verdict.CONTINUE)).toBe(true);
    expect(out1.verdicts.at(-1)).toBe(Verdict.ALLOW_FLOW);
    const rest = Array.from({ length: 20 }, (_, i) => session('198.18.9.1', 2 + i, 40 * (i + 1), failedPasswords(6)).items).flat();
    expect(run(inst, rest).alerts).toEqual([]);
    const last = run(inst, session('198.18.9.1', 22, 40 * 21, failedPasswords(6)).items);
    expect(last.verdicts[0]).toBe(Verdict.BLOCK_SRC);
    expect(last.args[0]).toBe(600);
    expect(last.alerts.map((a) => [a.index, a.sigId, a.severity])).toEqual([[0, 1004008, 1]]);
    expect(last.alerts[0]!.metadata).toEqual({ failed_logins: 21, window_s: 1800, action: 'block_src', block_ttl: 600 });
  });

  it('logged-in sessions never count, however many: 60 `ssh host true` a minute apart, shells and transfers', async () => {
    const inst = await instance('ssh_guard', { max_failed_logins: 3 });
    const kinds = [loggedInTrue, loggedInCat, shell];
    const sessions = Array.from({ length: 60 }, (_, i) => session('198.18.9.2', 100 + i, 60 * i, i % 10 === 0 ? kinds[1 + (i / 10) % 2]! : kinds[0]!, i % 2 ? 'S' : 'C'));
    const out = run(inst, sessions.flatMap((s) => s.items));
    expect(out.alerts).toEqual([]);
    // each is let go at the server's USERAUTH_SUCCESS: its shell or transfer is not followed
    const s = session('198.18.9.2', 200, 3700, shell);
    const first = run(inst, s.items.slice(0, s.at.success! + 1));
    expect(first.verdicts.slice(2, s.at.success!).every((v) => v === Verdict.CONTINUE)).toBe(true);
    expect(first.verdicts[s.at.success!]).toBe(Verdict.ALLOW_FLOW);
  });

  it('connections that end before authentication (banner grabs, a key exchange cut short) do not count', async () => {
    const inst = await instance('ssh_guard', { max_failed_logins: 3 });
    const grabs = Array.from({ length: 5 }, (_, i) => session('198.18.9.3', 300 + i, 10 * i, [], 'S', 2).items).flat();
    const cut = Array.from({ length: 5 }, (_, i) => session('198.18.9.3', 400 + i, 60 + 10 * i, [], 'C', 5).items).flat();
    const out = run(inst, [...grabs, ...cut, ...session('198.18.9.3', 500, 200, []).items.slice(0, 1)]);
    expect(failedAlerts(out)).toEqual([]);
  });

  it('a failed session whose close the module never sees counts when the host ends the flow', async () => {
    const inst = await instance('ssh_guard', { max_failed_logins: 2 });
    for (let i = 0; i < 3; i++) {
      run(inst, session('198.18.9.4', 600 + i, 30 * i, failedPasswords(3), null).items);
      inst.flowEnded(600 + i);
    }
    const out = run(inst, session('198.18.9.4', 700, 100, []).items.slice(0, 1));
    expect(out.alerts.map((a) => [a.sigId, a.metadata?.failed_logins])).toEqual([[1004008, 3]]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_SRC]);
  });

  it('failed_login_action alert and failed_login_window_s: every connection alerts while over, none once the window has passed', async () => {
    const inst = await instance('ssh_guard', { max_failed_logins: 2, failed_login_window_s: 600, failed_login_action: 'alert' });
    const fails = [0, 10, 20].flatMap((t, i) => session('198.18.9.5', 800 + i, t, failedPasswords(2)).items);
    run(inst, fails);
    const over = run(inst, [30, 40].map((t, i) => session('198.18.9.5', 900 + i, t, []).items[0]!));
    expect(over.alerts.map((a) => [a.index, a.sigId, a.metadata?.action])).toEqual([[0, 1004008, 'alert'], [1, 1004008, 'alert']]);
    expect(over.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE]);
    const later = run(inst, [session('198.18.9.5', 950, 700, []).items[0]!]);
    expect(later.alerts).toEqual([]);
  });

  it('off by default: the flow is let go right after both banners, as before', async () => {
    const inst = await instance('ssh_guard');
    const s = session('198.18.9.6', 1000, 0, failedPasswords(6));
    const out = run(inst, s.items.slice(0, 3));
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('refuses bad failed-login config naming the field', async () => {
    await expect(instance('ssh_guard', { max_failed_logins: -1 })).rejects.toThrow(/max_failed_logins must be an integer/);
    await expect(instance('ssh_guard', { failed_login_window_s: 5 })).rejects.toThrow(/failed_login_window_s must be an integer 60..604800/);
    await expect(instance('ssh_guard', { failed_login_action: 'ban' })).rejects.toThrow(/failed_login_action must be one of/);
  });
});
