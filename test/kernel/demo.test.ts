// `npm run demo` end to end as root: the bundled demo builds its namespace
// lab, runs the live daemon, sends curl/dig/nmap traffic and cleans up. The
// test reads its plain-text output, then checks from the outside that nothing
// is left: namespaces, links, pins in a private bpffs, processes, temp dirs.
// A second run is stopped with SIGINT halfway; a third runs without root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { REPO_ROOT, buildNative } from './lab/build.js';
import { run, runOk } from './lab/run.js';
import { childEnded } from '../support/child-exit.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const RUN_LIMIT_MS = 150_000;
const LOCK = '/tmp/secuxflow-test-build.lock';

interface DemoRun {
  code: number | null;
  signal: string | null;
  out: string;
  ms: number;
}

/** Runs the demo bundle; `interruptAt` sends SIGINT once that text is printed. */
function runDemo(demo: string, env: NodeJS.ProcessEnv, interruptAt?: string): Promise<DemoRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [demo], { env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (interruptAt && !interrupted && out.includes(interruptAt)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    void childEnded(child).then(({ code, signal }) => {
      clearTimeout(timer);
      resolve({ code, signal, out, ms: Date.now() - t0 });
    });
  });
}

function walk(dir: string, rel = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(rel ? join(dir, rel) : dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => [rel ? `${rel}/${n}` : n, ...walk(dir, rel ? `${rel}/${n}` : n)]);
}

/** Everything of one demo run (named by its tag) that is still on the machine. */
async function leftovers(tag: string, bpffsMount: string): Promise<string[]> {
  const found: string[] = [];
  const ns = (await runOk(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(tag));
  found.push(...ns.map((n) => `namespace ${n}`));
  const short = `sfd${tag.slice('sfdemo-'.length)}`;
  const links = (await runOk(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(short));
  found.push(...links.map((l) => `link ${l.split(':')[1]?.trim()}`));
  // Only the demo's pin root: iproute2 creates ip/, tc/ and xdp/ "globals" directories in the
  // first bpffs it finds in /proc/mounts, which may be this one when another test loads XDP with `ip`.
  found.push(...walk(join(bpffsMount, 'secuxflow')).map((p) => `pin secuxflow/${p}`));
  const procs = await run(['pgrep', '-af', tag]);
  found.push(...procs.stdout.split('\n').filter((l) => l.trim()).map((l) => `process ${l}`));
  for (const dir of [join('/run', tag), join('/tmp', tag)]) if (existsSync(dir)) found.push(`directory ${dir}`);
  return found;
}

function tagOf(out: string): string {
  const m = /secuxflow demo (sfdemo-[0-9a-f]{4}):/.exec(out);
  if (!m) throw new Error(`no lab tag in the demo output:\n${out.slice(0, 2000)}`);
  return m[1]!;
}

describe.skipIf(kernel.skip || labReason !== null).sequential('npm run demo: the live system from one command', () => {
  let labDir = '';
  let demo = '';
  let bpffsMount = '';
  let env: NodeJS.ProcessEnv = {};
  let full: DemoRun;

  beforeAll(async () => {
    await buildNative();
    await runOk(['flock', LOCK, process.execPath, 'scripts/build-cli.mjs'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
    // A private copy of the bundles, so another test's rebuild never swaps them mid-run.
    labDir = join(REPO_ROOT, 'dist', `.lab-demo${process.pid}`);
    mkdirSync(labDir, { recursive: true });
    for (const f of ['secuxflow.js', 'secuxflow-demo.js', 'sandbox-worker.js']) copyFileSync(join(REPO_ROOT, 'dist', f), join(labDir, f));
    demo = join(labDir, 'secuxflow-demo.js');
    bpffsMount = mkdtempSync(join(tmpdir(), 'sf-demo-bpffs-'));
    await runOk(['mount', '-t', 'bpf', 'bpf', bpffsMount]);
    env = { ...process.env, SECUXFLOW_BPFFS_ROOT: join(bpffsMount, 'secuxflow') };
    full = await runDemo(demo, env);
  }, RUN_LIMIT_MS + 150_000);

  afterAll(() => {
    if (bpffsMount) {
      try {
        execFileSync('umount', ['-l', bpffsMount], { stdio: 'ignore' });
        rmdirSync(bpffsMount);
      } catch {
        // already gone
      }
    }
    if (labDir) rmSync(labDir, { recursive: true, force: true });
  });

  const lines = (re: RegExp): string[] => full.out.split('\n').filter((l) => re.test(l));

  it('runs the live daemon, finishes by itself well under two minutes, and exits 0', () => {
    expect(full.out, full.out).toMatch(/secuxflow demo sfdemo-[0-9a-f]{4}: live daemon in host mode/);
    expect(full.signal, full.out).toBeNull();
    expect(full.code, full.out).toBe(0);
    expect(full.ms).toBeLessThan(110_000);
    expect(full.out).toMatch(/all 14 steps behaved as expected/);
  });

  it('benign requests got their responses, from the servers on the protected host', () => {
    expect(lines(/CLIENT\s+alice: answered: HTTP 200/).length, full.out).toBeGreaterThanOrEqual(5);
    expect(lines(/CLIENT\s+alice: answered: NOERROR: A 198\.18\.64\.1/)).toHaveLength(1);
    expect(full.out).toMatch(/CLIENT\s+alice: answered: HTTP 200, 4,194,304 bytes/);
    expect(full.out).toMatch(/SERVER\s+web server got 198\.18\.64\.2 GET \/search\?q=blue\+widget 200/);
  });

  it('the inspectors\' records of alice\'s requests reach EVE during their own steps', () => {
    // Host mode: http_waf never sees a response; it reports each request when curl closes (its flow-end
    // output used to be dropped by the host, and flow ends come only after 30 s or at the daemon's stop).
    const inspected = (url: string) => new RegExp(`INSPECT\\s+http_waf\\s+GET ${url}\\s+\\(no response seen\\)\\s+198\\.18\\.64\\.2:`);
    for (const [step, url] of [[1, '/'], [2, '/search\\?q=blue\\+widget']] as const) {
      expect(full.out.split(/STEP\s+\d+\/14/)[step] ?? '', `${url}\n${full.out}`).toMatch(inspected(url));
    }
    // The download reaches the inspection cap and is allowed in the kernel: its close is not punted, its end is.
    expect(full.out).toMatch(inspected('/download'));
    expect(full.out).toMatch(/INSPECT\s+dns_guard query www\.acme\.test A/);
    const waf = /http_waf\s+fail-closed\s+thread\s+ok\s+\d+\s+.*\s(\d+)\/(\d+)\/(\d+)\s*$/m.exec(full.out);
    expect(waf, full.out).not.toBeNull();
    expect(waf!.slice(1)).toEqual(['0', '0', '0']);
  });

  it('the attacks were blocked and never reached the servers', () => {
    expect(lines(/CLIENT\s+mallory: BLOCKED/).length, full.out).toBe(6);
    // Until the operator releases mallory in the last step, none of its requests reached a server; then one did.
    const [attacks, released] = full.out.split(/STEP\s+14\/14/);
    expect(attacks!.split('\n').filter((l) => /SERVER\s+web server got 198\.18\.64\.66/.test(l)), full.out).toEqual([]);
    expect(released!.split('\n').filter((l) => /SERVER\s+web server got 198\.18\.64\.66/.test(l)).map((l) => l.replace(/^.*got /, '')), full.out).toEqual(['198.18.64.66 GET / 200']);
    expect(lines(/SERVER\s+DNS server got .*(tracker|exfil)/), full.out).toEqual([]);
  });

  it('alerts were printed for each attack', () => {
    for (const sid of [1001001, 1001003, 1001005, 1002001, 1002003, 1006001]) {
      expect(lines(new RegExp(`ALERT\\s+\\[${sid}\\] .*→ BLOCKED`)).length, `alert ${sid}\n${full.out}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('flows moved into the kernel: the download allowed, the attacks blocked, the scanner in the penalty box', () => {
    expect(full.out).toMatch(/KERNEL\s+flow 198\.18\.64\.2:\d+ ⇄ 198\.18\.64\.1:80\/tcp moved into the kernel: ALLOW/);
    expect(lines(/KERNEL\s+flow 198\.18\.64\.66:\d+ ⇄ 198\.18\.64\.1:80\/tcp moved into the kernel: BLOCK/).length).toBeGreaterThanOrEqual(3);
    expect(full.out).toMatch(/KERNEL\s+source 198\.18\.64\.66 put in the penalty box/);
    // The operator's release: the list shows the scanner, the delete names it, and its next request is answered.
    expect(full.out).toMatch(/DEMO\s+operator: \$ secuxflow block list\n.*DEMO\s+ {2}SOURCE\s+EXPIRES IN\s+DROPPED\s+INTERFACES\s+LAST BLOCKING ALERT\n.*DEMO\s+ {2}198\.18\.64\.66\s+\d+s\s+\d+\s+sfd[0-9a-f]{4}h\s+\[1006001\] TCP SYN port scan/);
    expect(full.out).toMatch(/DEMO\s+ {2}released 198\.18\.64\.66 on sfd[0-9a-f]{4}h and the running daemon/);
    expect(full.out).toMatch(/KERNEL\s+source 198\.18\.64\.66 left the penalty box/);
    expect(lines(/CLIENT\s+mallory: answered: HTTP 200/), full.out).toHaveLength(1);
    const m = /download\s+(\d+) packets punted before the verdict, (\d+) handled in the kernel after it/.exec(full.out);
    expect(m, full.out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
  });

  it('leaves nothing behind: namespaces, links, pins, processes, directories', async () => {
    expect(full.out).toMatch(/cleanup: nothing left behind/);
    expect(full.out).toMatch(/KERNEL\s+no XDP program left on sfd[0-9a-f]{4}h/);
    expect(await leftovers(tagOf(full.out), bpffsMount)).toEqual([]);
  });

  it('Ctrl-C halfway through still cleans everything up', async () => {
    const r = await runDemo(demo, env, 'STEP     6/14');
    expect(r.out, r.out).toMatch(/SIGINT: stopping and cleaning up/);
    expect(r.code, r.out).toBe(130);
    expect(r.out).toMatch(/cleanup: nothing left behind/);
    expect(await leftovers(tagOf(r.out), bpffsMount)).toEqual([]);
  }, RUN_LIMIT_MS);

  it('without root it says so and points at the offline demo', async () => {
    const r = await run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, demo], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/needs root/);
    expect(r.stdout).toMatch(/npx secuxflow inspect --pcap samples\/demo\.pcap/);
  });
});
