// tshark as an independent oracle. In CI its absence is a failure; on a
// developer machine the cross-checks skip and say why.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TSHARK = ['/usr/bin/tshark', '/usr/local/bin/tshark'].find((p) => existsSync(p)) ?? null;
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const SKIP_TSHARK = TSHARK === null && !IN_CI;

if (SKIP_TSHARK) console.warn('SKIPPED tshark cross-checks: tshark is not installed (apt-get install tshark)');

/**
 * Rows of `-T fields` output, one array per frame. A field that occurs more
 * than once in a frame gives its first value, or with `allOccurrences` all of
 * them joined by commas.
 */
export function tsharkFields(file: string, fields: string[], extraArgs: string[] = [], allOccurrences = false): string[][] {
  if (TSHARK === null) throw new Error('tshark is required for this test (CI=true) but is not installed');
  const occurrence = allOccurrences ? ['-E', 'occurrence=a', '-E', 'aggregator=,'] : ['-E', 'occurrence=f'];
  const args = ['-r', file, '-n', ...extraArgs, '-T', 'fields', '-E', 'separator=|', ...occurrence];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync(TSHARK, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20, timeout: 60_000 });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('|'));
}

export const CHECKSUM_PREFS = [
  '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
];
