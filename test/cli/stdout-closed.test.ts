// `secuxflow ... | head -1`: when the reader of stdout goes away first, the
// CLI ends quietly with its own exit status, never with an unhandled EPIPE
// and a stack trace.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../host/state/helpers.js';
import { CLI, tempDir } from './support.js';

beforeAll(() => buildCli(), 180_000);

function withStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first byte
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('stdout closed by its reader', () => {
  it('rule list, rule export and a --json error end without a stack trace', async () => {
    const dir = join(tempDir('epipe'), 'state');
    for (let i = 0; i < 5; i++) expect(runCli(['rule', 'add', '--action', 'drop', '--port', String(1000 + i), '--proto', 'tcp', '--state-dir', dir]).code).toBe(0);
    for (const args of [['rule', 'list'], ['rule', 'export'], ['rule', 'list', '--json']]) {
      const r = await withStdoutClosed([...args, '--state-dir', dir]);
      expect(r.stderr, args.join(' ')).not.toMatch(/Unhandled 'error' event|\n\s+at /);
      expect(r.code, args.join(' ')).toBe(0);
    }
    const failing = await withStdoutClosed(['rule', 'import', join(dir, 'no-such-file.yaml'), '--json', '--state-dir', dir]);
    expect(failing.stderr).toMatch(/error\[E_RULEFILE\]/);
    expect(failing.stderr).not.toMatch(/Unhandled 'error' event|\n\s+at /);
    expect(failing.code).toBe(1);
  });
});
