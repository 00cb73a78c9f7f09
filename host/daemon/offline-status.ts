// What `status` can say when no daemon runs: the recorded attachments, each
// checked against the kernel, and the kernel's own counters and map
// occupancy read through the pins, so a stopped daemon's fail policy is visible.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listAttachments, type AttachmentStatus } from '../kernel/attach.js';
import { MapName, SF, SfConfig } from '../kernel/codec.js';
import { closeFd, mapDump, nativeAvailable, objGetReadOnly } from '../kernel/native.js';
import { readConfigValue } from '../kernel/config.js';
import { kernelPacketCounts, readStats, type KernelPacketCounts } from '../kernel/verdictmaps.js';
import { codedMessage } from '../errors.js';
import { StateStore } from '../state/store.js';

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
  flowsMax: number;
  penaltyMax: number;
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
  return { daemon: { running: false, stateDir: store.dir, stateDirExists }, interfaces, rules, rulesError, flowsMax: SF.MAX_FLOWS, penaltyMax: SF.MAX_PENALTY };
}
