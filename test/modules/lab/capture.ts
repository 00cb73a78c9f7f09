// tcpdump inside a namespace, writing a pcap the test then inspects. -U
// writes each packet as it arrives and --immediate-mode hands it over without
// waiting for a ring block, so stopping with SIGINT loses nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';

export interface Capture {
  /** Stops tcpdump and waits for it to close the file (bounded). */
  stop(): Promise<void>;
}

export function startCapture(ns: string, ifname: string, file: string, timeoutMs = 10_000): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', ifname, '-n', '-U', '--immediate-mode', '-s', '0', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`tcpdump did not start within ${timeoutMs} ms: ${err}`)); }, timeoutMs);
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve({
          stop: () => new Promise<void>((done) => {
            if (child.exitCode !== null) { done(); return; }
            const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => { clearTimeout(kill); done(); });
            child.kill('SIGINT');
          }),
        });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); if (!err.includes('listening on')) reject(new Error(`tcpdump exited ${code}: ${err}`)); });
  });
}

export function fileSize(path: string): number {
  try { return statSync(path).size; } catch { return 0; }
}
