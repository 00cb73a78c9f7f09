// `secuxflow inspect --pcap big.pcap --eve - | jq ...`: a reader slower than
// the run fills the pipe. Node makes a piped stdout non-blocking, so a write
// then fails with EAGAIN or writes part of a chunk; the EVE output must wait
// for the reader, as a blocking write does, and lose nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket } from '../../host/packet/build.js';
import { CLI, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

/** 3000 one-packet UDP flows: a flow record each, about 1 MB of EVE, far more than a pipe holds. */
function manyFlows(path: string): void {
  const w = new PcapWriter({ path });
  for (let i = 0; i < 3000; i++) {
    const data = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 1024 + i, dstPort: 9999, payload: 'x' });
    w.write({ data, tsSec: 1_767_225_600 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1_000_000 });
  }
  w.close();
}

/** Runs the CLI with stdout to a pipe that nobody reads for `stallMs`, then reads it all. */
function runWithSlowReader(args: string[], stallMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('slow-state') } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stdout.resume();
    }, stallMs);
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

describe('inspect --eve - to a slow reader', () => {
  it('waits for the reader and writes every record', async () => {
    const pcap = join(tempDir('slow-reader'), 'flows.pcap');
    manyFlows(pcap);
    const r = await runWithSlowReader(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--eve', '-', '--no-progress'], 1500);
    expect(r.stderr).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const records = lines.map((l) => JSON.parse(l) as { event_type: string });
    expect(records.filter((x) => x.event_type === 'flow')).toHaveLength(3000);
    expect(records.at(-1)!.event_type).toBe('stats');
    // The summary (on stderr with --eve -) counts what reached the reader.
    expect(r.stderr).toMatch(new RegExp(`eve\\s+${lines.length.toLocaleString('en-US')} records`));
  }, 120_000);
});
