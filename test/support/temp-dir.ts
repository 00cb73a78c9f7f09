// Temporary directories that go when the test file that made them ends:
// thousands were left in /tmp before. The hook is registered while the
// importing test file is collected, so it is that file's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new directory /tmp/sf-PREFIX-XXXXXX, removed after this test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sf-${prefix}-`));
  made.push(dir);
  return dir;
}
