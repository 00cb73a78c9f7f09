// What `status` can say when no daemon runs: the recorded attachments, each
// checked against the kernel, and the kernel's own counters and map
// occupancy read through the pins, so a stopped daemon's fail policy is visible.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listAttachments, type AttachmentStatus } from '../kernel/attach.js';
import { MapName, SF, SfConfig } from '../kernel/codec.js';
import { closeFd, mapDump, nativeAvailable, objGetReadOnly } from '../kernel/native.js';
import { readConfigValue } from '../kernel/config.js';
import { kernelPacketCounts, readStats, type KernelPacketCounts } from '../kernel/verdictmaps.js';
import { codedMessage } from '../errors.js';
import { StateStore } from '../state/store.js';
import { pinRoot, PROG_PIN_NAME } from '../kernel/pins.js';

export interface OfflineInterface extends AttachmentStatus {
  kernel: (KernelPacketCounts & { passAll: boolean; flows: number; penalty: number }) | null;
  kernelError: string | null;
}

export interface OfflineStatus {
  /** The state directory asked, and whether it exists: a missing one is usually a --state-dir that is not the daemon's. */
  daemon: { running: false; stateDir: string; stateDirExists: boolean };
  interfaces: OfflineInterface[];
  /** null when rules.json cannot be read; rulesError then says why. */
  rules: { count: number; defaultPolicy: string } | null;
  rulesError: string | null;
  /**
   * Maps left pinned with no program (a daemon's stop with on_stop: detach,
   * or detach --keep-maps): the next run or attach on the interface reuses
   * their flow verdicts and penalty box. The pin root is shared, so these
   * may be another state directory's.
   */
  keptMaps: KeptMaps[];
  flowsMax: number;
  penaltyMax: number;
}

export interface KeptMaps {
  iface: string;
  pinDir: string;
  /** Entries in the kept maps; null when they cannot be read. */
  flows: number | null;
  penalty: number | null;
}

function keptMaps(attached: readonly AttachmentStatus[]): KeptMaps[] {
  const root = pinRoot();
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return [];
  }
  const kept: KeptMaps[] = [];
  for (const iface of names) {
    const dir = join(root, iface);
    if (attached.some((a) => a.pinDir === dir) || existsSync(join(dir, PROG_PIN_NAME)) || !existsSync(join(dir, MapName.FLOWS))) continue;
    const count = (name: string): number | null => {
      try {
        return withFd(join(dir, name), (fd) => mapDump(fd).count);
      } catch {
        return null;
      }
    };
    kept.push({ iface, pinDir: dir, flows: count(MapName.FLOWS), penalty: count(MapName.PENALTY) });
  }
  return kept;
}

function withFd<T>(path: string, fn: (fd: number) => T): T {
  const fd = objGetReadOnly(path);
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}

export function offlineStatus(stateDir: string): OfflineStatus {
  const store = new StateStore(stateDir);
  let rules: OfflineStatus['rules'] = null;
  let rulesError: string | null = null;
  // The rest of the status is still worth showing, so the problem is reported, not thrown.
  try {
    const r = store.readRules();
    rules = { count: r.rules.length, defaultPolicy: r.defaultPolicy };
  } catch (e) {
    rulesError = codedMessage(e);
  }
  const stateDirExists = existsSync(store.dir);
  const attachments = stateDirExists && nativeAvailable() ? listAttachments(stateDir) : [];
  const interfaces = attachments.map((a): OfflineInterface => {
    try {
      const stats = withFd(join(a.pinDir, MapName.STATS), readStats);
      return {
        ...a,
        kernel: {
          ...kernelPacketCounts(stats),
          passAll: withFd(join(a.pinDir, MapName.CONFIG), (fd) => readConfigValue(fd, SfConfig.PASS_ALL)) === 1,
          flows: withFd(join(a.pinDir, MapName.FLOWS), (fd) => mapDump(fd).count),
          penalty: withFd(join(a.pinDir, MapName.PENALTY), (fd) => mapDump(fd).count),
        },
        kernelError: null,
      };
    } catch (e) {
      return { ...a, kernel: null, kernelError: e instanceof Error ? e.message : String(e) };
    }
  });
  const kept = nativeAvailable() ? keptMaps(attachments) : [];
  return { daemon: { running: false, stateDir: store.dir, stateDirExists }, interfaces, rules, rulesError, keptMaps: kept, flowsMax: SF.MAX_FLOWS, penaltyMax: SF.MAX_PENALTY };
}
