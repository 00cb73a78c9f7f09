import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { childEnded } from './child-exit.js';

const node = (script: string): ReturnType<typeof spawn> => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });

describe('childEnded', () => {
  it('waits for the pipes to close, so output that reaches them after the exit is read', async () => {
    // The last line comes from a grandchild sharing the pipe, 200 ms after
    // the child exits: a stand-in for output still unread at 'exit'.
    const child = node("require('child_process').spawn('sh', ['-c', 'sleep 0.2; echo END'], { stdio: 'inherit' }).unref(); process.stdout.write('start\\n'); process.exit(3);");
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const end = await childEnded(child);
    expect(end.code).toBe(3);
    expect(out).toBe('start\nEND\n');
  });

  it('does not wait past the grace for a grandchild that still holds the pipes', async () => {
    // The grandchild inherits stdout and outlives the child by 20 s.
    const child = node("const g = require('child_process').spawn('sleep', ['20'], { stdio: 'inherit', detached: true }); g.unref(); process.stdout.write(g.pid + '\\nbye\\n');");
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const t0 = Date.now();
    const end = await childEnded(child, 300);
    const waited = Date.now() - t0;
    try {
      expect(end.code).toBe(0);
      expect(out).toMatch(/^\d+\nbye\n$/);
      expect(waited).toBeLessThan(10_000);
      expect(child.stdout!.readableEnded).toBe(false);
    } finally {
      const pid = Number(out.split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    }
  });

  it('resolves at once for a child whose streams have already ended', async () => {
    const child = node("process.stdout.write('done\\n');");
    await new Promise((r) => child.once('close', r));
    const end = await childEnded(child);
    expect(end).toEqual({ code: 0, signal: null });
  });
});
