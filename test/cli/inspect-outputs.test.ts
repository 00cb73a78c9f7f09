// `inspect --pcap` and the files it writes: an output never overwrites the
// capture being read or another output, an unwritable output fails before the
// run (or says which output failed, after it), and what the run could not
// decode is said in the summary, not only counted.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../host/capture/reader.js';
import { PcapWriter } from '../../host/capture/writer.js';
import { rawPcap } from '../host/capture/raw-pcap.js';
import { cli, DEMO_PCAP, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

function copyOfDemo(): { dir: string; pcap: string; bytes: Buffer } {
  const dir = tempDir('outputs');
  const pcap = join(dir, 'capture.pcap');
  copyFileSync(DEMO_PCAP, pcap);
  return { dir, pcap, bytes: readFileSync(pcap) };
}

describe('inspect --pcap outputs', () => {
  it.each([
    ['--eve', 'the capture itself', (d: string, p: string) => ['--eve', p]],
    ['--eve', 'a symlink to the capture', (d: string, p: string) => { symlinkSync(p, join(d, 'link.json')); return ['--eve', join(d, 'link.json')]; }],
    ['--write-dropped', 'the capture itself', (d: string, p: string) => ['--write-dropped', p]],
  ])('refuses %s pointed at %s, and leaves the capture as it was', (flag, _what, args) => {
    const { dir, pcap, bytes } = copyOfDemo();
    const r = cli(['inspect', '--pcap', pcap, ...args(dir, pcap)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error\\[E_USAGE\\]: ${flag} .* is the capture being read \\(--pcap .*capture\\.pcap\\): writing it would destroy it`));
    expect(r.stdout).toBe('');
    expect(readFileSync(pcap).equals(bytes)).toBe(true);
  });

  // The run reads the stored rules from the state directory; an output
  // pointed at them truncated rules.json to a pcap header, or appended EVE
  // lines to modules.json, and every later command failed on a corrupt store.
  it.each([
    ['--write-dropped', 'rules.json', (sd: string) => join(sd, 'rules.json')],
    ['--eve', 'rules.json', (sd: string) => join(sd, 'rules.json')],
    ['--eve', 'modules.json', (sd: string) => join(sd, 'modules.json')],
    ['--eve', 'rules.json', (sd: string) => { const l = join(sd, '..', 'link-to-rules.json'); symlinkSync(join(sd, 'rules.json'), l); return l; }],
    ['--write-dropped', 'attachments.json', (sd: string) => join(sd, 'attachments.json')],
  ])("refuses %s onto the state directory's %s (or a link to it), and the store stays readable", (flag, name, target) => {
    const { dir, pcap } = copyOfDemo();
    const state = join(dir, 'state');
    const env = { SECUXFLOW_STATE_DIR: state };
    expect(cli(['rule', 'add', '--action', 'drop', '--port', '23'], env).status).toBe(0);
    const before = readFileSync(join(state, 'rules.json'), 'utf8');
    const out = target(state);
    const r = cli(['inspect', '--pcap', pcap, '--no-progress', flag, out], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error\\[E_USAGE\\]: ${flag} .* is ${name.replace('.', '\\.')} of the state directory .*: writing it would destroy it`));
    expect(readFileSync(join(state, 'rules.json'), 'utf8')).toBe(before);
    expect(readdirSync(state).sort()).toEqual(['rules.json']);
    expect(cli(['rule', 'list'], env).status).toBe(0);
  });

  it('refuses --eve and --write-dropped naming one file', () => {
    const { dir, pcap } = copyOfDemo();
    const out = join(dir, 'out');
    const r = cli(['inspect', '--pcap', pcap, '--eve', out, '--write-dropped', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--write-dropped .*out is the file --eve writes/);
  });

  it('an unwritable --write-dropped fails before the run, even when nothing would be dropped', () => {
    const { dir, pcap } = copyOfDemo();
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    const r = cli(['inspect', '--pcap', pcap, '--write-dropped', sub, '--rules', rulesPassingAll(dir)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_IO\]: --write-dropped: cannot create capture file '.*a-directory': EISDIR/);
    expect(r.stdout).not.toMatch(/summary/);
  });

  it('a run that drops nothing leaves a valid empty capture at --write-dropped', () => {
    const { dir, pcap } = copyOfDemo();
    const out = join(dir, 'dropped.pcap');
    const r = cli(['inspect', '--pcap', pcap, '--write-dropped', out, '--rules', rulesPassingAll(dir)]);
    expect(r.status).toBe(0);
    expect(readFileSync(out)).toHaveLength(24); // the pcap file header alone
    expect([...openCapture(out).frames()]).toHaveLength(0);
  });

  it('a failing --eve write (a full disk) names the output; the run still finishes and exits 1', () => {
    const { pcap } = copyOfDemo();
    const r = cli(['inspect', '--pcap', pcap, '--eve', '/dev/full']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/secuxflow inspect summary/);
    expect(r.stderr).toMatch(/error\[E_IO\]: cannot write EVE output \/dev\/full: ENOSPC\n {2}hint: free some space/);
    expect(r.stderr).toMatch(/all 158 packets were processed, but that output is incomplete/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const json = cli(['inspect', '--pcap', pcap, '--eve', '/dev/full', '--json']);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'E_IO', hint: expect.stringMatching(/free some space/) });
  });

  it('a corrupt capture reports its byte offset and hint in --json too', () => {
    const { dir, bytes } = copyOfDemo();
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, 1000));
    const r = cli(['inspect', '--pcap', cut, '--json']);
    expect(r.status).toBe(1);
    const err = JSON.parse(r.stdout).error as { code: string; offset: number; message: string };
    expect(err.code).toBe('E_CAPTURE');
    expect(err.offset).toBeGreaterThan(24);
    expect(err.offset).toBeLessThan(1000);
    expect(err.message).toContain(`byte offset ${err.offset}`);
  });

  it.each([
    ['a 10-byte capture (inside its file header)', Buffer.from('d4c3b2a1020004000000', 'hex'), /truncated pcap file header/],
    ['a file that is not a capture', Buffer.from('GET / HTTP/1.1\r\n\r\n'), /bad magic/],
  ])('%s fails before any output is opened: no new file, an existing one keeps its contents', (_what, bytes, problem) => {
    const dir = tempDir('bad-header');
    const pcap = join(dir, 'bad.pcap');
    writeFileSync(pcap, bytes);
    const kept = join(dir, 'kept.json');
    writeFileSync(kept, 'previous EVE\n');
    for (const args of [['--eve', join(dir, 'eve.json'), '--write-dropped', join(dir, 'dropped.pcap')], ['--eve', kept, '--write-dropped', join(dir, 'd.pcapng')]]) {
      const r = cli(['inspect', '--pcap', pcap, ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/error\[E_CAPTURE\]: .*bad\.pcap: byte offset 0: /);
      expect(r.stderr).toMatch(problem);
      expect(r.stderr).toMatch(/\n {2}hint: /);
      expect(r.stdout).not.toMatch(/summary/);
    }
    expect(readdirSync(dir).sort()).toEqual(['bad.pcap', 'kept.json']);
    expect(readFileSync(kept, 'utf8')).toBe('previous EVE\n');
  });

  it('reads on past records whose timestamp fraction is a second or more, and says how many there were', () => {
    const dir = tempDir('odd-ts');
    const pcap = join(dir, 'odd.pcap');
    writeFileSync(pcap, rawPcap([{ sec: 1_767_225_600, frac: 1 }, { sec: 1_767_225_600, frac: 1_500_000 }, { sec: 1_767_225_601, frac: 2 }]));
    const r = cli(['inspect', '--pcap', pcap]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/packets\s+3 read/);
    expect(r.stdout).toMatch(/warning\s+1 records have a timestamp fraction of a second or more .*: read with the whole seconds carried into the seconds/);
    const j = JSON.parse(cli(['inspect', '--pcap', pcap, '--json']).stdout) as { counters: { timestamps_out_of_range: number }; error: unknown };
    expect(j.counters.timestamps_out_of_range).toBe(1);
    expect(j.error).toBeNull();
  });

  it('says when frames have a link type it cannot decode', () => {
    const dir = tempDir('linktype');
    const pcap = join(dir, 'odd.pcap');
    const w = new PcapWriter({ path: pcap, linkType: 147 as never }); // LINKTYPE_USER0
    for (let i = 0; i < 3; i++) w.write({ data: new Uint8Array(60), tsSec: 1_767_225_600 + i, tsNsec: 0 });
    w.close();
    const r = cli(['inspect', '--pcap', pcap]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/warning\s+3 frames have link type 147, which secuxflow does not decode .*: they count as malformed/);
    const j = JSON.parse(cli(['inspect', '--pcap', pcap, '--json']).stdout) as { unsupportedLinkTypes: unknown; counters: { malformed: number } };
    expect(j.unsupportedLinkTypes).toEqual([{ linkType: 147, packets: 3 }]);
    expect(j.counters.malformed).toBe(3);
  });
});

describe('inspect with stored rules', () => {
  it('loads the modules the stored rules name, not only the defaults', () => {
    const state = tempDir('state');
    const cfg = join(state, '..', `rl-${process.pid}.json`);
    writeFileSync(cfg, JSON.stringify({ rules: [{ name: 'web', proto: 'tcp', ports: [80], rate: 1, burst: 1, penalty: 60 }] }));
    const env = { SECUXFLOW_STATE_DIR: state };
    expect(cli(['module', 'load', join(import.meta.dirname, '..', '..', 'build', 'modules', 'ratelimit.wasm'), '--name', 'rl', '--config', cfg], env).status).toBe(0);
    expect(cli(['rule', 'add', '--action', 'inspect', '--module', 'rl', '--port', '80', '--proto', 'tcp'], env).status).toBe(0);
    const r = cli(['inspect', '--ip', '198.18.0.10', '--port', '80', '--proto', 'tcp', '--json'], env);
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout) as { rule: { id: number }; modules: { module: string }[] };
    expect(d.rule.id).toBe(1);
    expect(d.modules.map((m) => m.module)).toEqual(['rl']);
  });
});

function rulesPassingAll(dir: string): string {
  const p = join(dir, 'pass.yaml');
  writeFileSync(p, 'default_policy: pass\nrules: []\n');
  return p;
}
