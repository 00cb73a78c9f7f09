// Real clients in network namespaces for the module tests: a client and a
// server namespace joined by a veth pair, and tcpdump capturing on the server
// side (lab/gate.ts says whether the machine can run them). Shared by the
// dlp, scan_flood, ratelimit and threat_intel tests.
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetLab, type VethEnd } from '../../kernel/lab/netns.js';
import { openCapture } from '../../../host/capture/reader.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { tempDir } from '../dlp/support.js';

export interface Pair {
  lab: NetLab;
  clientNs: string;
  serverNs: string;
  client: VethEnd;
  server: VethEnd;
  /** A second client address on the client side (198.18.<subnet>.3), for a benign client beside an attacker. */
  client2: string;
  dir: string;
}

export async function makePair(prefix: string, subnet: number): Promise<Pair> {
  const lab = new NetLab(prefix);
  try {
    const clientNs = await lab.addNamespace('c');
    const serverNs = await lab.addNamespace('s');
    const [client, server] = await lab.vethPair({ ns: clientNs, role: 'vc' }, { ns: serverNs, role: 'vs' }, subnet);
    const client2 = `198.18.${subnet}.3`;
    await lab.execOk(clientNs, ['ip', 'addr', 'add', `${client2}/24`, 'dev', client.ifname]);
    const dir = tempDir(`lab-${prefix}`);
    lab.removeAtCleanup(dir);
    return { lab, clientNs, serverNs, client, server, client2, dir };
  } catch (e) {
    lab.cleanupSync();
    throw e;
  }
}

/** Captures on the server's interface while fn runs; returns the pcap path. */
export async function capture(pair: Pair, name: string, fn: () => Promise<void>): Promise<string> {
  const path = join(pair.dir, `${name}.pcap`);
  // -B: immediate mode gives each frame a slot of the full snaplen (256 KiB
  // with -s 0), so the default 2 MiB ring held 8 frames and a fast nmap scan
  // lost most of its SYNs in the capture. 64 MiB holds 256 of the largest.
  const child: ChildProcess = await pair.lab.spawn(pair.serverNs,
    ['sh', '-c', `exec tcpdump -i ${pair.server.ifname} -n -U --immediate-mode -s 0 -B 65536 -Z root -w ${path} 2>&1`], 'listening on', 10_000);
  // tcpdump's closing statistics say whether the capture is whole.
  let tail = '';
  child.stdout?.on('data', (b: Buffer) => (tail += b.toString()));
  try {
    // "listening on" comes just before the capture socket is fully fed
    await new Promise((r) => setTimeout(r, 200));
    await fn();
    // let the last frames reach the file
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5_000);
      // 'close', not 'exit': the statistics line may still be in the pipe at exit.
      child.once('close', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGINT');
    });
  }
  if (!existsSync(path) || statSync(path).size <= 24) throw new Error(`tcpdump wrote no frames to ${path} (${existsSync(path) ? statSync(path).size : 'no file'})`);
  const dropped = /(\d+) packets? dropped by kernel/.exec(tail);
  if (dropped && Number(dropped[1]) > 0) throw new Error(`tcpdump dropped ${dropped[1]} packets of the ${name} capture: the test would judge a partial capture`);
  return path;
}

export function readFrames(path: string): RawFrame[] {
  return [...openCapture(path).frames()];
}
