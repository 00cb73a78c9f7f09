// The state directory: rules.json and the other small JSON files the CLI and
// the daemon share. Every file is `{ "version": 1, ... }`, replaced atomically,
// and a file that does not parse is reported, never overwritten.
import { join, resolve } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { ruleSetToJson, validateRuleSet } from '../rules/parse.js';
import { sortRules } from '../rules/match.js';
import type { RuleSet } from '../rules/types.js';
import { writeFileAtomic } from './atomic.js';
import { STATE_FILE_VERSION } from './version.js';

export { STATE_FILE_VERSION };
import { acquireLock } from './lock.js';
import { ELSEWHERE, stateDirHint } from './hints.js';
import { makeDirs, unmakeDirs } from '../fs/make-dirs.js';
import { FileTooLarge, NotARegularFile, readRegularFile } from '../fs/read-regular.js';

export const DEFAULT_STATE_DIR = '/var/lib/secuxflow';
export const RULES_FILE = 'rules.json';
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** Far above any real state file (8,192 rules are ~3 MB), so a device or a runaway file is refused, not read forever. */
export const MAX_STATE_FILE_BYTES = 64 << 20;

/** `--state-dir` > `$SECUXFLOW_STATE_DIR` > /var/lib/secuxflow. */
export function resolveStateDir(dir?: string): string {
  // `--state-dir "$UNSET"` must not quietly mean the system's own state.
  if (dir !== undefined && dir.trim() === '') {
    throw new SecuxflowError('E_USAGE', '--state-dir is empty', `give a directory, or leave --state-dir out to use $SECUXFLOW_STATE_DIR or ${DEFAULT_STATE_DIR}`);
  }
  const chosen = dir !== undefined ? dir : process.env.SECUXFLOW_STATE_DIR || DEFAULT_STATE_DIR;
  return resolve(chosen);
}

export interface StateStoreOptions {
  /** How long withLock waits for another holder before failing with E_STATE. */
  lockTimeoutMs?: number;
}

export function recoverHint(path: string): string {
  return `secuxflow never overwrites it: fix it by hand, or move it away (mv ${path} ${path}.bad) to start from an empty state`;
}

export class StateStore {
  readonly dir: string;
  private readonly lockTimeoutMs: number;

  constructor(dir?: string, options: StateStoreOptions = {}) {
    this.dir = resolveStateDir(dir);
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Creates the directory and its missing parents if needed (one level at a
   * time: see makeDirs); E_STATE says what is in the way. Returns the levels it made.
   */
  ensureDir(): string[] {
    return makeDirs(this.dir, { what: 'state directory', code: 'E_STATE', mode: 0o755, rootHelps: true, instead: `choose a writable directory ${ELSEWHERE}` });
  }

  /**
   * Runs fn while holding the directory's lock, so a read-modify-write by one
   * process cannot interleave with another's. Not re-entrant. When fn fails,
   * the levels of the directory made for the lock are removed again.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const made = this.ensureDir();
    try {
      const lock = await acquireLock(this.dir, this.lockTimeoutMs);
      try {
        return await fn();
      } finally {
        lock.release();
      }
    } catch (e) {
      // A refused command changes nothing: the directory it made only to hold the lock goes again.
      unmakeDirs(made);
      throw e;
    }
  }

  /** The stored object without its `version` field, or `fallback` when the file does not exist. */
  readJson<T>(name: string, fallback: T): T {
    const path = this.path(name);
    let text: string;
    try {
      text = readRegularFile(path, MAX_STATE_FILE_BYTES).toString('utf8');
    } catch (e) {
      if (e instanceof NotARegularFile) throw new SecuxflowError('E_STATE', `state file ${path} is ${e.kind}, not a regular file`, recoverHint(path));
      if (e instanceof FileTooLarge) throw new SecuxflowError('E_STATE', `state file ${path} is ${e.exact ? '' : 'at least '}${e.size} bytes, more than any secuxflow writes (${MAX_STATE_FILE_BYTES})`, recoverHint(path));
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return fallback;
      throw new SecuxflowError('E_STATE', `cannot read state file ${path}: ${code ?? String(e)}`, stateDirHint(code ?? '', 'another directory'));
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new SecuxflowError('E_STATE', `state file ${path} is corrupt: ${e instanceof Error ? e.message : String(e)}`, recoverHint(path));
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new SecuxflowError('E_STATE', `state file ${path} is corrupt: expected a JSON object`, recoverHint(path));
    }
    const { version, ...rest } = doc as Record<string, unknown>;
    if (version !== STATE_FILE_VERSION) {
      if (typeof version === 'number' && version > STATE_FILE_VERSION) {
        throw new SecuxflowError('E_STATE', `state file ${path} has version ${version}, written by a newer secuxflow (this one reads version ${STATE_FILE_VERSION})`,
          'upgrade secuxflow, or use another --state-dir');
      }
      throw new SecuxflowError('E_STATE', `state file ${path} is corrupt: "version" is ${JSON.stringify(version) ?? 'missing'}, expected ${STATE_FILE_VERSION}`, recoverHint(path));
    }
    return rest as T;
  }

  /**
   * Replaces the file atomically with `{ "version": 1, ...value }`. An existing
   * file that is corrupt or of a newer version is refused (E_STATE), so what a
   * user may still want to recover is never overwritten behind their back.
   */
  writeJson(name: string, value: object): void {
    this.readJson<unknown>(name, null);
    this.ensureDir();
    const doc = { version: STATE_FILE_VERSION, ...value };
    writeFileAtomic(this.path(name), `${JSON.stringify(doc, null, 2)}\n`);
  }

  /** The stored rule set; a missing file is an empty set with the 'pass' default. */
  readRules(): RuleSet {
    const doc = this.readJson<unknown>(RULES_FILE, null);
    if (doc === null) return { defaultPolicy: 'pass', rules: [] };
    const path = this.path(RULES_FILE);
    try {
      return validateRuleSet(doc, path);
    } catch (e) {
      if (!(e instanceof SecuxflowError)) throw e;
      throw new SecuxflowError('E_STATE', `state file ${path} holds an invalid rule set: ${e.message}`, recoverHint(path));
    }
  }

  /** Stores the rule set in evaluation order; callers doing read-modify-write hold withLock. */
  writeRules(set: RuleSet): void {
    this.writeJson(RULES_FILE, ruleSetToJson({ defaultPolicy: set.defaultPolicy, rules: sortRules(set.rules) }));
  }
}
