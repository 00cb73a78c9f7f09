// Private bpffs instances for tests. A bpffs mounted outside /sys stays
// visible inside `ip netns exec` (which remounts /sys only), and a private
// instance means "nothing left pinned" can be checked by listing it.
import { mkdtempSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetLab } from './netns.js';
import { run, runOk } from './run.js';
import { execFileSync } from 'node:child_process';

export interface PrivateBpffs {
  /** Mount point of the bpffs instance. */
  mount: string;
  /** What SECUXFLOW_BPFFS_ROOT is set to: a directory inside the mount. */
  root: string;
  /** Every path left under the mount, relative, sorted. */
  leftovers(): string[];
}

export async function mountPrivateBpffs(lab: NetLab): Promise<PrivateBpffs> {
  const mount = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-bpffs-`));
  await runOk(['mount', '-t', 'bpf', 'bpf', mount]);
  lab.onCleanup(() => {
    execFileSync('umount', ['-l', mount], { stdio: 'ignore', timeout: 10_000 });
    rmdirSync(mount);
  });
  return {
    mount,
    root: join(mount, 'secuxflow'),
    // maps.debug/progs.debug are the kernel's own iterators in every bpffs instance
    leftovers: () => walk(mount, '').filter((p) => p !== 'maps.debug' && p !== 'progs.debug'),
  };
}

function walk(base: string, rel: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(base, rel));
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = rel ? `${rel}/${n}` : n;
    out.push(p);
    out.push(...walk(base, p));
  }
  return out;
}

/**
 * Compiles a one-line XDP program of our own to play "another tool's
 * program", so the busy-interface path is tested without touching the
 * machine-wide bpffs the way xdp-filter does.
 */
export async function buildForeignXdp(dir: string): Promise<{ object: string; progName: string }> {
  const src = join(dir, 'foreign.bpf.c');
  const object = join(dir, 'foreign.bpf.o');
  writeFileSync(
    src,
    '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int foreign_pass(struct xdp_md *ctx) { return XDP_PASS; }\nchar LICENSE[] SEC("license") = "GPL";\n',
  );
  const arch = (await run(['uname', '-m'])).stdout.trim();
  await runOk(['clang', '-O2', '-g', '-target', 'bpf', `-I/usr/include/${arch}-linux-gnu`, '-c', src, '-o', object]);
  return { object, progName: 'foreign_pass' };
}

/** The XDP program attached to a link, as `ip -d -j link` reports it (null when none). */
export async function xdpOnLink(ns: string, ifname: string): Promise<{ id: number; name: string; mode: number } | null> {
  const r = await runOk(['ip', '-n', ns, '-d', '-j', 'link', 'show', 'dev', ifname]);
  const [link] = JSON.parse(r.stdout) as Array<{ xdp?: { mode: number; prog?: { id: number; name: string } } }>;
  if (!link?.xdp?.prog) return null;
  return { id: link.xdp.prog.id, name: link.xdp.prog.name, mode: link.xdp.mode };
}
