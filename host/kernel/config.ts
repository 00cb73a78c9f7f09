// The sf_config array (SF_CFG_* in xdp/secuxflow.h): one u32 per setting.
// Each write is a single map update, which is what makes the generation flip
// atomic for packets.
import { RULE_ACTION_CODE } from '../verdict.js';
import { MapName, SfConfig } from './codec.js';
import { mapLookupInto, mapUpdate } from './native.js';
import type { FailMode } from './attachments.js';

export const CONFIG = { map: MapName.CONFIG, ...SfConfig } as const;

/** SF_CFG_PUNT_FALLBACK value per fail mode: what inspect does with no socket bound. */
export const FAIL_FALLBACK: Record<FailMode, number> = {
  open: RULE_ACTION_CODE.pass,
  closed: RULE_ACTION_CODE.drop,
};

// One key and one value buffer reused by every call: config access is not
// concurrent (JS is single-threaded) and avoids garbage on status polling.
const keyBuf = new Uint8Array(4);
const keyView = new DataView(keyBuf.buffer);
const valBuf = new Uint8Array(4);
const valView = new DataView(valBuf.buffer);

export function readConfigValue(fd: number, index: number): number {
  keyView.setUint32(0, index, true);
  return mapLookupInto(fd, keyBuf, valBuf) ? valView.getUint32(0, true) : 0;
}

export function writeConfig(fd: number, index: number, value: number): void {
  keyView.setUint32(0, index, true);
  valView.setUint32(0, value >>> 0, true);
  mapUpdate(fd, keyBuf, valBuf);
}

export interface ConfigSnapshot {
  activeGen: number;
  passAll: number;
  puntFallback: number;
  recordLast: number;
}

export function readConfig(fd: number): ConfigSnapshot {
  return {
    activeGen: readConfigValue(fd, CONFIG.ACTIVE_GEN) & 1,
    passAll: readConfigValue(fd, CONFIG.PASS_ALL),
    puntFallback: readConfigValue(fd, CONFIG.PUNT_FALLBACK),
    recordLast: readConfigValue(fd, CONFIG.RECORD_LAST),
  };
}
