// From the TypeScript sources (tests, benchmarks) the queue worker is bundled
// into the package's dist/ so it finds the native addon like the CLI does.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { queueWorkerEntry } from '../../../host/daemon/worker-entry.js';

describe('queue worker entry from sources', () => {
  it('bundles worker-main.ts inside the package and the bundle starts a thread', async () => {
    const entry = queueWorkerEntry();
    expect(entry.argv).toEqual([]);
    expect(entry.file).toMatch(/dist\/\.queue-worker-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(entry.file)).toBe(true);
    expect(readFileSync(entry.file, 'utf8')).toContain('runQueueThread');
    // Without AF_XDP pins the thread reports a fatal error instead of crashing.
    const w = new Worker(entry.file, { argv: entry.argv, workerData: { iface: 'lo', queue: 0, pinDir: '/nonexistent', bindMode: 'copy', peer: null, stateDir: '/nonexistent', config: { batchSize: 4, inspectCap: { packets: 1, bytes: 1, policy: 'allow' } }, rules: { defaultPolicy: 'pass', rules: [] }, modules: [] } });
    const msg = await new Promise<{ type: string; error?: { code: string } }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg.type).toBe('fatal');
    expect(msg.error?.code).toMatch(/^E_/);
  });
});
