// `secuxflow inspect --pcap x --write-dropped - | tshark -r -`: "-" is standard
// output for --write-dropped as it is for --eve (and standard input for
// --pcap). It used to create a file named "-" in the current directory.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../host/capture/reader.js';
import { CLI, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

function run(args: string[], cwd: string): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, SECUXFLOW_STATE_DIR: join(cwd, 'state') }, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

describe('inspect --write-dropped -', () => {
  it('writes the dropped frames as a pcap on stdout, and the summary on stderr', () => {
    const dir = tempDir('dropped-stdout');
    const r = run(['inspect', '--pcap', DEMO_PCAP, '--write-dropped', '-', '--no-progress'], dir);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, '-'))).toBe(false);
    const written = Number(/dropped\s+(\d+) frames written/.exec(r.stderr)?.[1]);
    expect(written).toBeGreaterThan(0);
    const out = join(dir, 'stdout.pcap');
    writeFileSync(out, r.stdout);
    const reader = openCapture(out);
    expect(reader.format).toBe('pcap');
    expect([...reader.frames()]).toHaveLength(written);
  });

  it('with --json the report goes to stderr too', () => {
    const dir = tempDir('dropped-stdout-json');
    const r = run(['inspect', '--pcap', DEMO_PCAP, '--write-dropped', '-', '--json', '--no-progress'], dir);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stderr) as { droppedWritten: number }).droppedWritten).toBeGreaterThan(0);
    expect(r.stdout.subarray(0, 4).readUInt32LE(0)).toBe(0xa1b23c4d); // a nanosecond pcap, not JSON
  });

  it('refuses --eve - with it: both would write to stdout', () => {
    const dir = tempDir('dropped-stdout-clash');
    const r = run(['inspect', '--pcap', DEMO_PCAP, '--eve', '-', '--write-dropped', '-'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]: --write-dropped - and --eve - both write to standard output/);
    expect(r.stdout.length).toBe(0);
  });
});
