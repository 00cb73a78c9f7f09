// Opening the XDP object over the maps an earlier attach left pinned. After
// an upgrade, a pinned map may no longer fit this build's definition (a
// counter record grew, a value gained a field), and libbpf then refuses the
// whole load: a daemon restarted after an upgrade would fail to attach, and
// its punted traffic would get the fail mode for as long as it kept failing.
// So the maps that do not fit are set aside and made anew, and the caller
// says which; every map that fits is still reused. A failed attach puts the
// set-aside maps back where they were.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { closeFd, mapInfo, objGet, objPin, openObject, type MapInfo } from './native.js';

type Handle = ReturnType<typeof openObject>;

export interface ObjectOverKeptPins {
  handle: Handle;
  /** Pinned maps that did not fit this build and were made anew, sorted. */
  replaced: string[];
  /** Pins the set-aside maps back (for a failed attach: call after handle.close() and removing the new pins). */
  restore(): void;
  /** Lets the set-aside maps go (for an attach that completed). */
  release(): void;
}

function sameShape(a: MapInfo, b: MapInfo): boolean {
  return a.type === b.type && a.keySize === b.keySize && a.valueSize === b.valueSize && a.maxEntries === b.maxEntries;
}

/** Names of the maps pinned in dir whose shape differs from this build's map of the same name. */
export function pinsThatDoNotFit(dir: string, objectPath?: string): string[] {
  // A private load (nothing pinned) gives this build's maps as the kernel made them.
  const probe = openObject(objectPath ? { objectPath } : {});
  try {
    const misfits: string[] = [];
    for (const [name, fd] of Object.entries(probe.maps)) {
      let pinned: number;
      try {
        pinned = objGet(join(dir, name));
      } catch {
        continue; // not pinned yet: made fresh anyway
      }
      try {
        if (!sameShape(mapInfo(pinned), mapInfo(fd))) misfits.push(name);
      } finally {
        closeFd(pinned);
      }
    }
    return misfits.sort();
  } finally {
    probe.close();
  }
}

export function openObjectOverKeptPins(dir: string, objectPath?: string): ObjectOverKeptPins {
  const open = (): Handle => openObject(objectPath ? { pinDir: dir, objectPath } : { pinDir: dir });
  const nothing = { restore: () => {}, release: () => {} };
  try {
    return { handle: open(), replaced: [], ...nothing };
  } catch (e) {
    if (!(e instanceof SecuxflowError) || e.code !== 'E_KERNEL') throw e;
    let misfits: string[];
    try {
      misfits = pinsThatDoNotFit(dir, objectPath);
    } catch {
      throw e; // the object does not load on its own either: its own error says more
    }
    if (misfits.length === 0) throw e;
    const aside = new Map<string, number>();
    const putBack = (): void => {
      for (const [name, fd] of aside) {
        try {
          objPin(fd, join(dir, name));
        } catch {
          // a pin of that name came back meanwhile: keep it
        }
      }
    };
    const release = (): void => {
      for (const fd of aside.values()) closeFd(fd);
      aside.clear();
    };
    try {
      for (const name of misfits) {
        const path = join(dir, name);
        aside.set(name, objGet(path));
        unlinkSync(path);
      }
      return {
        handle: open(),
        replaced: misfits,
        restore: () => {
          putBack();
          release();
        },
        release,
      };
    } catch (again) {
      putBack();
      release();
      throw again;
    }
  }
}

/**
 * Unpins the maps an older build pinned under names this build no longer
 * has (its IPv4 tries, say): nothing reads them, yet they stayed until a
 * detach and showed among the kept maps. Only `sf_` names are ours to
 * remove; `keep` is this build's maps and program pin. Best effort, once
 * the attach is complete. Returns what it removed, sorted.
 */
export function removeObsoletePins(dir: string, keep: readonly string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith('sf_') || keep.includes(name)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not removable: it stays until detach, as before
    }
  }
  return removed.sort();
}

/** What making `replaced` anew costs the user, for the warning attach and the daemon print. */
export function describeReplacedPins(replaced: readonly string[]): string {
  const lost: Record<string, string> = {
    sf_flows: 'decided flows are inspected again',
    sf_penalty: 'the penalty box starts empty',
    sf_stats: 'counters start from zero',
    sf_rule_counters: 'rule hit counters start from zero',
  };
  const notes = replaced.map((m) => lost[m]).filter((n): n is string => n !== undefined);
  return `maps pinned by another version of secuxflow did not fit this one and were made anew: ${replaced.join(', ')}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}
