import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync as mkdtempRaw, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, loadDaemonConfig, parseDaemonConfig, resolveGroup } from '../../../host/daemon/config.js';
import { SecuxflowError } from '../../../host/errors.js';
import { runOptions } from '../../../cli/commands/run.js';
import { moduleSpecsFor } from '../../../host/daemon/modules.js';

const made: string[] = [];
const mkdtempSync = (p: string): string => { const d = mkdtempRaw(p); made.push(d); return d; };
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function refused(text: string): SecuxflowError {
  try {
    parseDaemonConfig(text, '/etc/secuxflow/daemon.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(SecuxflowError);
    return e as SecuxflowError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('daemon config file', () => {
  it('gives Suricata-like defaults when no file is named', () => {
    const c = loadDaemonConfig(undefined);
    expect(c.flowTimeoutSec).toBe(100);
    expect(c.inspectCap).toEqual({ packets: 512, bytes: 1024 * 1024, policy: 'allow' });
    expect(c.onStop).toBe('detach');
    expect(c.moduleIsolation).toBe('thread');
    expect(c.ringSize).toBe(4096);
    expect(c.modules).toEqual([]);
    expect(c.source).toBeNull();
  });

  it('reads YAML and JSON alike, resolving module config paths against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfcfg-'));
    const yaml = join(dir, 'd.yaml');
    writeFileSync(yaml, 'modules:\n  - basic_inspect\n  - name: http_waf\n    config: waf.json\n    policy: fail-open\nstream_depth: 4096\ninspect_cap: { packets: 20, policy: block }\nflow_timeout: 30\non_stop: pass-all\npeer: veth9\nmodule_isolation: worker\n');
    const c = loadDaemonConfig(yaml);
    expect(c.modules).toEqual([
      { name: 'basic_inspect', config: null, policy: null },
      { name: 'http_waf', config: join(dir, 'waf.json'), policy: 'fail-open' },
    ]);
    expect(c.streamDepth).toBe(4096);
    expect(c.inspectCap).toEqual({ packets: 20, bytes: DEFAULT_CONFIG.inspectCap.bytes, policy: 'block' });
    expect(c.flowTimeoutSec).toBe(30);
    expect(c.onStop).toBe('pass-all');
    expect(c.peer).toBe('veth9');
    expect(c.moduleIsolation).toBe('worker');
    const json = join(dir, 'd.json');
    writeFileSync(json, JSON.stringify({ flow_timeout: 7, modules: ['dns_guard'] }));
    expect(loadDaemonConfig(json)).toMatchObject({ flowTimeoutSec: 7, modules: [{ name: 'dns_guard' }], source: json });
  });

  it('a module the file names that resolves to nothing is refused naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfcfg-'));
    const yaml = join(dir, 'd.yaml');
    writeFileSync(yaml, 'modules: [no_such_module]\n');
    const config = loadDaemonConfig(yaml);
    let err: SecuxflowError | null = null;
    try {
      moduleSpecsFor(config, join(dir, 'state'));
    } catch (e) {
      err = e as SecuxflowError;
    }
    expect(err).toMatchObject({ code: 'E_MODULE_NOT_FOUND' });
    expect(err!.message).toBe(`${yaml}: modules: no shipped module named "no_such_module", and none is registered under that name`);
    expect(err!.hint).toMatch(/shipped modules: .*basic_inspect/);
  });

  it('queue threads run realtime (SCHED_FIFO 10) unless the file says otherwise', () => {
    expect(loadDaemonConfig(undefined).queueScheduling).toEqual({ policy: 'realtime', priority: 10 });
    expect(parseDaemonConfig('queue_scheduling: { policy: realtime, priority: 30 }', null).queueScheduling).toEqual({ policy: 'realtime', priority: 30 });
    expect(parseDaemonConfig('queue_scheduling: { policy: normal, nice: -5 }', null).queueScheduling).toEqual({ policy: 'normal', nice: -5 });
    expect(parseDaemonConfig('queue_scheduling: { policy: normal }', null).queueScheduling).toEqual({ policy: 'normal', nice: 0 });
  });

  it('refuses a queue_scheduling that mixes the policies or leaves their ranges, naming the field', () => {
    expect(refused('queue_scheduling: { policy: realtime, priority: 0 }').message).toMatch(/queue_scheduling\.priority: must be an integer in 1\.\.99/);
    expect(refused('queue_scheduling: { policy: normal, nice: 20 }').message).toMatch(/queue_scheduling\.nice: must be an integer in -20\.\.19/);
    expect(refused('queue_scheduling: { policy: fifo }').message).toMatch(/queue_scheduling\.policy: must be one of realtime, normal/);
    const mixed = refused('queue_scheduling: { policy: normal, priority: 5 }');
    expect(mixed.message).toMatch(/queue_scheduling\.priority: applies to policy realtime only/);
    expect(mixed.hint).toMatch(/nice/);
    expect(refused('queue_scheduling: { policy: realtime, nice: 1 }').message).toMatch(/queue_scheduling\.nice: applies to policy normal only/);
    expect(refused('queue_scheduling: realtime').message).toMatch(/queue_scheduling: must be a mapping/);
  });

  // The message ended in the parser's "column 1:", and what it pointed at was left out.
  it('a syntax error names the place and shows it', () => {
    const e = refused('a: 1\na: 2\n');
    expect(e.message).toBe('/etc/secuxflow/daemon.yaml: not valid JSON or YAML: Map keys must be unique at line 2, column 1');
    expect(e.hint).toBe('fix the syntax; see docs/live.md for the config file format:\na: 1\na: 2\n^');
  });

  // Suricata's YAML takes 1mb and 60s; a number quoted by a templating tool is text.
  it('a number written as text says how to write it', () => {
    const quoted = refused('flow_timeout: "100"');
    expect([quoted.message, quoted.hint]).toEqual(['/etc/secuxflow/daemon.yaml: flow_timeout: must be an integer in 1..86400, got "100"', 'write the number without quotes: 100']);
    for (const text of ['stream_depth: 1mb', 'inspect_cap: { bytes: 4 MiB }', 'default_block_ttl: 60s']) {
      expect(refused(text).hint, text).toBe('sizes are plain numbers of bytes (1048576 for 1 MiB) and times plain numbers of seconds, without a unit');
    }
    expect(refused('flow_timeout: 0').hint).toBeUndefined();
  });

  // "must be a mapping" alone, with no hint, left the operator to guess the form.
  it('a list or a word where a mapping belongs says what it got and shows the form', () => {
    const sched = refused('queue_scheduling: realtime');
    expect([sched.message, sched.hint]).toEqual(['/etc/secuxflow/daemon.yaml: queue_scheduling: must be a mapping, got "realtime"',
      'for example queue_scheduling: { policy: realtime, priority: 10 } or { policy: normal, nice: 0 }']);
    const list = refused('- basic_inspect\n- http_waf\n');
    expect([list.message, list.hint]).toEqual(['/etc/secuxflow/daemon.yaml: must be a mapping, got a list',
      'the file is a mapping of the keys below, e.g. "modules: [basic_inspect]" on one line and "flow_timeout: 100" on the next (docs/live.md, The config file)']);
    expect(refused('inspect_cap: 512').hint).toBe('for example inspect_cap: { packets: 512, bytes: 1048576, policy: allow }');
    const entry = refused('modules: [basic_inspect, 7]');
    expect([entry.message, entry.hint]).toEqual(['/etc/secuxflow/daemon.yaml: modules[1]: must be a mapping, got 7', 'give a module name, or { name: NAME, config: FILE, policy: fail-open }']);
  });

  it('refuses unknown keys, bad values and duplicates, naming the field', () => {
    expect(refused('flow_timeot: 5').message).toMatch(/unknown key "flow_timeot"/);
    expect(refused('flow_timeout: 0').message).toMatch(/flow_timeout: must be an integer in 1\.\.86400/);
    expect(refused('on_stop: explode').message).toMatch(/on_stop: must be one of detach, pass-all/);
    expect(refused('inspect_cap: { packets: -1 }').message).toMatch(/inspect_cap\.packets/);
    expect(refused('modules: [a, a]').message).toMatch(/listed twice/);
    expect(refused('modules: [{ name: x, policy: maybe }]').message).toMatch(/policy: must be one of fail-open, fail-closed, reload/);
    expect(refused('peer: "no such name with spaces"').message).toMatch(/peer/);
    expect(refused('[1, 2]').message).toMatch(/must be a mapping/);
    expect(refused('module_isolation: process').message).toMatch(/module_isolation: must be one of thread, worker, got "process"/);
    expect(refused('a: [').code).toBe('E_USAGE');
    expect(refused('control_group: "no such; group"').message).toMatch(/control_group/);
    expect(refused('ring_size: 3000').message).toMatch(/ring_size: must be a power of two, got 3000/);
    expect(refused('ring_size: 3000').hint).toMatch(/4096/);
    expect(refused('ring_size: 65536').message).toMatch(/ring_size: must be an integer in 256\.\.16384/);
    expect(refused('stream_depth: 0').message).toMatch(/stream_depth: must be at least 1 byte: 0 would give TCP modules no stream bytes/);
    expect(refused('stream_depth: 0').hint).toMatch(/in Suricata 0 means unlimited/);
    expect(refused('block_ipv6_prefix: 48').message).toMatch(/block_ipv6_prefix: must be 64 or 128, got 48/);
    expect(refused('block_ipv6_prefix: "64"').message).toMatch(/block_ipv6_prefix: must be 64 or 128/);
  });

  // One at a time, a file with three mistakes took three restarts to fix.
  it('reports every problem of the file at once, each with its own hint', () => {
    const e = refused('flow_timeot: 5\nring_size: 3000\non_stop: explode\ninspect_cap: { packets: 0, policy: maybe }\nbatch_size: 64\n');
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^\/etc\/secuxflow\/daemon\.yaml has 5 problems: \(1\) /);
    const items = e.message.split(/; (?=\(\d\) )/);
    expect(items).toEqual([
      expect.stringMatching(/problems: \(1\) unknown key "flow_timeot" \[did you mean "flow_timeout"\?/),
      expect.stringMatching(/^\(2\) inspect_cap\.packets: must be an integer in 1\.\.1000000000, got 0$/),
      expect.stringMatching(/^\(3\) inspect_cap\.policy: must be one of allow, block, got "maybe"/),
      expect.stringMatching(/^\(4\) on_stop: must be one of detach, pass-all, got "explode"/),
      expect.stringMatching(/^\(5\) ring_size: must be a power of two, got 3000 \[use 2048, 4096/),
    ]);
    expect(e.hint).toMatch(/fix them all/);
    // A single problem reads as before: the message and its own hint.
    expect(refused('ring_size: 3000\nbatch_size: 64').message).toBe('/etc/secuxflow/daemon.yaml: ring_size: must be a power of two, got 3000');
  });

  it('blocks an IPv6 source by its /64 unless block_ipv6_prefix says 128', () => {
    expect(DEFAULT_CONFIG.blockIpv6Prefix).toBe(64);
    expect(parseDaemonConfig('block_ipv6_prefix: 128', 'test').blockIpv6Prefix).toBe(128);
  });

  it('never_block: CIDRs normalised; a bad entry is named by its index with a hint, and the list must be a list', () => {
    expect(DEFAULT_CONFIG.neverBlock).toEqual([]);
    expect(parseDaemonConfig('never_block: ["192.0.2.53", "10.1.2.3/8", "2001:db8::/48"]', 'test').neverBlock).toEqual(['192.0.2.53/32', '10.0.0.0/8', '2001:db8::/48']);
    const e = refused('never_block: ["192.0.2.53", "192.0.2.0/255.255.255.0"]');
    expect(e.message).toMatch(/never_block\[1\]: "192\.0\.2\.0\/255\.255\.255\.0" is not a CIDR/);
    expect(e.hint).toMatch(/write the netmask as a prefix length: 192\.0\.2\.0\/24/);
    expect(refused('never_block: 192.0.2.53').message).toMatch(/never_block: must be a list of CIDRs/);
  });

  it('a misspelt key or value gets the one it was probably meant to be', () => {
    expect(refused('on_stop: pass_all').hint).toMatch(/did you mean "pass-all"\?/);
    expect(refused('flow_timeot: 5').hint).toMatch(/did you mean "flow_timeout"\? known keys: modules, /);
    expect(refused('module: [basic_inspect]').hint).toMatch(/did you mean "modules"\?/);
    expect(refused('modules: [{ name: x, policy: failopen }]').hint).toMatch(/did you mean "fail-open"\?/);
    expect(refused('queue_scheduling: { policy: realtime, prio: 5 }').hint).toMatch(/did you mean "priority"\?/);
    // Nothing close: the known ones, no guess.
    expect(refused('on_stop: explode').hint ?? '').not.toMatch(/did you mean/);
    expect(refused('zzzzzz: 1').hint).toMatch(/^known keys: /);
  });

  it('resolves the control socket group by name or gid', () => {
    expect(parseDaemonConfig('control_group: root', null).controlGroup).toBe('root');
    expect(resolveGroup('root')).toBe(0);
    expect(resolveGroup(4242)).toBe(4242);
    expect(() => resolveGroup('sf-no-such-group')).toThrow(/no group named "sf-no-such-group"/);
  });

  it('says which file cannot be read', () => {
    expect(() => loadDaemonConfig('/nonexistent/secuxflow.yaml')).toThrow(/cannot read config file \/nonexistent\/secuxflow.yaml: ENOENT/);
  });

  it('refuses a config path that is not a regular file, or is too large, without blocking or filling memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfcfg-'));
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const failed = (path: string): SecuxflowError => {
      try { loadDaemonConfig(path); } catch (e) { return e as SecuxflowError; }
      throw new Error(`accepted ${path}`);
    };
    // No writer ever opens the FIFO: a blocking read would hang this test.
    expect(failed(fifo)).toMatchObject({ code: 'E_IO', message: expect.stringMatching(/fifo\.yaml is not a regular file \(a FIFO\)/) });
    expect(failed('/dev/zero')).toMatchObject({ code: 'E_IO', message: expect.stringMatching(/\/dev\/zero is not a regular file/) });
    expect(failed(dir)).toMatchObject({ code: 'E_IO', message: expect.stringMatching(/is not a regular file \(a directory\)/) });
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\nflow_timeout: 5\n`);
    expect(failed(big)).toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/big\.yaml is \d+ bytes, more than the 1048576/) });
  });

  it('resolves module paths in both forms from the config file, not the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfcfg-'));
    const yaml = join(dir, 'etc', 'd.yaml');
    execFileSync('mkdir', ['-p', join(dir, 'etc')]);
    writeFileSync(yaml, 'modules:\n  - ../mods/a.wat\n  - name: ../mods/b.wat\n  - basic_inspect\n  - /abs/c.wasm\n');
    expect(loadDaemonConfig(yaml).modules.map((m) => m.name)).toEqual([join(dir, 'mods', 'a.wat'), join(dir, 'mods', 'b.wat'), 'basic_inspect', '/abs/c.wasm']);
  });

  it('names Infinity as such, and refuses a peer with ":" (the kernel refuses it too)', () => {
    expect(refused('ring_size: .inf').message).toMatch(/ring_size: must be an integer in 256\.\.16384, got Infinity/);
    expect(refused('flow_timeout: .nan').message).toMatch(/got NaN/);
    const peer = refused('peer: "a:b"');
    expect(peer.message).toMatch(/peer: must be an interface name, got "a:b"/);
    expect(peer.hint).toMatch(/":"/);
  });
});

describe('secuxflow run flags', () => {
  const usage = (o: Parameters<typeof runOptions>[0]): SecuxflowError => {
    try { runOptions(o); } catch (e) { return e as SecuxflowError; }
    throw new Error(`accepted ${JSON.stringify(o)}`);
  };

  it('names --peer when the peer is not a valid interface name', () => {
    const e = usage({ iface: 'veth0', peer: 'x/y' });
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^--peer "x\/y" is not a valid interface name/);
  });

  it('takes --queues as plain digits only', () => {
    for (const q of [' 1', '1e0', '0x2', '1.0', '', '+1', '0', '65']) {
      expect(usage({ iface: 'veth0', queues: q }).message, q).toMatch(/--queues .* must be an integer in 1\.\.64/);
    }
    expect(runOptions({ iface: 'veth0', queues: '2' }).queues).toBe(2);
    expect(runOptions({ iface: 'veth0', queues: '064' }).queues).toBe(64);
  });

  // status reports the daemon's EVE path and alerts reads it: relative, it
  // named a file in whatever directory alerts ran from, not the daemon's.
  it('makes a relative --eve absolute, as status reports it and alerts reads it', () => {
    expect(runOptions({ iface: 'veth0', eve: 'eve.json' }).eve).toBe(join(process.cwd(), 'eve.json'));
    expect(runOptions({ iface: 'veth0', eve: '/var/log/secuxflow/eve.json' }).eve).toBe('/var/log/secuxflow/eve.json');
  });

  it('refuses an empty --eve or --config (an unset variable) before anything starts', () => {
    const eve = usage({ iface: 'veth0', eve: '' });
    expect([eve.code, eve.message, eve.hint]).toEqual(['E_USAGE', '--eve needs a file name', 'leave it out to write <state-dir>/eve.json']);
    const config = usage({ iface: 'veth0', config: '' });
    expect([config.code, config.message]).toEqual(['E_USAGE', '--config needs a file name']);
  });
});
