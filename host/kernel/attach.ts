// Attaching secuxflow to an interface and detaching it. Attach is all or
// nothing: every step pushes its own undo, and a failure unwinds them in
// reverse, so the interface, the pins and attachments.json end up as before.
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { StateStore } from '../state/store.js';
import type { RuleAction, RuleSet } from '../rules/types.js';
import { ATTACHMENTS_FILE, readAttachments, writeAttachments, type AttachmentRecord, type FailMode, type PolicyName } from './attachments.js';
import { currentNetns, interfaceExists, listInterfaces, resolveIfindex } from './iface.js';
import { closeFd, objGet, objGetReadOnly, objPin, progInfo, xdpAttach, xdpDetach, xdpQuery, type AttachedMode, type XdpMode } from './native.js';
import { assertBpffsWritable, ensurePinDir, pinDir, pinRoot, progPinPath, PROG_PIN_NAME, removePinDir } from './pins.js';
import { assertCanManageXdp } from './privilege.js';
import { assertIfaceName } from './ifname.js';
import { CONFIG, FAIL_FALLBACK, readConfig, readConfigValue, writeConfig } from './config.js';
import { activateGeneration, installRuleSet, POLICY_ACTION, ruleMapFds, ruleSetStamp, stageGeneration, stampRules } from './ruleswap.js';
import { applyRulesTo } from './apply.js';
import { toGenerationImage } from './image.js';
import { MapName } from './codec.js';
import { reconcileFlowsWithRules, type FlowReconcileResult } from './flow-revoke.js';
import type { VerdictMapFds } from './verdictmaps.js';
import { RuleMatcher } from '../rules/match.js';
import { openObjectOverKeptPins, removeObsoletePins } from './kept-pins.js';
import { objectDigest, xdpObjectPath } from './object-digest.js';

export type { AttachmentRecord, FailMode, PolicyName } from './attachments.js';
export type AttachMode = XdpMode;

export interface AttachOptions {
  iface: string;
  mode: AttachMode;
  /**
   * Sets the rule set's default policy (allow = pass, deny = drop) for every
   * interface and for the engine alike; absent keeps the stored one.
   */
  policy?: PolicyName;
  fail: FailMode;
  stateDir: string;
  /** The XDP object to load; defaults to $SECUXFLOW_XDP_OBJECT, then build/xdp/secuxflow.bpf.o. */
  objectPath?: string;
}

export interface AttachResult {
  iface: string;
  ifindex: number;
  requestedMode: AttachMode;
  /** Mode the kernel gave us. */
  mode: AttachedMode;
  /** Why native mode was not used when 'auto' fell back to skb. */
  fallbackReason: string | null;
  /** True when our program was already attached and was replaced in place. */
  reattached: boolean;
  /** What packets no rule matches get: the stored rule set's default policy after this attach. */
  defaultPolicy: RuleAction;
  /** True when this attach changed the stored default policy (and re-applied it everywhere). */
  policyChanged: boolean;
  fail: FailMode;
  /** Rules now in the kernel. */
  rulesApplied: number;
  pinDir: string;
  /** Maps that already were pinned (kept from an earlier attach) and were reused. */
  reusedMaps: string[];
  /** Flows the kept maps had allowed that the rules in force drop, now blocked (host/kernel/flow-revoke.ts). */
  flowsBlocked: number;
  /** Flows the kept maps held blocked by an earlier rule change that the rules in force no longer drop, allowed again. */
  flowsRestored: number;
  /** Kept maps that did not fit this build (pinned by another version) and were made anew (host/kernel/kept-pins.ts). */
  replacedPins: string[];
  /** Pins of maps this build does not have (left by an older version), removed. */
  obsoletePinsRemoved: string[];
  progId: number;
}

export interface DetachOptions {
  iface: string;
  keepMaps: boolean;
  stateDir: string;
  /** Remove a pinned program this state directory has no record of (an interrupted attach). */
  force?: boolean;
}

export interface DetachResult {
  iface: string;
  /** False when the program had already gone (interface deleted, or removed by hand). */
  wasAttached: boolean;
  keptMaps: boolean;
  pinDir: string;
  /** Anything unusual found on the way, for the user. */
  notes: string[];
}

export interface AttachmentStatus extends AttachmentRecord {
  /** True when the kernel still runs our pinned program on the interface. */
  live: boolean;
  /** Why live is false. */
  problem: string | null;
}

type Undo = () => void;

/** Runs the undo steps newest first; an undo that fails must not hide the original error. */
function unwind(undo: Undo[]): void {
  while (undo.length > 0) {
    try {
      undo.pop()!();
    } catch {
      // best effort: keep undoing the rest
    }
  }
}

/** Kernel id of the program pinned in dir, or 0 when none is pinned. */
function pinnedProgId(dir: string): number {
  const path = progPinPath(dir);
  if (!existsSync(path)) return 0;
  let fd = -1;
  try {
    fd = objGetReadOnly(path);
    return progInfo(fd).id;
  } catch {
    return 0;
  } finally {
    if (fd >= 0) closeFd(fd);
  }
}

/**
 * The fail mode a kept attachment was last set to, read from the sf_config
 * map left pinned in dir by `detach --keep-maps` (a daemon's stop), or null
 * when no map is pinned there or it does not read.
 */
export function keptFailMode(dir: string): FailMode | null {
  const path = join(dir, CONFIG.map);
  if (!existsSync(path)) return null;
  let fd = -1;
  try {
    fd = objGetReadOnly(path);
    const fallback = readConfigValue(fd, CONFIG.PUNT_FALLBACK);
    return (Object.keys(FAIL_FALLBACK) as FailMode[]).find((m) => FAIL_FALLBACK[m] === fallback) ?? null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeFd(fd);
  }
}

function removeHint(iface: string, mode: AttachedMode | null): string {
  const kind = mode === 'skb' ? 'xdpgeneric' : mode === 'hw' ? 'xdpoffload' : 'xdpdrv';
  return `remove it first (xdp-loader unload ${iface} --all, or ip link set dev ${iface} ${kind} off), then attach again`;
}

function attachInMode(iface: string, ifindex: number, progFd: number, mode: AttachMode, replace: boolean): { mode: AttachedMode; fallbackReason: string | null } {
  if (mode === 'native') {
    try {
      return { mode: xdpAttach(ifindex, progFd, 'native', { replace }), fallbackReason: null };
    } catch (e) {
      if (e instanceof SecuxflowError && e.code === 'E_KERNEL' && /not supported|errno 95/i.test(e.message)) {
        throw new SecuxflowError('E_KERNEL', `${iface} cannot run XDP in native mode (its driver has no XDP support): ${e.message}`,
          'use --mode skb (generic XDP, slower), or --mode auto to fall back by itself');
      }
      throw e;
    }
  }
  if (mode !== 'auto') return { mode: xdpAttach(ifindex, progFd, mode, { replace }), fallbackReason: null };
  try {
    return { mode: xdpAttach(ifindex, progFd, 'native', { replace }), fallbackReason: null };
  } catch (e) {
    // Only "this driver cannot do native XDP" is worth a fallback; a busy
    // interface or a missing privilege would fail in skb mode too.
    if (e instanceof SecuxflowError && (e.code === 'E_XDP_BUSY' || e.code === 'E_NO_ROOT' || e.code === 'E_NO_IFACE')) throw e;
    const got = xdpAttach(ifindex, progFd, 'skb', { replace });
    return { mode: got, fallbackReason: e instanceof Error ? e.message : String(e) };
  }
}

/** The stored rules with the default policy `--policy` asks for (unchanged when absent). */
export function ruleSetFor(rules: RuleSet, policy: PolicyName | undefined): RuleSet {
  return policy === undefined ? rules : { defaultPolicy: POLICY_ACTION[policy], rules: rules.rules };
}

function policyName(action: RuleAction): PolicyName {
  return action === 'drop' ? 'deny' : 'allow';
}

export async function attach(opts: AttachOptions): Promise<AttachResult> {
  assertCanManageXdp('attach');
  assertIfaceName(opts.iface);
  const ifindex = resolveIfindex(opts.iface);
  const root = pinRoot();
  assertBpffsWritable(root);
  const dir = pinDir(opts.iface, root);
  const netns = currentNetns();
  const store = new StateStore(opts.stateDir);

  return store.withLock(async () => {
    const records = readAttachments(store);
    const elsewhere = records.find((r) => r.iface === opts.iface && r.netns !== netns && r.pinDir === dir);
    if (elsewhere) {
      throw new SecuxflowError(
        'E_XDP_BUSY',
        `secuxflow is already attached to an interface named ${opts.iface} in another network namespace, and both would share the pins in ${dir}`,
        'detach it there first, or give this one its own SECUXFLOW_BPFFS_ROOT and --state-dir',
      );
    }
    const rules = store.readRules();

    const current = xdpQuery(ifindex);
    const oursId = pinnedProgId(dir);
    const ours = current.progId !== 0 && current.progId === oursId;
    const recorded = records.find((r) => r.iface === opts.iface && r.netns === netns && r.pinDir === dir);
    if (current.progId !== 0 && oursId === 0 && recorded?.progId === current.progId) {
      // Our own attachment, its program pin removed by hand: not another tool's program.
      throw new SecuxflowError(
        'E_STATE',
        `secuxflow's program runs on ${opts.iface} as this state directory recorded, but its pin ${progPinPath(dir)} is gone`,
        `secuxflow detach --iface ${opts.iface} (it finds the program by the recorded id), then attach again`,
      );
    }
    if (current.progId !== 0 && !ours) {
      const who = current.progName ? `"${current.progName}" (id ${current.progId})` : `id ${current.progId}`;
      const sibling = current.progName === 'sf_xdp' ? ' It is a secuxflow program pinned elsewhere (another SECUXFLOW_BPFFS_ROOT?).' : '';
      throw new SecuxflowError(
        'E_XDP_BUSY',
        `another XDP program is attached to ${opts.iface}: ${who} in ${current.mode ?? 'unknown'} mode.${sibling}`,
        removeHint(opts.iface, current.mode),
      );
    }

    if (ours && recorded === undefined) {
      // Our program runs here with these pins, but another state directory
      // attached it: re-attaching would swap that state directory's rules
      // for ours under its daemon, and a daemon started here would then
      // fail on the busy queue and detach the interface on its way out.
      throw new SecuxflowError(
        'E_XDP_BUSY',
        `secuxflow is already attached to ${opts.iface} (program id ${current.progId}, pins in ${dir}), but not from the state directory ${store.dir}: its ${ATTACHMENTS_FILE} has no record of it`,
        `use the --state-dir (or SECUXFLOW_STATE_DIR) it was attached with, where its rules and daemon are; if no state directory owns it any more (an interrupted attach), remove it with: secuxflow detach --iface ${opts.iface} --state-dir ${store.dir} --force, then attach again`,
      );
    }

    // Our own attachment, whose program left the link without a detach
    // (removed by hand, or the interface was deleted and made again): the
    // record of this namespace names the pinned program, so the pin is ours
    // to replace.
    const stale = oursId !== 0 && !ours && recorded !== undefined && recorded.progId === oursId;
    if (oursId !== 0 && !ours && !stale) {
      // Our program is pinned here but runs on no interface of this name in
      // this namespace: it belongs to a same-named interface elsewhere (the
      // pin root is shared by all namespaces), or a detach was interrupted.
      throw new SecuxflowError(
        'E_XDP_BUSY',
        `a secuxflow program is pinned in ${dir} but is not attached to ${opts.iface} here; an interface named ${opts.iface} in another network namespace may be using these pins`,
        `detach it where it is attached, or give this namespace its own SECUXFLOW_BPFFS_ROOT; if it is attached nowhere, clean up with: secuxflow detach --iface ${opts.iface} --force`,
      );
    }

    const undo: Undo[] = [];
    let oldProgFd = -1;
    try {
      // Held so that a failed attach pins the stale program back, as it found it.
      if (stale) oldProgFd = objGet(progPinPath(dir));
      const { created } = ensurePinDir(opts.iface, root);
      if (created) undo.push(() => removePinDir(opts.iface, root));

      const objectPath = xdpObjectPath(opts.objectPath);
      const opened = openObjectOverKeptPins(dir, objectPath);
      const handle = opened.handle;
      // Undone newest first: the new pins go, the object closes, then the set-aside maps are pinned back.
      undo.push(() => opened.restore());
      undo.push(() => handle.close());
      if (!created) {
        // Maps that this load pinned fresh must go again; reused ones stay.
        const fresh = Object.keys(handle.maps).filter((m) => !handle.reusedPins.includes(m));
        undo.push(() => {
          for (const m of fresh) unlinkQuiet(`${dir}/${m}`);
        });
      }

      const configFd = handle.maps[CONFIG.map];
      if (configFd === undefined) throw new SecuxflowError('E_KERNEL', `the XDP object has no ${CONFIG.map} map`, 'rebuild it: npm run build:native');
      const before = readConfig(configFd);
      undo.push(() => {
        writeConfig(configFd, CONFIG.PUNT_FALLBACK, before.puntFallback);
        writeConfig(configFd, CONFIG.PASS_ALL, before.passAll);
        writeConfig(configFd, CONFIG.RECORD_LAST, before.recordLast);
      });
      writeConfig(configFd, CONFIG.PUNT_FALLBACK, FAIL_FALLBACK[opts.fail]);
      writeConfig(configFd, CONFIG.RECORD_LAST, 0);

      const effective = ruleSetFor(rules, opts.policy);
      const policyChanged = effective.defaultPolicy !== rules.defaultPolicy;
      const installed = await installRuleSet(handle.maps, effective);
      if (ours && policyChanged) {
        // The maps are live: a failed re-attach must give the running program its old default back.
        undo.push(() => {
          const fds = ruleMapFds(handle.maps);
          activateGeneration(fds, stageGeneration(fds, toGenerationImage(rules, { portIndex: fds.ports !== undefined })));
          stampRules(fds, ruleSetStamp(rules));
        });
      }
      if (policyChanged) {
        // One default policy for the whole rule set: the other interfaces and the stored file follow.
        const others = records.filter((r) => !(r.iface === opts.iface && r.netns === netns));
        await applyRulesTo(others, effective);
        undo.push(() => { void applyRulesTo(others, rules); });
        store.writeRules(effective);
        undo.push(() => store.writeRules(rules));
      }
      // A daemon that stopped fail-open may have left pass-all on; attaching
      // is the user asking for the rules to be enforced again.
      writeConfig(configFd, CONFIG.PASS_ALL, 0);

      const newProgId = progInfo(handle.progFd).id;
      let got: { mode: AttachedMode; fallbackReason: string | null };
      if (ours) {
        oldProgFd = objGet(progPinPath(dir));
        const keptFd = oldProgFd;
        const oldMode: 'native' | 'skb' = current.mode === 'skb' ? 'skb' : 'native';
        if (opts.mode === 'auto' || opts.mode === oldMode) {
          // Same mode: the kernel swaps programs atomically, no packet goes unfiltered.
          got = { mode: xdpAttach(ifindex, handle.progFd, oldMode, { replace: true }), fallbackReason: null };
          undo.push(() => xdpAttach(ifindex, keptFd, oldMode, { replace: true }));
        } else {
          // Native and generic XDP cannot both be active: detach, then attach in the new mode.
          xdpDetach(ifindex, oldMode, current.progId);
          undo.push(() => xdpAttach(ifindex, keptFd, oldMode, { replace: false }));
          got = attachInMode(opts.iface, ifindex, handle.progFd, opts.mode, false);
          undo.push(() => xdpDetach(ifindex, got.mode, newProgId));
        }
      } else {
        got = attachInMode(opts.iface, ifindex, handle.progFd, opts.mode, false);
        undo.push(() => xdpDetach(ifindex, got.mode, newProgId));
      }
      // The pin is how the CLI recognises its own program later, so it must
      // name the program that is attached now.
      const previousPin = oldProgFd;
      unlinkQuiet(progPinPath(dir));
      undo.push(() => {
        unlinkQuiet(progPinPath(dir));
        if (previousPin >= 0) objPin(previousPin, progPinPath(dir));
      });
      objPin(handle.progFd, progPinPath(dir));

      const record: AttachmentRecord = {
        iface: opts.iface,
        ifindex,
        netns,
        mode: got.mode,
        requestedMode: opts.mode,
        policy: policyName(effective.defaultPolicy),
        fail: opts.fail,
        pinDir: dir,
        progId: newProgId,
        time: new Date().toISOString(),
        objectDigest: objectDigest(objectPath),
      };
      writeAttachments(store, [...records.filter((r) => !(r.iface === opts.iface && r.netns === netns)), record]);
      const flows = handle.reusedPins.includes(MapName.FLOWS) ? reconcileKeptFlows(handle.maps, effective) : NO_FLOWS_CHANGED;

      const mapNames = Object.keys(handle.maps);
      handle.close();
      opened.release();
      const obsoletePinsRemoved = removeObsoletePins(dir, [...mapNames, PROG_PIN_NAME]);
      return {
        iface: opts.iface,
        ifindex,
        requestedMode: opts.mode,
        mode: got.mode,
        fallbackReason: got.fallbackReason,
        reattached: ours,
        defaultPolicy: effective.defaultPolicy,
        policyChanged,
        fail: opts.fail,
        rulesApplied: installed.rules,
        pinDir: dir,
        reusedMaps: [...handle.reusedPins].sort(),
        flowsBlocked: flows.blocked,
        flowsRestored: flows.restored,
        replacedPins: opened.replaced,
        obsoletePinsRemoved,
        progId: newProgId,
      };
    } catch (e) {
      unwind(undo);
      throw e;
    } finally {
      if (oldProgFd >= 0) closeQuiet(oldProgFd);
    }
  });
}

/**
 * Kept maps may hold flows allowed under other rules: the rules now in force
 * end those they drop. Best effort, after the attach is made: a failure
 * leaves those flows to run until idle, as before.
 */
const NO_FLOWS_CHANGED: FlowReconcileResult = { blocked: 0, restored: 0 };

function reconcileKeptFlows(maps: Readonly<Record<string, number>>, rules: RuleSet): FlowReconcileResult {
  const [config, flows, penalty] = [maps[MapName.CONFIG], maps[MapName.FLOWS], maps[MapName.PENALTY]];
  if (config === undefined || flows === undefined || penalty === undefined) return NO_FLOWS_CHANGED;
  try {
    return reconcileFlowsWithRules({ [MapName.CONFIG]: config, [MapName.FLOWS]: flows, [MapName.PENALTY]: penalty } as VerdictMapFds, new RuleMatcher(rules));
  } catch {
    return NO_FLOWS_CHANGED;
  }
}

export async function detach(opts: DetachOptions): Promise<DetachResult> {
  assertCanManageXdp('detach');
  assertIfaceName(opts.iface);
  const netns = currentNetns();
  const store = new StateStore(opts.stateDir);
  if (!existsSync(store.dir) && pinnedProgId(pinDir(opts.iface)) === 0) {
    // Taking the lock would create the state directory: refuse before that.
    throw new SecuxflowError('E_NOT_ATTACHED', `secuxflow is not attached to ${opts.iface}`, `the state directory ${store.dir} does not exist; was another --state-dir used at attach?`);
  }

  return store.withLock(async () => {
    const records = readAttachments(store);
    const record = records.find((r) => r.iface === opts.iface && r.netns === netns);
    const dir = record?.pinDir ?? pinDir(opts.iface);
    if (!record && records.some((r) => r.pinDir === dir)) {
      // Those pins belong to a same-named interface in another namespace.
      throw new SecuxflowError(
        'E_NOT_ATTACHED',
        `secuxflow is not attached to ${opts.iface} in this network namespace`,
        'it is attached to an interface of that name in another network namespace: run detach there (ip netns exec NAME secuxflow detach ...)',
      );
    }
    const root = dirname(dir);
    const pinnedId = pinnedProgId(dir);
    if (!record && pinnedId === 0 && !opts.keepMaps && existsSync(dir)) {
      // Maps kept by an earlier `detach --keep-maps` (nothing attached, no
      // record): this is how they are dropped, before an upgrade for one.
      assertBpffsWritable(root);
      removePinDir(opts.iface, root);
      return { iface: opts.iface, wasAttached: false, keptMaps: false, pinDir: dir, notes: [`nothing was attached to ${opts.iface}; the maps an earlier detach --keep-maps kept were removed`] };
    }
    if (!record && pinnedId === 0) {
      const other = records.find((r) => r.iface === opts.iface);
      throw new SecuxflowError(
        'E_NOT_ATTACHED',
        `secuxflow is not attached to ${opts.iface}` + (other ? ' in this network namespace' : ''),
        other
          ? `it is attached to an interface of that name in another network namespace: run detach there (ip netns exec NAME secuxflow detach ...)`
          : records.length > 0
            ? `from ${store.dir} it is attached to ${records.map((r) => r.iface).join(', ')}; another state directory's attachments need its --state-dir`
            : `nothing is attached from ${store.dir}; if it was attached with another state directory, pass its --state-dir`,
      );
    }

    if (!record && opts.force !== true) {
      // Pinned and maybe running, but attached from no record here: most
      // likely from another state directory, whose daemon would go on
      // running with no XDP program and see no packets.
      throw new SecuxflowError(
        'E_NOT_ATTACHED',
        `secuxflow's program (id ${pinnedId}, pins in ${dir}) was not attached to ${opts.iface} from the state directory ${store.dir}: its ${ATTACHMENTS_FILE} has no record of it`,
        `detach with the --state-dir (or SECUXFLOW_STATE_DIR) it was attached with, so its daemon is asked first; if no state directory owns it any more (an interrupted attach), remove it with: secuxflow detach --iface ${opts.iface} --state-dir ${store.dir} --force`,
      );
    }

    // Before the program comes off the link: the pins must be removable too.
    if (existsSync(dir)) assertBpffsWritable(root);
    const notes: string[] = [];
    let wasAttached = false;
    // The interface may have been renamed since attach: its recorded ifindex still finds it.
    let name = interfaceExists(opts.iface) ? opts.iface : null;
    if (name === null && record !== undefined) {
      name = interfaceByIndex(record.ifindex);
      if (name !== null) notes.push(`${opts.iface} is now called ${name}`);
    }
    if (name !== null) {
      const ifindex = resolveIfindex(name);
      const current = xdpQuery(ifindex);
      // Ours is the pinned program, or, when the pins were removed or the bpffs
      // unmounted, the one recorded at attach: left behind, it would go on
      // filtering with rules no command could reach any more.
      const recorded = record !== undefined && current.progId === record.progId;
      if (current.progId !== 0 && (current.progId === pinnedId || recorded)) {
        xdpDetach(ifindex, current.mode ?? record?.mode ?? 'skb', current.progId);
        wasAttached = true;
        if (current.progId !== pinnedId) notes.push(`its pins in ${dir} were gone; the program was found by the id recorded at attach (${current.progId}) and removed`);
      } else if (current.progId !== 0) {
        notes.push(`another XDP program (${current.progName || 'unnamed'}, id ${current.progId}) is attached to ${name} now; it was left alone`);
      } else {
        notes.push(`no XDP program was attached to ${name} any more`);
      }
    } else {
      notes.push(`interface ${opts.iface} no longer exists; its XDP program went with it`);
    }

    if (existsSync(dir)) {
      if (opts.keepMaps) unlinkQuiet(progPinPath(dir));
      else removePinDir(opts.iface, root);
    }
    try {
      writeAttachments(store, records.filter((r) => r !== record));
    } catch (e) {
      // The kernel side is done and cannot be put back usefully: say so, and
      // how to finish (a second detach finds nothing attached and drops the record).
      const err = e instanceof SecuxflowError ? e : new SecuxflowError('E_STATE', (e as Error).message);
      const done = `${wasAttached ? `the XDP program was removed from ${opts.iface}` : `nothing was attached to ${opts.iface}`}${opts.keepMaps ? '' : ` and ${dir} was unpinned`}`;
      throw new SecuxflowError(err.code, `${done}, but ${ATTACHMENTS_FILE} still lists it: ${err.message}`,
        `${err.hint ? `${err.hint}; then ` : ''}run detach --iface ${opts.iface} again to drop the record`);
    }
    return { iface: opts.iface, wasAttached, keptMaps: opts.keepMaps, pinDir: dir, notes };
  });
}

/** The recorded attachments, each checked against what the kernel runs now. */
export function listAttachments(stateDir: string): AttachmentStatus[] {
  const store = new StateStore(stateDir);
  const netns = currentNetns();
  // The stored rule set is the authority on the default policy: a record's
  // copy is as old as its attach (rule default, rule import and another
  // interface's --policy change it since).
  const policy = storedPolicy(store);
  return readAttachments(store).map((r) => {
    const problem = attachmentProblem(r, netns);
    return { ...r, policy: policy ?? r.policy, live: problem === null, problem };
  });
}

function storedPolicy(store: StateStore): PolicyName | null {
  try {
    return policyName(store.readRules().defaultPolicy);
  } catch {
    return null; // a rules file that does not read is reported by the commands that need it
  }
}

function attachmentProblem(r: AttachmentRecord, netns: number): string | null {
  const pinnedId = pinnedProgId(r.pinDir);
  if (pinnedId === 0) {
    // The program pin alone may have gone (removed by hand); the maps left beside it are there to see.
    const mapsLeft = existsSync(r.pinDir) && readdirSync(r.pinDir).length > 0;
    return mapsLeft ? `the program pin ${progPinPath(r.pinDir)} is gone (the maps are still pinned)` : `nothing is pinned in ${r.pinDir}`;
  }
  if (r.netns !== netns) return 'attached in another network namespace; cannot be checked from here';
  if (!interfaceExists(r.iface)) return `interface ${r.iface} no longer exists`;
  let current;
  try {
    current = xdpQuery(resolveIfindex(r.iface));
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (current.progId === 0) return `no XDP program is attached to ${r.iface}`;
  if (current.progId !== pinnedId) return `another XDP program (${current.progName || 'unnamed'}, id ${current.progId}) is attached to ${r.iface}`;
  return null;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function closeQuiet(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // nothing useful to do
  }
}

/** The name of the interface with this index in the current namespace, or null. */
function interfaceByIndex(ifindex: number): string | null {
  for (const name of listInterfaces()) {
    try {
      if (resolveIfindex(name) === ifindex) return name;
    } catch {
      // gone between the listing and the lookup
    }
  }
  return null;
}
