// packaging/secuxflow@.service as systemd itself reads it: `systemd-analyze
// verify` parses every directive (an unknown key, a bad value or an
// ExecStart that is not executable is reported). These machines do not boot
// systemd as PID 1, so the unit is not started here; the daemon it runs is
// the kernel tests' subject.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir, toolOrSkip } from '../cli/support.js';

const UNIT = join(ROOT, 'packaging', 'secuxflow@.service');

/** systemd-analyze verify on the unit as an instance for `iface`, from a copy in a temp dir. */
function verify(text: string, iface = 'lo'): { status: number; messages: string } {
  const dir = tempDir('unit');
  const path = join(dir, `secuxflow@${iface}.service`);
  writeFileSync(path, text);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, messages: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

describe('packaging/secuxflow@.service', () => {
  it.runIf(toolOrSkip('systemd-analyze'))('passes systemd-analyze verify with no message, and a broken copy does not', () => {
    const text = readFileSync(UNIT, 'utf8');
    expect(verify(text)).toEqual({ status: 0, messages: '' });
    // The check can fail: a misspelt hardening key and a bad value are reported.
    const broken = verify(text.replace('ProtectHome=yes', 'ProtectHome=yes\nProtectHomes=yes\nProtectSystem=strictly'));
    expect(broken.messages).toMatch(/Unknown key 'ProtectHomes'/);
    expect(broken.messages).toMatch(/ProtectSystem|protect system/i);
  });
});
