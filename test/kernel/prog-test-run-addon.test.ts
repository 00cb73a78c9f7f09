// The native addon's surface around the program: loading with pins, map
// operations, XDP attach/query/detach on a veth pair this file creates, and
// the stable error codes users see. Everything created is removed in afterAll.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closeFd, ifIndex, mapDelete, mapDeleteBatch, mapDump, mapInfo, mapLookup, mapNextKey, mapUpdate, mapUpdateBatch, objGet, openObject,
  addonPath, defaultObjectPath, nativeAddon, possibleCpus, progInfo, progTestRun, xdpAttach, xdpDetach, xdpQuery, MapUpdateFlag,
} from '../../host/kernel/native.js';
import { encodeFlowKey, encodeLpmKey, encodePortKey, encodeU32, LAYOUT, MapName, SF, SfConfig, u32Key, decodeU32 } from '../../host/kernel/codec.js';
import { SecuxflowError } from '../../host/errors.js';
import { readConfigValue, readRulesetMeta, writeConfig, writeRulesetMeta } from '../../host/kernel/config.js';
import { requireKernel, uniqueName } from './support/kernel.js';

const k = requireKernel();

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SecuxflowError);
    return (e as SecuxflowError).code;
  }
  return 'no error';
}

function cpusFromSysfs(): number {
  // "0-1" or "0,2-3"
  return readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a! + 1);
  }, 0);
}

describe.skipIf(k.skip)('native addon', () => {
  const pinDir = `/sys/fs/bpf/${uniqueName('sft')}`;
  const vethA = uniqueName('sfa');
  const vethB = uniqueName('sfb');
  let veth = false;

  beforeAll(() => {
    execFileSync('ip', ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB]);
    veth = true;
    execFileSync('ip', ['link', 'set', vethA, 'up']);
    execFileSync('ip', ['link', 'set', vethB, 'up']);
  });
  afterAll(() => {
    if (veth) execFileSync('ip', ['link', 'del', vethA]); // also detaches anything still attached
    if (existsSync(pinDir)) rmSync(pinDir, { recursive: true, force: true });
  });

  it('a missing or non-numeric fd is an error that names it, never a silent undefined', () => {
    const addon = nativeAddon() as Record<string, (...a: unknown[]) => unknown>;
    for (const fn of ['mapInfo', 'mapDump', 'progInfo', 'closeFd', 'mapStoreWords']) {
      expect(() => addon[fn]!(), fn).toThrow(/argument fd must be a number/);
      expect(() => addon[fn]!('3'), fn).toThrow(/argument fd must be a number/);
    }
  });

  it('loads while signals keep arriving: a profiler\'s SIGPROF every 50 µs no longer makes the verifier give up (EAGAIN)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-sigload-'));
    try {
      const script = `const a = require(${JSON.stringify(addonPath())});
        for (let i = 0; i < 5; i++) { const o = a.openObject(${JSON.stringify(defaultObjectPath())}, null); a.closeObject(o.handle); }
        console.log('loaded 5');`;
      const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=50', '-e', script], { encoding: 'utf8', timeout: 120_000 });
      expect(out.trim()).toBe('loaded 5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts possible CPUs as sysfs does', () => {
    expect(possibleCpus()).toBe(cpusFromSysfs());
  });

  it('pins every map, reuses the pins on the next load, and unpins', () => {
    const first = openObject({ pinDir });
    try {
      expect(first.reusedPins).toEqual([]);
      expect(readdirSync(pinDir).sort()).toEqual(Object.values(MapName).sort());
      writeConfig(first.maps[MapName.CONFIG]!, SfConfig.PUNT_FALLBACK, 2);
      const second = openObject({ pinDir });
      try {
        expect([...second.reusedPins].sort()).toEqual(Object.values(MapName).sort());
        // Same kernel map: the value written through the first object is there.
        expect(readConfigValue(second.maps[MapName.CONFIG]!, SfConfig.PUNT_FALLBACK)).toBe(2);
        const fd = objGet(`${pinDir}/${MapName.CONFIG}`);
        try {
          expect(mapInfo(fd).id).toBe(mapInfo(first.maps[MapName.CONFIG]!).id);
        } finally {
          closeFd(fd);
        }
      } finally {
        second.close();
      }
      first.unpinMaps(pinDir);
      expect(existsSync(pinDir)).toBe(false);
    } finally {
      first.close();
    }
  });

  it('config words are stored one at a time: neighbours keep their values, bad offsets and non-mmapable maps are refused', () => {
    const obj = openObject();
    try {
      const cfg = obj.maps[MapName.CONFIG]!;
      writeConfig(cfg, SfConfig.PASS_ALL, 7);
      writeConfig(cfg, SfConfig.PUNT_FALLBACK, 0xfffffffe);
      expect(readConfigValue(cfg, SfConfig.PASS_ALL)).toBe(7);
      expect(readConfigValue(cfg, SfConfig.PUNT_FALLBACK)).toBe(0xfffffffe);
      expect(readConfigValue(cfg, SfConfig.ACTIVE_GEN)).toBe(0);
      writeRulesetMeta(cfg, 1, { v4Count: 3, v6Count: 4, defaultAction: 2, lpmMask: 0x41 });
      expect(readRulesetMeta(cfg, 1)).toEqual({ v4Count: 3, v6Count: 4, defaultAction: 2, lpmMask: 0x41 });
      expect(readRulesetMeta(cfg, 0)).toEqual({ v4Count: 0, v6Count: 0, defaultAction: 0, lpmMask: 0 });
      const store = (nativeAddon() as { mapStoreWords: (fd: number, off: number, b: Uint8Array) => void }).mapStoreWords;
      expect(() => store(cfg, LAYOUT.sf_config.size, new Uint8Array(4))).toThrow(/not whole aligned words/);
      expect(() => store(cfg, 2, new Uint8Array(4))).toThrow(/not whole aligned words/);
      expect(() => store(cfg, 0, new Uint8Array(3))).toThrow(/not whole aligned words/);
      expect(() => store(obj.maps[MapName.LAST]!, 0, new Uint8Array(4))).toThrow(/BPF_F_MMAPABLE/);
    } finally {
      obj.close();
    }
  });

  it('config stores stay mapped per fd, and a reused fd number writes the map that owns it now', () => {
    // mapStoreWords keeps its mapping until the fd is closed: a store after
    // close and reopen must not land in the old, closed map.
    const a = openObject();
    const fdA = a.maps[MapName.CONFIG]!;
    writeConfig(fdA, SfConfig.PUNT_FALLBACK, 7);
    writeConfig(fdA, SfConfig.PUNT_FALLBACK, 8);
    expect(readConfigValue(fdA, SfConfig.PUNT_FALLBACK)).toBe(8);
    a.close();
    const b = openObject();
    try {
      const fdB = b.maps[MapName.CONFIG]!;
      expect(fdB).toBe(fdA); // the lowest free numbers come back in the same order
      expect(readConfigValue(fdB, SfConfig.PUNT_FALLBACK)).toBe(0);
      writeConfig(fdB, SfConfig.PUNT_FALLBACK, 9);
      expect(readConfigValue(fdB, SfConfig.PUNT_FALLBACK)).toBe(9);
    } finally {
      b.close();
    }
  });

  it('a private load never pins, even for objects whose maps ask to be pinned by name', () => {
    const xdpFilter = ['/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o', '/usr/lib/aarch64-linux-gnu/bpf/xdpfilt_alw_all.o'].find(existsSync);
    if (!xdpFilter && process.env.CI === 'true') throw new Error('xdp-tools is not installed (xdpfilt_alw_all.o): run scripts/install-system-deps.sh');
    if (!xdpFilter) return;
    const before = readdirSync('/sys/fs/bpf').sort();
    openObject({ objectPath: xdpFilter }).close();
    expect(readdirSync('/sys/fs/bpf').sort()).toEqual(before);
  });

  it('refuses pins outside bpffs with E_NO_BPFFS and a hint to mount it', () => {
    const e = (() => { try { openObject({ pinDir: '/tmp/not-bpffs' }); } catch (err) { return err as SecuxflowError; } return null; })();
    expect(e?.code).toBe('E_NO_BPFFS');
    expect(e?.hint).toMatch(/mount -t bpf bpf \/sys\/fs\/bpf/);
  });

  it('reports a missing pin as E_NOT_ATTACHED and a missing interface as E_NO_IFACE', () => {
    expect(code(() => objGet(`${pinDir}-missing/${MapName.CONFIG}`))).toBe('E_NOT_ATTACHED');
    expect(code(() => ifIndex('sfnosuchif0'))).toBe('E_NO_IFACE');
  });

  describe('maps', () => {
    let obj: ReturnType<typeof openObject>;
    beforeAll(() => { obj = openObject(); });
    afterAll(() => obj?.close());

    it('lookup/update/delete/next-key/dump round-trip on a hash map', () => {
      const fd = obj.maps[MapName.PORTS]!;
      const meta = new Uint8Array(LAYOUT.sf_lpm_meta.size).fill(7);
      const k1 = encodePortKey(0, 6, 0, 80);
      const k2 = encodePortKey(1, 17, 1, 53);
      expect(mapLookup(fd, k1, meta.length)).toBeNull();
      mapUpdate(fd, k1, meta);
      mapUpdate(fd, k2, meta, MapUpdateFlag.NOEXIST);
      expect(code(() => mapUpdate(fd, k2, meta, MapUpdateFlag.NOEXIST))).toBe('E_KERNEL');
      expect(mapLookup(fd, k1, meta.length)).toEqual(meta);
      const keys = new Set<string>();
      for (let key = mapNextKey(fd, null, 8); key; key = mapNextKey(fd, key, 8)) keys.add(Buffer.from(key).toString('hex'));
      expect(keys).toEqual(new Set([Buffer.from(k1).toString('hex'), Buffer.from(k2).toString('hex')]));
      expect(mapDump(fd).count).toBe(2);
      expect(mapDelete(fd, k1)).toBe(true);
      expect(mapDelete(fd, k1)).toBe(false);
      expect(mapDelete(fd, k2)).toBe(true);
    });

    it('dump reads a per-CPU hash past one batch call in batches, agreeing with lookups; tries dump whole too', () => {
      // A per-CPU hash with more entries than one batch call takes (4096).
      const flows = obj.maps[MapName.FLOWS]!;
      const kSize = LAYOUT.sf_flow_key.size;
      const vBytes = mapInfo(flows).valueSize;
      const stride = ((vBytes + 7) & ~7) * possibleCpus();
      const N = 5000;
      const keys = new Uint8Array(N * kSize);
      const values = new Uint8Array(N * stride);
      for (let i = 0; i < N; i++) {
        encodeFlowKey({ src: Uint8Array.of(10, 7, i >> 8, i & 255), dst: Uint8Array.of(10, 8, 0, 1), sport: 1000 + (i % 60000), dport: 53, vlanOuter: 0, vlanInner: 0, proto: 17 }, keys, i * kSize);
        new DataView(values.buffer).setUint32(i * stride, 1 + (i % 2), true);
      }
      expect(mapUpdateBatch(flows, keys, values, N)).toBe(N);
      const d = mapDump(flows);
      expect(d.batched).toBe(true);
      expect(d.count).toBe(N);
      const seen = new Set<string>();
      for (let i = 0; i < d.count; i++) {
        const key = d.keys.subarray(i * kSize, (i + 1) * kSize);
        seen.add(Buffer.from(key).toString('hex'));
        expect(d.values.subarray(i * stride, (i + 1) * stride)).toEqual(mapLookup(flows, key, stride));
      }
      expect(seen.size).toBe(N);
      // The key-by-key walk (kernels without batch lookup) finds the same entries with the same values.
      const w = mapDump(flows, { keyByKey: true });
      expect(w).toMatchObject({ count: N, batched: false });
      const byKey = (m: typeof d): Map<string, string> => new Map(Array.from({ length: m.count }, (_, i) => [
        Buffer.from(m.keys.subarray(i * kSize, (i + 1) * kSize)).toString('hex'), Buffer.from(m.values.subarray(i * stride, (i + 1) * stride)).toString('hex'),
      ]));
      expect(byKey(w)).toEqual(byKey(d));
      // Batch delete: a key already gone is skipped, not an error, and not counted.
      expect(mapDelete(flows, keys.subarray(100 * kSize, 101 * kSize))).toBe(true);
      expect(mapDeleteBatch(flows, keys, N)).toBe(N - 1);
      expect(mapDump(flows)).toMatchObject({ count: 0, batched: true });
      expect(mapDeleteBatch(flows, keys, N)).toBe(0);
      expect(() => mapDeleteBatch(flows, keys.subarray(0, kSize), 2)).toThrow(/batch of 2 keys needs/);

      // An LPM trie (batch lookup arrived for tries later than for hashes; older kernels walk it key by key).
      const trie = obj.maps[MapName.LPM_SRC_V6]!;
      const meta = new Uint8Array(LAYOUT.sf_lpm_meta.size).fill(3);
      const v6 = (...head: number[]): Uint8Array => { const a = new Uint8Array(16); a.set(head); return a; };
      const prefixes = [encodeLpmKey(0, v6(0x20, 0x01, 0x0d, 0xb8), 32), encodeLpmKey(0, v6(0x20, 0x01, 0x0d, 0xb8, 0, 1), 48), encodeLpmKey(1, v6(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2), 64)];
      for (const p of prefixes) mapUpdate(trie, p, meta);
      const t = mapDump(trie);
      expect(t.count).toBe(3);
      const found = new Set(Array.from({ length: t.count }, (_, i) => Buffer.from(t.keys.subarray(i * prefixes[0]!.length, (i + 1) * prefixes[0]!.length)).toString('hex')));
      expect(found).toEqual(new Set(prefixes.map((p) => Buffer.from(p).toString('hex'))));
      for (const p of prefixes) mapDelete(trie, p);
    });

    it('batch update writes arrays in one call', () => {
      const fd = obj.maps[MapName.RULE_SLOTS]!;
      const keys = new Uint8Array(8);
      new DataView(keys.buffer).setUint32(0, 6, true);
      new DataView(keys.buffer).setUint32(4, 7, true);
      const values = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0]);
      expect(mapUpdateBatch(fd, keys, values, 2)).toBe(2);
      expect(decodeU32(mapLookup(fd, u32Key(7), 4)!)).toBe(2);
    });

    it('rejects wrong key/value sizes and out-of-range array indexes with messages', () => {
      const fd = obj.maps[MapName.RULE_SLOTS]!;
      expect(() => mapUpdate(fd, new Uint8Array(3), encodeU32(1))).toThrowError(/key is 3 bytes, the map's keys are 4/);
      expect(() => mapLookup(fd, u32Key(0), 2)).toThrowError(/value buffer is 2 bytes/);
      expect(() => mapUpdate(fd, u32Key(SF.MAX_RULE_SLOTS), encodeU32(1))).toThrowError(new RegExp(`index ${SF.MAX_RULE_SLOTS} is beyond`));
    });

    it('a full hash map is E_MAP_FULL', () => {
      const fd = obj.maps[MapName.PORTS]!;
      const max = mapInfo(fd).maxEntries;
      const n = max + 1;
      const keys = new Uint8Array(n * 8);
      for (let i = 0; i < n; i++) encodePortKey(i & 1, 6, 0, i >> 1, keys, i * 8);
      const values = new Uint8Array(n * LAYOUT.sf_lpm_meta.size);
      expect(code(() => mapUpdateBatch(fd, keys, values, n))).toBe('E_MAP_FULL');
    });

    it('test runs refuse frames shorter than an Ethernet header, with a hint', () => {
      expect(() => progTestRun(obj.progFd, new Uint8Array(10))).toThrowError(/10-byte packet/);
    });

    // The kernel took an empty output buffer as unbounded and wrote the frame
    // past it (a heap overflow, then abort); a huge repeat held the thread
    // for minutes; a NUL in a name was read as its end.
    it('bad arguments from JavaScript are refused, not passed on to the kernel or C', () => {
      const addon = nativeAddon() as {
        progTestRun(fd: number, data: Uint8Array, repeat: number, out: Uint8Array): unknown;
        ifNameToIndex(name: string): number;
        closeObject(handle?: unknown): void;
        openObject(path?: string): unknown;
        xdpQuery(ifindex?: number): unknown;
        mapLookup(fd: number, key?: Uint8Array): unknown;
      };
      // A missing argument used to return undefined with no exception.
      for (const call of [() => addon.closeObject(), () => addon.openObject(), () => addon.xdpQuery(), () => addon.mapLookup(obj.maps[MapName.CONFIG]!)]) {
        expect(call).toThrow(expect.objectContaining({ code: 'E_KERNEL' }));
      }
      const frame = new Uint8Array(64);
      const ab = new ArrayBuffer(256);
      expect(() => addon.progTestRun(obj.progFd, frame, 1, new Uint8Array(ab, 16, 0))).toThrow(expect.objectContaining({ code: 'E_KERNEL', message: expect.stringMatching(/output buffer .* is empty/) }));
      expect(new Uint8Array(ab).every((b) => b === 0)).toBe(true);
      expect(() => addon.progTestRun(obj.progFd, frame, 4294967295, new Uint8Array(320))).toThrow(expect.objectContaining({ code: 'E_KERNEL', message: expect.stringMatching(/repeat 4294967295 is over/) }));
      // Numbers are not wrapped: -1, 2^32 + fd, NaN and 1.5 name no count or fd.
      expect(() => addon.progTestRun(obj.progFd, frame, -1, new Uint8Array(320))).toThrow(expect.objectContaining({ code: 'E_KERNEL', message: expect.stringMatching(/repeat must be a whole number in 0\.\.4294967295, got -1/) }));
      expect(() => addon.progTestRun(2 ** 32 + obj.progFd, frame, 1, new Uint8Array(320))).toThrow(expect.objectContaining({ message: expect.stringMatching(/progFd must be a whole number/) }));
      expect(() => addon.progTestRun(Number.NaN, frame, 1, new Uint8Array(320))).toThrow(expect.objectContaining({ message: expect.stringMatching(/progFd must be a whole number .* got nan/) }));
      expect(() => addon.progTestRun(obj.progFd, frame, 1.5, new Uint8Array(320))).toThrow(expect.objectContaining({ message: expect.stringMatching(/repeat must be a whole number/) }));
      expect(() => addon.ifNameToIndex('lo\0junk')).toThrow(expect.objectContaining({ message: expect.stringMatching(/contains a NUL/) }));
    });
  });

  describe('XDP attach on a veth', () => {
    it('attaches (auto -> native on veth), is seen by query, refuses a second attach, detaches', () => {
      const obj = openObject();
      const foreign = openObject();
      const idx = ifIndex(vethA);
      try {
        expect(xdpQuery(idx)).toEqual({ progId: 0, progName: '', mode: null });
        expect(xdpAttach(idx, obj.progFd, 'auto')).toBe('native');
        const ours = progInfo(obj.progFd);
        expect(xdpQuery(idx)).toEqual({ progId: ours.id, progName: 'sf_xdp', mode: 'native' });
        const busy = (() => { try { xdpAttach(idx, foreign.progFd, 'native'); } catch (e) { return e as SecuxflowError; } return null; })();
        expect(busy?.code).toBe('E_XDP_BUSY');
        expect(busy?.message).toMatch(/already attached by another tool/);
        // Detaching "someone else's" program id is refused, ours stays.
        expect(code(() => xdpDetach(idx, 'native', progInfo(foreign.progFd).id))).toBe('E_XDP_BUSY');
        expect(xdpQuery(idx).progId).toBe(ours.id);
        // Replace is explicit.
        expect(xdpAttach(idx, foreign.progFd, 'native', { replace: true })).toBe('native');
        expect(xdpQuery(idx).progId).toBe(progInfo(foreign.progFd).id);
        xdpDetach(idx, 'native', progInfo(foreign.progFd).id);
        expect(xdpQuery(idx).progId).toBe(0);
        expect(xdpAttach(idx, obj.progFd, 'skb')).toBe('skb');
        expect(xdpQuery(idx).mode).toBe('skb');
        xdpDetach(idx, 'skb');
        expect(xdpQuery(idx).progId).toBe(0);
      } finally {
        try { xdpDetach(idx, 'native'); } catch { /* not attached */ }
        try { xdpDetach(idx, 'skb'); } catch { /* not attached */ }
        obj.close();
        foreign.close();
      }
    });
  });
});
