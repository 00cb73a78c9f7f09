// Decides whether the kernel lab can run here. In CI a missing capability is
// a failure, never a silent skip; elsewhere the tests skip and say why.
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';

const BPF_FS_MAGIC = 0xcafe4a11;

/** Why the lab cannot run on this machine, or null when it can. */
export function labUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'kernel tests need Linux';
  if (process.getuid?.() !== 0) return 'kernel tests need root (run them with sudo)';
  try {
    if (statfsSync('/sys/fs/bpf').type !== BPF_FS_MAGIC) return 'bpffs is not mounted: mount -t bpf bpf /sys/fs/bpf';
  } catch {
    return 'bpffs is not mounted: mount -t bpf bpf /sys/fs/bpf';
  }
  for (const tool of ['ip', 'nmap', 'setpriv', 'clang', 'flock', 'nice', 'umount']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed: run scripts/install-system-deps.sh`;
    }
  }
  return null;
}

/**
 * Returns the reason to skip (outside CI) or null to run. Under CI=true it
 * throws, so the test file fails loudly when the lab is missing.
 */
export function labSkipReason(): string | null {
  const reason = labUnavailableReason();
  if (reason && process.env.CI === 'true') throw new Error(`kernel lab unavailable in CI: ${reason}`);
  if (reason) console.warn(`[kernel lab] skipping: ${reason}`);
  return reason;
}
