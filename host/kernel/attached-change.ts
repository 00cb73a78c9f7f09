// An operator's change to the verdict maps (penalty box, flow verdicts) of
// every attached interface, made through the pins, all or none: when one
// interface refuses it, the ones already changed get their old entries
// back, so no source or flow ends up decided on half of a bridge.
import { listAttachments } from './attach.js';
import { mapDelete, mapUpdate } from './native.js';
import { openPinnedVerdictMaps, refreshActiveSwitches, type VerdictMapFds } from './verdictmaps.js';
import { SecuxflowError, codedMessage } from '../errors.js';

/** One entry of one map before a change: written back (or deleted when it was absent) if a later interface refuses. */
export interface Undo {
  fds: VerdictMapFds;
  /** The map's fd, one of fds'. */
  map: number;
  key: Uint8Array;
  before: Uint8Array | null;
}

export interface AttachedChange {
  /** Interfaces that took the change. */
  ifaces: string[];
}

/** The recorded interfaces' pin directories; none recorded is an error for a change, with what to do. */
export function requireAttached(stateDir: string, what: string): { iface: string; pinDir: string }[] {
  const dirs = listAttachments(stateDir).map((a) => ({ iface: a.iface, pinDir: a.pinDir }));
  if (dirs.length === 0) {
    throw new SecuxflowError('E_NOT_ATTACHED', `nothing is attached with state directory ${stateDir}: ${what} lives in an attached interface's maps`,
      'attach first (secuxflow attach --iface IF, or secuxflow run --iface IF), or give the daemon\'s --state-dir');
  }
  return dirs;
}

/**
 * Writes the entries back as they were, newest change first, then sets each
 * interface's lookup switches from what its maps hold: the change may have
 * lowered one when it emptied the map whose entries come back here.
 */
function putBack(undo: Undo[]): void {
  for (const u of [...undo].reverse()) {
    try {
      if (u.before) mapUpdate(u.map, u.key, u.before);
      else mapDelete(u.map, u.key);
    } catch {
      // best effort: the caller's error names the interface that refused
    }
  }
  for (const fds of new Set(undo.map((u) => u.fds))) {
    try {
      refreshActiveSwitches(fds);
    } catch {
      // as above
    }
  }
}

/**
 * Opens every attached interface's verdict maps, runs `change` on each, and
 * closes them. `change` records in `undo` each entry before it touches it. A
 * change that throws on one interface is undone on the ones before it, then
 * rethrown naming it. `holder` names the maps for the nothing-attached error.
 */
export function changeEverywhere(stateDir: string, holder: string, what: string, change: (fds: VerdictMapFds, undo: Undo[], iface: string) => void): AttachedChange {
  const dirs = requireAttached(stateDir, holder);
  const opened: (VerdictMapFds & { close(): void })[] = [];
  const undo: Undo[] = [];
  const ifaces: string[] = [];
  try {
    for (const { iface, pinDir } of dirs) {
      try {
        const fds = openPinnedVerdictMaps(pinDir);
        opened.push(fds);
        change(fds, undo, iface);
      } catch (e) {
        putBack(undo);
        throw new SecuxflowError(e instanceof SecuxflowError ? e.code : 'E_KERNEL', `${what} on ${iface} failed, so no interface was changed: ${codedMessage(e)}`,
          e instanceof SecuxflowError ? e.hint : undefined);
      }
      ifaces.push(iface);
    }
    return { ifaces };
  } finally {
    for (const fds of opened) fds.close();
  }
}
