// `--state-dir` naming a file (say the rules.json inside it): asking for the
// daemon must say that the state directory is not one, with its stable code
// and the fix, not E_DAEMON with the socket's ENOTDIR.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestDaemon } from '../../../host/control/client.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a state directory that is a file', () => {
  it('is E_STATE naming it, with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfctl-file-'));
    dirs.push(dir);
    const file = join(dir, 'rules.json');
    writeFileSync(file, '{}');
    await expect(requestDaemon(file, 'status')).rejects.toMatchObject({
      code: 'E_STATE',
      message: `the state directory ${file} is not a directory (a part of it is a file)`,
      hint: 'give the directory itself with --state-dir (or SECUXFLOW_STATE_DIR), not a file in it',
    });
  });
});
