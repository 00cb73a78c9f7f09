// Real clients and servers for the lab, written as small Node scripts run
// inside namespaces, so no extra tools are needed beyond node itself.
import type { ChildProcess } from 'node:child_process';
import type { NetLab } from './netns.js';

/** TCP echo + UDP echo on addr; exits by itself after maxMs so nothing outlives a crashed test. */
export function startEchoServers(lab: NetLab, ns: string, addr: string, tcpPort: number, udpPort: number, maxMs = 300_000): Promise<ChildProcess> {
  const script = `
const net = require('net'), dgram = require('dgram');
setTimeout(() => process.exit(0), ${maxMs});
const t = net.createServer((c) => { c.on('error', () => {}); c.on('data', (d) => c.end(d)); });
t.listen(${tcpPort}, '${addr}', () => {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(m, r.port, r.address));
  u.bind(${udpPort}, '${addr}', () => console.log('ready'));
});`;
  return lab.spawn(ns, [process.execPath, '-e', script], 'ready');
}

export interface Probe {
  /** Epoch ms when the attempt started. */
  t: number;
  ok: boolean;
}

/**
 * A TCP prober: one connect attempt at a time (timeout `timeoutMs`), a short
 * pause, again, until maxMs. Results stream into `probes` so a test can ask
 * what happened after any instant.
 */
export async function startTcpProber(lab: NetLab, ns: string, addr: string, port: number, opts: { timeoutMs?: number; pauseMs?: number; maxMs?: number } = {}): Promise<{ probes: Probe[]; child: ChildProcess }> {
  const timeoutMs = opts.timeoutMs ?? 100;
  const script = `
const net = require('net');
const end = Date.now() + ${opts.maxMs ?? 240_000};
console.log('ready');
function once() {
  if (Date.now() > end) process.exit(0);
  const t = Date.now();
  let done = false;
  const s = net.connect({ host: '${addr}', port: ${port} });
  const finish = (ok) => { if (done) return; done = true; s.destroy(); console.log(JSON.stringify({ t, ok })); setTimeout(once, ${opts.pauseMs ?? 10}); };
  s.setTimeout(${timeoutMs}, () => finish(false));
  s.on('connect', () => s.write('ping'));
  s.on('data', (d) => finish(String(d) === 'ping'));
  s.on('error', () => finish(false));
}
once();`;
  const child = await lab.spawn(ns, [process.execPath, '-e', script], 'ready');
  const probes: Probe[] = [];
  let buf = '';
  child.stdout?.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) probes.push(JSON.parse(line) as Probe);
    }
  });
  return { probes, child };
}

/** Waits (bounded) until `count` probes started at or after `since`, and returns them. */
export async function probesAfter(probes: Probe[], since: number, count: number, maxWaitMs = 10_000): Promise<Probe[]> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const after = probes.filter((p) => p.t >= since);
    if (after.length >= count) return after.slice(0, count);
    if (Date.now() > deadline) throw new Error(`only ${after.length} of ${count} probes ran within ${maxWaitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One UDP round trip (up to `tries` attempts); resolves true when the echo
 * came back whole. A `size` over the link MTU makes it travel as IP fragments.
 */
export async function udpEchoWorks(lab: NetLab, ns: string, addr: string, port: number, tries = 3, size = 8): Promise<boolean> {
  const script = `
const d = require('dgram').createSocket('udp4');
const msg = 'udp-ping'.repeat(Math.ceil(${size} / 8)).slice(0, ${size});
let left = ${tries};
const send = () => { if (left-- <= 0) { console.log('lost'); process.exit(1); } d.send(msg, ${port}, '${addr}'); setTimeout(send, 300); };
d.on('message', (m) => { console.log(String(m) === msg ? 'echo' : 'garbled'); process.exit(0); });
send();`;
  const r = await lab.exec(ns, [process.execPath, '-e', script], { timeoutMs: 5_000 });
  return r.stdout.includes('echo');
}

/**
 * nmap's state for one TCP port of `target` from namespace `ns`: a SYN scan of
 * `scan` (default: that port alone), with `extra` options (-f fragments it).
 */
export async function nmapTcpPortState(lab: NetLab, ns: string, target: string, port: number, opts: { scan?: string; extra?: string[] } = {}): Promise<string> {
  const argv = ['nmap', '-sS', '-Pn', '-n', ...(opts.extra ?? []), '-p', opts.scan ?? String(port), '--max-retries', '1', '--host-timeout', '20s', '-oX', '-', target];
  const r = await lab.execOk(ns, argv, { timeoutMs: 40_000 });
  const m = new RegExp(`<port protocol="tcp" portid="${port}"><state state="([a-z|]+)"`).exec(r.stdout);
  return m?.[1] ?? 'absent';
}
