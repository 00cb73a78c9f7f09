// AF_XDP intake on a veth with secuxflow's XDP program attached and an
// inspect rule: bind modes, frames arriving byte for byte through receive(),
// the XSKMAP slot filled on open and emptied on close (the punt fallback
// counter moves again), stats, a receive buffer too small for the batch,
// and transmit() putting frames on the wire to the peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { collect, puntCounters, sendFromClient, setupPuntLab, writeFrameFile, type PuntLab } from './xsk-lab.js';
import { openXsk, type XskSocket } from '../../host/kernel/xsk.js';
import { SecuxflowError } from '../../host/errors.js';
import { MapName, SF } from '../../host/kernel/codec.js';
import { runOk } from './lab/run.js';
import { addonPath } from '../../host/kernel/native.js';
import { Worker } from 'node:worker_threads';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const UDP_PORT = 7000;

function mac(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

function ipv4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

/** An Ethernet/IPv4/UDP frame with a valid IP header checksum and `payload`. */
function udpFrame(dstMac: string, srcMac: string, src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  const v = new DataView(f.buffer);
  f.set(mac(dstMac), 0);
  f.set(mac(srcMac), 6);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 20 + 8 + payload.length);
  v.setUint16(18, sport);
  f[22] = 64;
  f[23] = 17;
  f.set(ipv4(src), 26);
  f.set(ipv4(dst), 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(24, ~sum & 0xffff);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  v.setUint16(38, 8 + payload.length);
  f.set(payload, 42);
  return f;
}

/** Frames of a classic pcap file (the records' captured bytes). */
function pcapFrames(path: string): Uint8Array[] {
  const b = readFileSync(path);
  const out: Uint8Array[] = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const len = b.readUInt32LE(at + 8);
    out.push(new Uint8Array(b.subarray(at + 16, at + 16 + len)));
    at += 16 + len;
  }
  return out;
}

describe.skipIf(kernel.skip || labReason !== null).sequential('AF_XDP sockets on a veth with an inspect rule', () => {
  let pl: PuntLab;
  const open: XskSocket[] = [];
  const openSock = (bindMode: 'copy' | 'zerocopy' | 'auto' = 'copy'): XskSocket => {
    const s = openXsk({ ifname: pl.host.ifname, queue: 0, bindMode, xsksMapPin: pl.xsksPin, netns: pl.hostNetns });
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    pl = await setupPuntLab('xr', 40, ['--src', '198.18.40.1/32', '--proto', 'udp']);
  }, 300_000);

  afterAll(async () => {
    for (const s of open) s.close();
    await pl?.lab.cleanup();
    // the lab unmounted its private bpffs; listing it before that is done in the last test
  });

  it('auto on a veth falls back to copy mode and says why', () => {
    const s = openSock('auto');
    expect(s.bindMode).toBe('copy');
    expect(s.fallbackReason).toMatch(/zero-copy bind failed: .*fell back to copy mode/);
    s.close();
  });

  it('zerocopy on a veth is refused with E_XSK, copy reports copy with no fallback', () => {
    let err: unknown;
    try {
      openSock('zerocopy');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_XSK');
    expect((err as SecuxflowError).message).toMatch(/zero-copy/);
    const s = openSock('copy');
    expect(s.bindMode).toBe('copy');
    expect(s.fallbackReason).toBeNull();
    s.close();
  });

  it('with no socket bound the fail-open fallback applies and is counted', async () => {
    const before = puntCounters(pl);
    await sendFromClient(pl, { count: 50, dport: UDP_PORT });
    const after = puntCounters(pl);
    expect(after.fallback - before.fallback).toBe(50);
    expect(after.punt - before.punt).toBe(0);
  });

  it('fills the XSKMAP slot on open: frames from the peer arrive through receive() byte for byte, padding zeroed', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const len = 18 + ((i * 97) % (1472 - 18)); // payload 18..1471: frames 60..1513
      frames.push(udpFrame(pl.hostMac, pl.clientMac, pl.client.addr, pl.host.addr, 20000 + i, UDP_PORT, randomBytes(len)));
    }
    const file = join(pl.work, 'frames.bin');
    writeFrameFile(file, frames);
    const s = openSock('copy');
    const before = puntCounters(pl);
    // The module host may copy frames with the padding between them: it must never hold stale bytes.
    const padding: number[] = [];
    const got = collect(s, frames.length, 8000, 1 << 18, padding);
    const sent = await sendFromClient(pl, { file, rate: 20_000 });
    expect(sent.sent).toBe(frames.length);
    const received = await got;
    expect(padding.length).toBeGreaterThan(0);
    expect(padding.filter((b) => b !== 0)).toEqual([]);
    const after = puntCounters(pl);
    expect(after.punt - before.punt).toBe(frames.length);
    expect(after.fallback - before.fallback).toBe(0);
    expect(received.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(Buffer.from(received[i]!).equals(Buffer.from(frames[i]!)), `frame ${i}`).toBe(true);
    const st = s.stats();
    expect(st.rxPackets).toBe(frames.length);
    expect(st.rxBytes).toBe(frames.reduce((n, f) => n + f.length, 0));
    expect(st.rxDropped + st.rxRingFull + st.fillRingEmpty + st.rxInvalidDescs).toBe(0);
  });

  // The kernel keeps 256 bytes of each 2,048-byte frame; a longer packet it
  // would drop on the socket, counted nowhere of ours. The program gives such
  // a frame the punt fallback instead (docs/live.md).
  it('a frame of SF_PUNT_MAX_FRAME bytes is punted; one byte longer gets the fallback, not a drop on the socket', async () => {
    const mtu = async (n: number): Promise<void> => {
      await runOk(['ip', '-n', pl.client.ns, 'link', 'set', pl.client.ifname, 'mtu', String(n)]);
      await runOk(['ip', '-n', pl.host.ns, 'link', 'set', pl.host.ifname, 'mtu', String(n)]);
    };
    await mtu(1900);
    try {
      const frame = (len: number, sport: number): Uint8Array => udpFrame(pl.hostMac, pl.clientMac, pl.client.addr, pl.host.addr, sport, UDP_PORT, randomBytes(len - 42));
      const fits = frame(SF.PUNT_MAX_FRAME, 21000);
      const file = join(pl.work, 'boundary.bin');
      writeFrameFile(file, [frame(SF.PUNT_MAX_FRAME + 1, 21001), fits]);
      const s = open.at(-1)!;
      const dropped = s.stats().rxDropped;
      const before = puntCounters(pl);
      const got = collect(s, 1, 8000, 1 << 16, []);
      expect((await sendFromClient(pl, { file, rate: 1000 })).sent).toBe(2);
      const received = await got;
      const after = puntCounters(pl);
      expect(after.punt - before.punt).toBe(1);
      expect(after.fallback - before.fallback).toBe(1);
      expect(received.length).toBe(1);
      expect(Buffer.from(received[0]!).equals(Buffer.from(fits))).toBe(true);
      expect(s.stats().rxDropped).toBe(dropped);
    } finally {
      await mtu(1500);
    }
  });

  it('receive() into a buffer too small for the batch stops early and keeps the rest queued', async () => {
    const s = open.at(-1)!;
    const sent = await sendFromClient(pl, { count: 40, size: 1000, dport: UDP_PORT });
    expect(sent.sent).toBe(40);
    expect(await s.wait(3000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // let all 40 land on the RX ring
    const small = new Uint8Array(4 * 1008); // room for 4 frames of 1000 bytes, 8-aligned
    const descs = new Uint32Array(128);
    const n = s.receive(small, descs, 64);
    expect(n).toBe(4);
    expect([descs[0], descs[2], descs[4], descs[6]]).toEqual([0, 1000, 2000, 3000]);
    expect([descs[1], descs[3], descs[5], descs[7]]).toEqual([1000, 1000, 1000, 1000]);
    expect(s.stats().rxDeferred).toBeGreaterThan(0);
    let rest = 0;
    const big = new Uint8Array(1 << 16);
    // Frames still on their way through the veth are waited for, up to 3 s.
    for (const until = Date.now() + 3000; n + rest < 40 && Date.now() < until; await new Promise((r) => setTimeout(r, 20))) rest += s.receive(big, descs, 64);
    expect(n + rest).toBe(40);
    expect(s.receive(big, descs, 64)).toBe(0);
  });

  it('wait() resolves false on an idle socket after its timeout', async () => {
    const s = open.at(-1)!;
    const t0 = Date.now();
    expect(await s.wait(300)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('transmit() sends a whole batch out of the interface in one call: the peer captures every frame intact', async () => {
    const s = open.at(-1)!;
    const count = 100; // more than the kernel sends per copy-mode kick (32)
    const pcap = join(pl.work, 'tx.pcap');
    const dump = await pl.lab.spawn(pl.client.ns, ['sh', '-c', `exec tcpdump -i ${pl.client.ifname} -n -U -c ${count} -w ${pcap} udp port 7001 2>&1`], 'listening on', 10_000);
    const exited = new Promise<void>((r) => dump.once('exit', () => r()));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) frames.push(udpFrame(pl.clientMac, pl.hostMac, pl.host.addr, pl.client.addr, 30000 + i, 7001, randomBytes(100 + i)));
    const buf = new Uint8Array(frames.length * 256);
    const descs = new Uint32Array(frames.length * 2);
    frames.forEach((f, i) => {
      buf.set(f, i * 256);
      descs[2 * i] = i * 256;
      descs[2 * i + 1] = f.length;
    });
    expect(s.transmit(buf, descs, frames.length)).toBe(frames.length);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    const seen = pcapFrames(pcap);
    expect(seen.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(Buffer.from(seen[i]!).equals(Buffer.from(frames[i]!)), `tx frame ${i}`).toBe(true);
    const st = s.stats();
    expect(st.txPackets).toBe(frames.length);
    expect(st.txCompleted).toBe(frames.length);
  });

  it('transmit() refuses a frame longer than the UMEM frame and sends nothing', () => {
    const s = open.at(-1)!;
    const before = s.stats().txPackets;
    const buf = new Uint8Array(4096);
    expect(() => s.transmit(buf, Uint32Array.from([0, 60, 100, 3000]), 2)).toThrow(/frame 1 is 3000 bytes/);
    expect(s.stats().txPackets).toBe(before);
  });

  // Checked, then read again to copy: a length another thread changed in
  // between copied past the buffer and the UMEM frame (SIGSEGV in seconds).
  it('transmit() with descriptors another thread keeps changing: each batch is sent or refused, never read twice', async () => {
    const s = open.at(-1)!;
    const shared = new Uint32Array(new SharedArrayBuffer(8 * 16));
    for (let i = 0; i < 16; i++) { shared[2 * i] = i * 64; shared[2 * i + 1] = 60; }
    const flipper = new Worker(`
      const { workerData } = require('node:worker_threads');
      const d = new Uint32Array(workerData);
      const until = Date.now() + 1500;
      while (Date.now() < until) for (let i = 0; i < 16; i++) d[2 * i + 1] = d[2 * i + 1] === 60 ? 0x7fffffff : 60;
    `, { eval: true, workerData: shared.buffer });
    const done = new Promise((r) => flipper.once('exit', r));
    const buf = new Uint8Array(16 * 64);
    let sent = 0, refused = 0;
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      try { sent += s.transmit(buf, shared, 16); } catch (e) { expect(e).toMatchObject({ code: 'E_USAGE' }); refused++; }
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(sent + refused).toBeGreaterThan(0);
  });

  it('close() empties the slot first: the punt fallback applies again and counts', async () => {
    const s = open.at(-1)!;
    s.close();
    expect(() => s.stats()).toThrow(/closed/);
    const before = puntCounters(pl);
    await sendFromClient(pl, { count: 30, dport: UDP_PORT });
    const after = puntCounters(pl);
    expect(after.fallback - before.fallback).toBe(30);
    expect(after.punt - before.punt).toBe(0);
  });

  it('a second socket can bind the queue again after close', async () => {
    const s = openSock('copy');
    const got = collect(s, 10, 5000);
    await sendFromClient(pl, { count: 10, dport: UDP_PORT });
    expect((await got).length).toBe(10);
    s.close();
  });

  it('busyPoll: preferred busy polling is switched on and frames still arrive', async () => {
    const s = openXsk({ ifname: pl.host.ifname, queue: 0, bindMode: 'copy', busyPoll: true, xsksMapPin: pl.xsksPin, netns: pl.hostNetns });
    open.push(s);
    expect(s.busyPoll).toBe(true);
    const got = collect(s, 10, 5000);
    await sendFromClient(pl, { count: 10, dport: UDP_PORT });
    expect((await got).length).toBe(10);
    s.close();
  });

  it('a worker_thread that ends without close() frees its socket: the punt fallback applies again', async () => {
    // the daemon runs one socket per worker; a worker torn down mid-wait must
    // neither abort the process (an open uv_poll at loop close) nor leak the slot
    const code = `const { workerData, parentPort } = require('node:worker_threads');
      const a = require(workerData.addon);
      const r = a.xskOpen(workerData.opts);
      a.xskWatch(r.handle, () => {});
      parentPort.postMessage(r.bindMode);`;
    const opts = { ifname: pl.host.ifname, queue: 0, bindMode: 'copy', frameSize: 2048, frameCount: 4096, ringSize: 2048, xsksMapPin: pl.xsksPin, busyPoll: false, netns: pl.hostNetns };
    const worker = new Worker(code, { eval: true, workerData: { addon: addonPath(), opts } });
    const mode = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(mode).toBe('copy');
    const bound = puntCounters(pl);
    await sendFromClient(pl, { count: 10, dport: UDP_PORT });
    expect(puntCounters(pl).punt - bound.punt).toBe(10); // the worker's socket holds the slot
    await worker.terminate();
    const before = puntCounters(pl);
    await sendFromClient(pl, { count: 20, dport: UDP_PORT });
    const after = puntCounters(pl);
    expect(after.fallback - before.fallback).toBe(20);
    expect(after.punt - before.punt).toBe(0);
  });

  it('a missing XSKMAP pin is E_NOT_ATTACHED; bad options and bad batch arguments are E_USAGE', () => {
    expect(() => openXsk({ ifname: pl.host.ifname, queue: 0, xsksMapPin: join(pl.work, 'nope'), netns: pl.hostNetns })).toThrow(
      expect.objectContaining({ code: 'E_NOT_ATTACHED' }),
    );
    // Another map's pin: the socket's fd would have been written into it as a key and value of the wrong size.
    expect(() => openXsk({ ifname: pl.host.ifname, queue: 0, xsksMapPin: join(dirname(pl.xsksPin), MapName.STATS), netns: pl.hostNetns })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/is not an XSKMAP/) }),
    );
    const base = { ifname: pl.host.ifname, queue: 0, xsksMapPin: pl.xsksPin, netns: pl.hostNetns };
    const bad: Array<[Partial<Parameters<typeof openXsk>[0]>, RegExp]> = [
      [{ queue: 64 }, /queue 64 is outside 0..63/],
      [{ frameSize: 3000 }, /frame size 3000/],
      [{ frameCount: 1000 }, /frame count 1000/],
      [{ frameCount: 4096, ringSize: 4096 }, /ring size 4096/],
      [{ bindMode: 'fast' as never }, /unknown bind mode/],
    ];
    for (const [opts, message] of bad) {
      expect(() => openXsk({ ...base, ...opts })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(message) }));
    }
    // bad batch arguments on an open socket: a SecuxflowError, not a crash
    const s = openSock('copy');
    expect(() => s.receive(new Uint8Array(64), new Uint16Array(8) as unknown as Uint32Array, 4)).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    s.close();
  });

  it('detach leaves nothing pinned', async () => {
    const r = await pl.secuxflow('detach', '--iface', pl.host.ifname);
    expect(r.code, r.stderr).toBe(0);
    expect(pl.bpffs.leftovers().filter((p) => p.includes(pl.host.ifname))).toEqual([]);
  });
});
