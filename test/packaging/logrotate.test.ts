// packaging/secuxflow.logrotate, run by logrotate itself on a copy whose path
// and reload command point into a temp dir: the EVE file is renamed and the
// reload runs after. That the daemon opens the path anew on that SIGHUP is
// test/kernel/daemon-host.test.ts's "SIGHUP reopens the EVE file".
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR } from '../../host/state/store.js';
import { hasTool } from '../cli/support.js';
import { tempDir } from '../support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const shipped = readFileSync(join(ROOT, 'packaging', 'secuxflow.logrotate'), 'utf8');
const unit = readFileSync(join(ROOT, 'packaging', 'secuxflow@.service'), 'utf8');
const RELOAD = "systemctl reload 'secuxflow@*.service' >/dev/null 2>&1 || true";

describe('packaging/secuxflow.logrotate', () => {
  it('rotates the daemon\'s default EVE file and reloads the unit, whose reload is SIGHUP', () => {
    expect(shipped).toContain(`${join(DEFAULT_STATE_DIR, 'eve.json')} {`);
    expect(shipped).toContain(RELOAD);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  it.runIf(hasTool('logrotate') || process.env.CI === 'true')('logrotate renames the file, then runs the reload', () => {
    const dir = tempDir('logrotate');
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, '{"event_type":"alert"}\n');
    const conf = join(dir, 'secuxflow');
    writeFileSync(conf, shipped.replace(join(DEFAULT_STATE_DIR, 'eve.json'), eve).replace(RELOAD, `ls ${dir} > ${join(dir, 'seen-at-reload')}`));
    execFileSync('logrotate', ['-f', '-s', join(dir, 'state'), conf], { stdio: 'pipe' });
    expect(existsSync(eve)).toBe(false);
    expect(readFileSync(`${eve}.1`, 'utf8')).toBe('{"event_type":"alert"}\n');
    // The reload ran once the file had been renamed: the daemon's reopen finds the path free.
    expect(readFileSync(join(dir, 'seen-at-reload'), 'utf8').split('\n')).toContain('eve.json.1');
  });
});
