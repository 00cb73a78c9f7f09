// Interface facts for attach/detach, read in the caller's network namespace:
// /proc/self/net follows the netns of this process, unlike /sys/class/net
// under nsenter, so these answers are right however the CLI was started.
import { readFileSync, statSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { ifIndex } from './native.js';

/** Names of the interfaces in this network namespace, sorted. */
export function listInterfaces(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/net/dev', 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  // two header lines, then "  name: counters..."
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) names.push(line.slice(0, colon).trim());
  }
  return names.sort();
}

/** Identity of this process's network namespace (the nsfs inode), so records from another netns are told apart. */
export function currentNetns(): number {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return 0;
  }
}

/** The interface's ifindex; E_NO_IFACE lists the interfaces that do exist. */
export function resolveIfindex(name: string): number {
  try {
    return ifIndex(name);
  } catch (e) {
    if (e instanceof SecuxflowError && e.code !== 'E_NO_IFACE') throw e;
    const known = listInterfaces();
    throw new SecuxflowError(
      'E_NO_IFACE',
      `interface ${JSON.stringify(name)} does not exist in this network namespace`,
      known.length > 0 ? `existing interfaces: ${known.join(', ')}` : 'no interfaces found; list them with: ip -br link',
    );
  }
}

/** True when the interface currently exists (no error for a vanished one). */
export function interfaceExists(name: string): boolean {
  return listInterfaces().includes(name);
}
