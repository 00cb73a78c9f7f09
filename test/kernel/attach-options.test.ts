// The checks attach/detach make before touching the kernel: flag values,
// interface names, the bpffs root and privileges. These run anywhere (no
// root needed), so a bad flag is caught the same way on every machine.
// E_NO_ROOT itself is tested as user nobody in bad-input.test.ts.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachCommand, detachCommand } from '../../cli/commands/attach.js';
import { SecuxflowError } from '../../host/errors.js';
import { isValidIfaceName } from '../../host/kernel/ifname.js';
import { assertBpffs, DEFAULT_BPFFS_ROOT, pinDir, pinRoot } from '../../host/kernel/pins.js';

async function refusal(p: Promise<unknown>): Promise<SecuxflowError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SecuxflowError) return e;
    throw new Error(`expected a SecuxflowError, got ${String(e)}`);
  }
  throw new Error('expected a refusal, the call succeeded');
}

describe('attach/detach option checks', () => {
  const stateDir = join(tmpdir(), 'sf-options-never-created');

  it.each([
    [{ iface: 'eth0', mode: 'turbo' }, '--mode "turbo" is not one of native, skb, auto'],
    [{ iface: 'eth0', mode: 'NATIVE' }, '--mode "NATIVE" is not one of native, skb, auto'],
    [{ iface: 'eth0', policy: 'pass' }, '--policy "pass" is not one of allow, deny'],
    [{ iface: 'eth0', fail: 'shut' }, '--fail "shut" is not one of open, closed'],
    [{ iface: '' }, '--iface is required'],
    [{ iface: 'a/b' }, '--iface "a/b" is not a valid interface name'],
    [{ iface: '..' }, '--iface ".." is not a valid interface name'],
    [{ iface: 'x'.repeat(16) }, `--iface "${'x'.repeat(16)}" is not a valid interface name`],
  ])('attach %j is a usage error: %s', async (opts, message) => {
    const e = await refusal(attachCommand({ stateDir, ...opts }));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toBe(message);
    expect(e.hint).toBeTruthy();
  });

  it('detach validates --iface the same way', async () => {
    const e = await refusal(detachCommand({ iface: 'bad name', stateDir }));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toContain('--iface "bad name"');
  });

  it('no flag check writes the state directory', () => {
    expect(() => readdirSync(stateDir)).toThrow();
  });
});

describe('interface names and pin paths', () => {
  it('follows the kernel rules for names', () => {
    expect(['eth0', 'veth-a.10', 'x'.repeat(15), 'wlp0s20f3'].every(isValidIfaceName)).toBe(true);
    expect(['', '.', '..', 'a/b', 'a b', 'a:1', 'x'.repeat(16), 'é'.repeat(8)].some(isValidIfaceName)).toBe(false);
  });

  it('puts each interface in its own directory under the root, which SECUXFLOW_BPFFS_ROOT overrides', () => {
    const saved = process.env.SECUXFLOW_BPFFS_ROOT;
    try {
      delete process.env.SECUXFLOW_BPFFS_ROOT;
      expect(pinRoot()).toBe(DEFAULT_BPFFS_ROOT);
      expect(pinDir('eth0')).toBe('/sys/fs/bpf/secuxflow/eth0');
      process.env.SECUXFLOW_BPFFS_ROOT = '/run/sf-test/root';
      expect(pinDir('veth1')).toBe('/run/sf-test/root/veth1');
      expect(() => pinDir('../escape')).toThrow(SecuxflowError);
    } finally {
      if (saved === undefined) delete process.env.SECUXFLOW_BPFFS_ROOT;
      else process.env.SECUXFLOW_BPFFS_ROOT = saved;
    }
  });

  it('a root on a plain file system is E_NO_BPFFS with the mount command for that root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-plain-'));
    try {
      const root = join(dir, 'not', 'yet', 'there');
      let caught: unknown;
      try {
        assertBpffs(root);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SecuxflowError);
      const e = caught as SecuxflowError;
      expect(e.code).toBe('E_NO_BPFFS');
      expect(e.message).toContain(`bpffs is not mounted at ${root} (its existing parent ${dir})`);
      expect(e.hint).toBe(`mount a bpffs there with: mkdir -p ${root} && mount -t bpf bpf ${root}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
