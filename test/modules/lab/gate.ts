// Whether a real-client module test can run here: root (namespaces), ip and
// tcpdump, plus the client and server tools the test names. Under CI=true a
// missing piece fails the file; elsewhere it skips and says why.
import { spawnSync } from 'node:child_process';

export function moduleLabUnavailable(tools: readonly string[]): string | null {
  if (process.platform !== 'linux') return 'real-client tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'real-client tests need root (network namespaces)';
  for (const tool of ['ip', 'tcpdump', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed: run scripts/install-system-deps.sh`;
  }
  return null;
}

export function moduleLabSkip(tools: readonly string[]): boolean {
  const reason = moduleLabUnavailable(tools);
  if (reason && (process.env.CI === 'true' || process.env.CI === '1')) throw new Error(`module lab unavailable in CI: ${reason}`);
  if (reason) console.warn(`[module lab] skipping: ${reason}`);
  return reason !== null;
}
