// inspect --pcap writing to what is not a file: /dev/null, and named pipes
// (mkfifo, or a shell's >(jq .)). A pipe's reader must get every record and
// one end of file, and a pipe nobody reads yet is waited on, saying so.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

const eveLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).length;

/** Runs the CLI; resolves with its exit status and output, killing it after 60 s. */
function runCli(args: string[], onStderr?: (text: string) => void): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('state') }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; onStderr?.(stderr); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
  });
}

/** Reads a named pipe to its end of file; resolves with what came, killing the reader after 60 s. */
function readPipe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => reader.kill('SIGKILL'), 60_000);
    reader.stdout.setEncoding('utf8').on('data', (t: string) => { out += t; });
    reader.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

describe('inspect --pcap outputs that are not files', () => {
  let expected = 0;
  beforeAll(() => {
    const file = join(tempDir('pipes'), 'eve.json');
    expect(cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', file]).status).toBe(0);
    expected = eveLines(readFileSync(file, 'utf8'));
    expect(expected).toBeGreaterThan(10);
  });

  it('--eve /dev/null and --write-dropped /dev/null together: a normal run, exit 0', () => {
    const r = cli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', '/dev/null', '--write-dropped', '/dev/null']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/eve\s+\d+ records/);
  });

  it('--eve /dev/stdout into a shell pipe is standard output: only EVE records there, the summary on stderr', () => {
    const run = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" inspect --pcap "$2" --no-progress --eve /dev/stdout | cat', process.execPath, CLI, DEMO_PCAP], { encoding: 'utf8', env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('state') }, timeout: 60_000 });
    const r = { status: run.status, stdout: run.stdout, stderr: run.stderr };
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBe(expected);
    expect(lines.every((l) => l.startsWith('{'))).toBe(true);
    expect(r.stderr).toMatch(/secuxflow inspect summary/);
  });

  it('a named pipe read from the start gets every EVE record, and the run exits 0', async () => {
    const fifo = join(tempDir('pipes'), 'eve.fifo');
    execFileSync('mkfifo', [fifo]);
    const read = readPipe(fifo);
    const [r, got] = await Promise.all([runCli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', fifo]), read]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(eveLines(got)).toBe(expected);
  });

  it('a named pipe nobody reads yet: the run says it waits, and goes on once a reader comes', async () => {
    const fifo = join(tempDir('pipes'), 'eve.fifo');
    execFileSync('mkfifo', [fifo]);
    let read: Promise<string> | null = null;
    const r = await runCli(['inspect', '--pcap', DEMO_PCAP, '--no-progress', '--eve', fifo], (stderr) => {
      if (read === null && stderr.includes('\n')) read = readPipe(fifo);
    });
    expect(r.stderr).toMatch(/--eve .*eve\.fifo is a named pipe no one reads yet: waiting for its reader/);
    expect(r.status).toBe(0);
    expect(read).not.toBeNull();
    expect(eveLines(await read!)).toBe(expected);
  });
});
