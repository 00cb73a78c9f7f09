// The sf_config value (struct sf_config in xdp/secuxflow.h): one u32 word per
// setting (SF_CFG_*) and the header of each rule-set generation, all in the
// single entry of an mmapable array so that a packet reads them with one
// lookup. Writes are single aligned word stores into the map's memory (the
// addon's mapStoreWords), never whole-value updates: processes that set
// different words (a rule swap flipping the generation, the daemon raising a
// verdict switch) cannot undo each other, and the generation flip stays one
// atomic 4-byte store.
import { SecuxflowError } from '../errors.js';
import { RULE_ACTION_CODE } from '../verdict.js';
import { LAYOUT, MapName, SfConfig, decodeRulesetMeta, encodeRulesetMeta, u32Key, type RulesetMeta } from './codec.js';
import { mapLookupInto, nativeAddon } from './native.js';
import type { FailMode } from './attachments.js';

export const CONFIG = { map: MapName.CONFIG, ...SfConfig } as const;

/** SF_CFG_PUNT_FALLBACK value per fail mode: what inspect does with no socket bound. */
export const FAIL_FALLBACK: Record<FailMode, number> = {
  open: RULE_ACTION_CODE.pass,
  closed: RULE_ACTION_CODE.drop,
};

const F = LAYOUT.sf_config.fields;
const zeroKey = u32Key(0);
// One value buffer reused by every read: config access is not concurrent
// (JS is single-threaded) and avoids garbage on status polling.
const valBuf = new Uint8Array(LAYOUT.sf_config.size);
const valView = new DataView(valBuf.buffer);

function readValue(fd: number): boolean {
  return mapLookupInto(fd, zeroKey, valBuf);
}

function storeWords(fd: number, offset: number, bytes: Uint8Array): void {
  const addon = nativeAddon() as { mapStoreWords?: (fd: number, offset: number, bytes: Uint8Array) => void };
  if (!addon.mapStoreWords) throw new SecuxflowError('E_NATIVE_MISSING', 'the native addon predates mmapable config writes', 'rebuild it: npm run build:native');
  try {
    addon.mapStoreWords(fd, offset, bytes);
  } catch (e) {
    // The addon's codes (E_NO_ROOT for EPERM, ...) stand; anything else is
    // most likely a pin left by a version whose sf_config was not mmapable.
    const err = e as Error & { code?: string; hint?: string };
    if (err.code === 'E_NO_ROOT') throw new SecuxflowError('E_NO_ROOT', err.message, err.hint);
    throw new SecuxflowError('E_KERNEL', `writing ${MapName.CONFIG}: ${err.message}`,
      err.hint ?? 'a map pinned by an older secuxflow has another layout: detach, then attach again');
  }
}

/**
 * One word, loaded from the mapped value (no syscall): for hot paths that only
 * check a switch. The mapping is the one writeConfig stores through.
 */
export function loadConfigWord(fd: number, index: number): number {
  const addon = nativeAddon() as { mapLoadWord?: (fd: number, offset: number) => number };
  if (!addon.mapLoadWord) return readConfigValue(fd, index);
  try {
    return addon.mapLoadWord(fd, F.word + 4 * index);
  } catch {
    // Not mappable (an old pin): the lookup reads the same word.
    return readConfigValue(fd, index);
  }
}

export function readConfigValue(fd: number, index: number): number {
  return readValue(fd) ? valView.getUint32(F.word + 4 * index, true) : 0;
}

export function writeConfig(fd: number, index: number, value: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  storeWords(fd, F.word + 4 * index, b);
}

/** The rule-set header of generation gen (packets use the active one's). */
export function readRulesetMeta(fd: number, gen: number): RulesetMeta {
  if (!readValue(fd)) valBuf.fill(0);
  const at = F.ruleset + (gen & 1) * LAYOUT.sf_ruleset_meta.size;
  return decodeRulesetMeta(valBuf.subarray(at, at + LAYOUT.sf_ruleset_meta.size));
}

/** Writes generation gen's header; only ever the inactive generation's, before the flip. */
export function writeRulesetMeta(fd: number, gen: number, meta: RulesetMeta | Uint8Array): void {
  const bytes = meta instanceof Uint8Array ? meta : encodeRulesetMeta(meta);
  storeWords(fd, F.ruleset + (gen & 1) * LAYOUT.sf_ruleset_meta.size, bytes);
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
