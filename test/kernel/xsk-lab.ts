// The punt lab shared by the AF_XDP and delivery tests: a client namespace
// and a protected-host namespace on a veth pair, secuxflow attached on the
// host end (through the built CLI, as a user would) with an inspect rule, the
// C sender compiled, and helpers to read the kernel's punt counters.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetLab, type VethEnd } from './lab/netns.js';
import { buildCli, buildNative, REPO_ROOT } from './lab/build.js';
import { mountPrivateBpffs, type PrivateBpffs } from './lab/bpffs.js';
import { runOk, type RunResult } from './lab/run.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { readStats } from '../../host/kernel/verdictmaps.js';
import { MapName, SfStat } from '../../host/kernel/codec.js';
import type { XskSocket } from '../../host/kernel/xsk.js';

export interface PuntLab {
  lab: NetLab;
  bpffs: PrivateBpffs;
  client: VethEnd;
  host: VethEnd;
  /** /run/netns/<host ns>: where sockets and the TAP are created. */
  hostNetns: string;
  pinDir: string;
  xsksPin: string;
  clientMac: string;
  hostMac: string;
  /** Compiled bench/live/sender. */
  sender: string;
  work: string;
  /** Runs the built CLI inside the host namespace with the lab's state dir and bpffs. */
  secuxflow(...args: string[]): Promise<RunResult>;
}

/** Builds everything and attaches secuxflow (native XDP) on the host end; `rule` is the inspect rule's CLI flags. */
export async function setupPuntLab(prefix: string, subnet: number, rule: string[]): Promise<PuntLab> {
  const lab = new NetLab(prefix);
  await buildNative();
  const built = await buildCli(lab.tag);
  lab.onCleanup(built.remove);
  const work = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-`));
  lab.removeAtCleanup(work);
  const stateDir = join(work, 'state');
  const bpffs = await mountPrivateBpffs(lab);
  const cns = await lab.addNamespace('c');
  const hns = await lab.addNamespace('h');
  const [client, host] = await lab.vethPair({ ns: cns, role: 'cv' }, { ns: hns, role: 'hv' }, subnet);
  const secuxflow = (...args: string[]): Promise<RunResult> =>
    lab.exec(host.ns, [process.execPath, built.cli, ...args, '--state-dir', stateDir], {
      env: { ...process.env, SECUXFLOW_BPFFS_ROOT: bpffs.root },
      timeoutMs: 30_000,
    });
  const must = async (...args: string[]): Promise<void> => {
    const r = await secuxflow(...args);
    if (r.code !== 0) throw new Error(`secuxflow ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  };
  await must('attach', '--iface', host.ifname, '--mode', 'native', '--fail', 'open');
  // Cleanup runs newest first: detach (and unpin) through the CLI before the namespaces and bpffs go.
  lab.onCleanup(() => {
    execFileSync('ip', ['netns', 'exec', host.ns, process.execPath, built.cli, 'detach', '--iface', host.ifname, '--state-dir', stateDir], {
      env: { ...process.env, SECUXFLOW_BPFFS_ROOT: bpffs.root },
      stdio: 'ignore',
      timeout: 30_000,
    });
  });
  await must('rule', 'add', ...rule, '--action', 'inspect');
  const sender = join(work, 'sender');
  await runOk(['cc', '-O2', '-o', sender, join(REPO_ROOT, 'bench', 'live', 'sender.c')]);
  const pinDir = join(bpffs.root, host.ifname);
  return {
    lab,
    bpffs,
    client,
    host,
    hostNetns: `/run/netns/${host.ns}`,
    pinDir,
    xsksPin: join(pinDir, MapName.XSKS),
    clientMac: (await lab.link(client)).address,
    hostMac: (await lab.link(host)).address,
    sender,
    work,
    secuxflow,
  };
}

/** The kernel's punt and punt-fallback packet counters (summed over CPUs). */
export function puntCounters(pl: PuntLab): { punt: number; fallback: number } {
  const fd = objGet(join(pl.pinDir, MapName.STATS));
  try {
    const s = readStats(fd);
    return { punt: Number(s[SfStat.PUNT]!.packets), fallback: Number(s[SfStat.PUNT_FALLBACK]!.packets) };
  } finally {
    closeFd(fd);
  }
}

/** Writes frames in the sender's -f format (u16 little-endian length, bytes). */
export function writeFrameFile(path: string, frames: readonly Uint8Array[]): void {
  const total = frames.reduce((n, f) => n + 2 + f.length, 0);
  const out = Buffer.alloc(total);
  let at = 0;
  for (const f of frames) {
    out.writeUInt16LE(f.length, at);
    out.set(f, at + 2);
    at += 2 + f.length;
  }
  writeFileSync(path, out);
}

/** Sends `count` generated UDP frames (or the file's frames) from the client namespace to the host. */
export async function sendFromClient(pl: PuntLab, opts: { count?: number; file?: string; size?: number; rate?: number; dport?: number }): Promise<{ sent: number }> {
  const argv = [pl.sender, '-i', pl.client.ifname, '-d', pl.hostMac, '-S', pl.client.addr, '-D', pl.host.addr, '-t', '10'];
  if (opts.file) argv.push('-f', opts.file);
  if (opts.count) argv.push('-c', String(opts.count));
  if (opts.size) argv.push('-s', String(opts.size));
  if (opts.rate) argv.push('-r', String(opts.rate));
  if (opts.dport) argv.push('-p', String(opts.dport));
  const r = await pl.lab.execOk(pl.client.ns, argv, { timeoutMs: 20_000 });
  return JSON.parse(r.stdout) as { sent: number };
}

/**
 * Drains the socket through onReadable until `want` frames arrived or
 * `timeoutMs` passed; returns copies of the frames (tests only: the real
 * path never copies twice). With `padding`, the buffer is filled with 0xAA
 * before each receive and every padding byte receive() left after a frame
 * (up to the next 8-byte boundary) is appended to it.
 */
export function collect(sock: XskSocket, want: number, timeoutMs: number, bufBytes = 1 << 18, padding: number[] | null = null): Promise<Uint8Array[]> {
  const into = new Uint8Array(bufBytes);
  const descs = new Uint32Array(128);
  const frames: Uint8Array[] = [];
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      sock.offReadable();
      resolve(frames);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.onReadable(() => {
      for (let round = 0; round < 1000; round++) {
        if (padding !== null) into.fill(0xaa);
        const n = sock.receive(into, descs, 64);
        for (let i = 0; i < n; i++) {
          const end = descs[2 * i]! + descs[2 * i + 1]!;
          frames.push(into.slice(descs[2 * i]!, end));
          if (padding !== null) for (let k = end; k < ((end + 7) & ~7); k++) padding.push(into[k]!);
        }
        if (frames.length >= want) return done();
        if (n === 0) return;
      }
    });
  });
}

export { NetLab };
