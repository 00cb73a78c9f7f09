// Where the kernel state of each attached interface lives in bpffs:
//   <root>/<ifname>/   one directory per interface, holding every map pinned
//                      by its name from xdp/secuxflow.h (and the program).
// <root> is /sys/fs/bpf/secuxflow unless SECUXFLOW_BPFFS_ROOT says otherwise,
// which lets parallel tests use private roots that never collide.
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statfsSync } from 'node:fs';
import { makeDirs } from '../fs/make-dirs.js';
import { dirname, join, resolve } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { assertIfaceName } from './ifname.js';
import { PROG_NAME } from './codec.js';

export const DEFAULT_BPFFS_ROOT = '/sys/fs/bpf/secuxflow';
/** The program is pinned under its function name (SF_PROG_NAME in xdp/secuxflow.h), beside the maps. */
export const PROG_PIN_NAME = PROG_NAME;
const BPF_FS_MAGIC = 0xcafe4a11;
const SYSFS_MAGIC = 0x62656572;

export function pinRoot(): string {
  const fromEnv = process.env.SECUXFLOW_BPFFS_ROOT;
  return fromEnv && fromEnv.length > 0 ? resolve(fromEnv) : DEFAULT_BPFFS_ROOT;
}

export function pinDir(ifname: string, root: string = pinRoot()): string {
  assertIfaceName(ifname);
  return join(root, ifname);
}

/**
 * Throws E_NO_BPFFS unless `root` is (or would be created) inside a mounted
 * bpffs. The check looks at the nearest existing ancestor, because pinning
 * into a plain directory fails later with an opaque EPERM.
 */
export function assertBpffs(root: string = pinRoot()): void {
  const probe = nearestExisting(root);
  let type: number;
  try {
    type = Number(statfsSync(probe).type);
  } catch (e) {
    throw new SecuxflowError('E_NO_BPFFS', `cannot check the bpffs at ${probe}: ${(e as Error).message}`, mountHint(root));
  }
  if (type === BPF_FS_MAGIC) return;
  const where = probe === root ? root : `${root} (its existing parent ${probe})`;
  const hint =
    type === SYSFS_MAGIC && probe.startsWith('/sys')
      ? `${mountHint(root)}; inside "ip netns exec" /sys is remounted and bpffs hidden: run under "nsenter --net=/run/netns/NS" instead, or point SECUXFLOW_BPFFS_ROOT at a bpffs mounted outside /sys`
      : mountHint(root);
  throw new SecuxflowError('E_NO_BPFFS', `bpffs is not mounted at ${where}`, hint);
}

/**
 * assertBpffs, and E_BPFFS_READONLY when that bpffs is mounted read-only.
 * Commands that pin, unpin or write maps check this before they change
 * anything: on a read-only bpffs the kernel refuses every read-write open of
 * a pin, so they would otherwise fail halfway (detach, for one, after the
 * program was already off the link).
 */
export function assertBpffsWritable(root: string = pinRoot()): void {
  assertBpffs(root);
  refuseReadOnly(root);
}

/** E_BPFFS_READONLY when the filesystem holding `root` is mounted read-only; other problems are left to the calls that meet them. */
export function refuseReadOnly(root: string): void {
  const probe = nearestExisting(root);
  try {
    accessSync(probe, constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EROFS') return; // permissions are checked by the kernel calls themselves
    const mount = mountPointOf(probe);
    throw new SecuxflowError('E_BPFFS_READONLY', `the bpffs at ${mount} is mounted read-only, so secuxflow cannot change its pins or maps${mount === root ? '' : ` in ${root}`}`,
      `remount it read-write: mount -o remount,rw ${mount}`);
  }
}

function nearestExisting(path: string): string {
  let probe = path;
  while (!existsSync(probe)) {
    const up = dirname(probe);
    if (up === probe) break;
    probe = up;
  }
  return probe;
}

/** The longest mount point in /proc/self/mounts that holds `path` (the path itself when unreadable). */
function mountPointOf(path: string): string {
  let best = '';
  try {
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const at = line.split(' ')[1];
      if (at === undefined) continue;
      const dir = at.replace(/\\040/g, ' ');
      if ((path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) && dir.length > best.length) best = dir;
    }
  } catch {
    // no /proc: name the path itself
  }
  return best || path;
}

function mountHint(root: string): string {
  return root.startsWith('/sys/fs/bpf')
    ? 'mount it with: mount -t bpf bpf /sys/fs/bpf'
    : `mount a bpffs there with: mkdir -p ${root} && mount -t bpf bpf ${root}`;
}

/** Creates the interface's pin directory; `created` tells the caller whether to remove it on rollback. */
export function ensurePinDir(ifname: string, root: string = pinRoot()): { dir: string; created: boolean } {
  assertBpffs(root);
  const dir = pinDir(ifname, root);
  const created = !existsSync(dir);
  makeDirs(dir, { what: 'the pin directory', instead: 'check that bpffs is writable', code: 'E_KERNEL', mode: 0o700, rootHelps: true });
  return { dir, created };
}

export function progPinPath(dir: string): string {
  return join(dir, PROG_PIN_NAME);
}

/** Names pinned in the interface's directory (empty when it does not exist). */
export function listPins(ifname: string, root: string = pinRoot()): string[] {
  const dir = pinDir(ifname, root);
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * Unpins everything of one interface and removes its directory. Unpinning only
 * drops the bpffs reference: maps the attached program still uses stay alive
 * until it is detached.
 */
export function removePinDir(ifname: string, root: string = pinRoot()): void {
  const dir = pinDir(ifname, root);
  if (!existsSync(dir)) return;
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    throw new SecuxflowError('E_KERNEL', `cannot remove the pins in ${dir}: ${(e as Error).message}`, `remove them by hand: rm -r ${dir}`);
  }
  // The root is shared by all interfaces; drop it only once it is empty.
  try {
    rmdirSync(root);
  } catch {
    // not empty, or already gone
  }
}
