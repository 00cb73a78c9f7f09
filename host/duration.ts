// Durations on the command line, as fail2ban's bantime and Suricata's YAML
// write them: a whole number of seconds, or one with s, m, h or d.
import { SecuxflowError } from './errors.js';

/** Seconds per unit letter (`--ttl 10m`, `--since 2h`). */
export const DURATION_UNITS: Readonly<Record<'s' | 'm' | 'h' | 'd', number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Parses "90", "90s", "10m", "1h", "2d" into seconds within [minSec, maxSec]; else E_USAGE naming the flag. */
export function parseDuration(flag: string, text: string, minSec: number, maxSec: number): number {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) throw new SecuxflowError('E_USAGE', `${flag} "${text}": not a duration`, `give seconds, or a number with s, m, h or d, for example ${flag} 10m`);
  const unit = m[2]!.toLowerCase() as keyof typeof DURATION_UNITS | '';
  const sec = Number(m[1]) * (unit === '' ? 1 : DURATION_UNITS[unit]);
  if (!Number.isSafeInteger(sec) || sec < minSec || sec > maxSec) {
    throw new SecuxflowError('E_USAGE', `${flag} ${text}: out of range`, `give ${describeDuration(minSec)} to ${describeDuration(maxSec)}`);
  }
  return sec;
}

/** 3725 -> "1h 2m 5s"; 0 -> "0s". */
export function describeDuration(sec: number): string {
  const parts: string[] = [];
  let left = Math.max(0, Math.round(sec));
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (left >= size) {
      parts.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
  }
  if (left > 0 || parts.length === 0) parts.push(`${left}s`);
  return parts.join(' ');
}
