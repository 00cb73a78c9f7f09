// The kernel penalty box (sf_penalty) of every attached interface, read and
// changed through its pins: what `secuxflow block` shows and edits. Entries
// carry a CLOCK_MONOTONIC deadline; the program ignores a past one and the
// daemon's sweep deletes it. Changes go to every attached interface or none
// (attached-change.ts).
import { changeEverywhere, type AttachedChange, type Undo } from './attached-change.js';
import { LAYOUT, MapName, decodePenaltyKey, decodePenaltyMeta, encodePenaltyKey } from './codec.js';
import { mapDelete, mapDump, mapLookup } from './native.js';
import { dumpAttachedMaps } from './attached-dumps.js';
import { refreshActiveSwitches, writePenalty, type VerdictMapFds } from './verdictmaps.js';
import { penaltyEntryName } from './penalty-entry.js';

export interface BlockedSource {
  addr: string;
  /** Seconds until the kernel stops dropping it (the latest over the interfaces). */
  expiresInSec: number;
  /** Packets the kernel dropped for it, summed over the interfaces (advisory: counted racily across CPUs). */
  hits: number;
  ifaces: string[];
}

export interface BlockedSourcesList {
  /** Interfaces whose penalty box was read. */
  ifaces: string[];
  sources: BlockedSource[];
  /** Entries past their deadline that no sweep has removed yet (the program ignores them). */
  expired: number;
  /** Interfaces whose maps could not be read, and why. */
  unreadable: { iface: string; error: string }[];
}

/** Interfaces whose penalty box took the change. */
export type PenaltyChange = AttachedChange;

const PENALTY_BOX = 'the penalty box';

function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function listBlockedSources(stateDir: string): BlockedSourcesList {
  const now = nowNs();
  const bySource = new Map<string, BlockedSource>();
  const out: BlockedSourcesList = { ifaces: [], sources: [], expired: 0, unreadable: [] };
  const { dumps, unreadable } = dumpAttachedMaps(stateDir, MapName.PENALTY);
  out.unreadable = unreadable;
  for (const { iface, dump } of dumps) {
    out.ifaces.push(iface);
    const kSize = LAYOUT.sf_penalty_key.size;
    const vSize = LAYOUT.sf_penalty_meta.size;
    for (let i = 0; i < dump.count; i++) {
      const meta = decodePenaltyMeta(dump.values.subarray(i * vSize, (i + 1) * vSize));
      if (meta.expiresNs <= now) {
        out.expired++;
        continue;
      }
      const addr = penaltyEntryName(decodePenaltyKey(dump.keys.subarray(i * kSize, (i + 1) * kSize)));
      const expiresInSec = Math.ceil(Number(meta.expiresNs - now) / 1e9);
      const seen = bySource.get(addr);
      if (seen) {
        seen.hits += meta.hits;
        seen.ifaces.push(iface);
        if (expiresInSec > seen.expiresInSec) seen.expiresInSec = expiresInSec;
      } else {
        bySource.set(addr, { addr, expiresInSec, hits: meta.hits, ifaces: [iface] });
      }
    }
  }
  out.sources = [...bySource.values()].sort((a, b) => b.expiresInSec - a.expiresInSec || a.addr.localeCompare(b.addr));
  return out;
}

/** addr's entry in a box now (before: null when absent), to put back if a later interface refuses the change. */
function entryOf(fds: VerdictMapFds, addr: Uint8Array): Undo {
  const key = encodePenaltyKey(addr);
  return { fds, map: fds.sf_penalty, key, before: mapLookup(fds.sf_penalty, key, LAYOUT.sf_penalty_meta.size) };
}

/** Drops `addr` in the kernel of every attached interface for ttlSec from now. */
export function blockSource(stateDir: string, addr: Uint8Array, ttlSec: number): PenaltyChange {
  const expires = nowNs() + BigInt(ttlSec) * 1_000_000_000n;
  return changeEverywhere(stateDir, PENALTY_BOX, `blocking ${penaltyEntryName(addr)}`, (fds, undo) => {
    undo.push(entryOf(fds, addr));
    writePenalty(fds, addr, expires);
  });
}

export interface ReleaseResult extends PenaltyChange {
  /** The sources that were in some interface's box, live or expired. */
  released: string[];
}

/**
 * Takes sources out of the penalty box of every attached interface: the
 * given ones, or all when `addrs` is null. The lookup switch is lowered when
 * a box is left empty (safe beside a running daemon's writers).
 */
export function releaseSources(stateDir: string, addrs: Uint8Array[] | null): ReleaseResult {
  const released = new Set<string>();
  const change = changeEverywhere(stateDir, PENALTY_BOX, addrs === null ? 'clearing the penalty box' : `releasing ${addrs.map(penaltyEntryName).join(', ')}`, (fds, undo) => {
    for (const entry of addrs === null ? entriesOf(fds) : addrs.map((a) => entryOf(fds, a))) {
      if (entry.before === null) continue;
      undo.push(entry);
      // Named as the kernel holds it: ::ffff:a.b.c.d and a.b.c.d are one entry.
      if (mapDelete(fds.sf_penalty, entry.key)) released.add(penaltyEntryName(decodePenaltyKey(entry.key)));
    }
    refreshActiveSwitches(fds);
  });
  return { ...change, released: [...released] };
}

/** Every entry of a box with its value, as one dump read them (no second lookup per key). */
function entriesOf(fds: VerdictMapFds): Undo[] {
  const dump = mapDump(fds.sf_penalty);
  const kSize = LAYOUT.sf_penalty_key.size;
  const vSize = LAYOUT.sf_penalty_meta.size;
  const out: Undo[] = [];
  for (let i = 0; i < dump.count; i++) {
    out.push({ fds, map: fds.sf_penalty, key: dump.keys.slice(i * kSize, (i + 1) * kSize), before: dump.values.slice(i * vSize, (i + 1) * vSize) });
  }
  return out;
}
