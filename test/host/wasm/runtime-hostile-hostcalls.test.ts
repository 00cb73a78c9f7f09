// What a buggy or hostile module can do through the hostcalls while it runs:
// each test is a small module written for the case, run through the real
// InspectorInstance, and checks that the host stays correct and bounded.
import { describe, expect, it, vi } from 'vitest';
import { compileInspector, watToWasm } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { DEFAULT_LIMITS, Status } from '../../../host/wasm/abi.js';
import { MAX_JSON_CONTAINERS, MAX_JSON_DEPTH } from '../../../host/wasm/hostcalls.js';
import { LOG_LINES_PER_SECOND } from '../../../host/wasm/logger.js';
import { alertRecord, protocolRecord } from '../../../host/eve/format.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { item, output, packet, rejection } from './helpers.js';

interface Parts {
  /** Data segments: [address, text]; texts are written byte for byte (UTF-8). */
  data?: [number, string | Uint8Array][];
  /** Body of on_batch ($meta, $count; locals $i $r). Statuses can be stored with (call $arg (local.get $meta) <status>). */
  batch?: string;
  init?: string;
  flowEnd?: string;
  start?: string;
}

function watBytes(s: string | Uint8Array): string {
  const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
  return Array.from(b, (x) => `\\${x.toString(16).padStart(2, '0')}`).join('');
}

function hostileWat(p: Parts): string {
  return `(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "secuxflow" "emit_event" (func $emit_event (param i32 i32 i32 i32) (result i32)))
  (import "secuxflow" "log_message" (func $log_message (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2 64)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 65536))
  ${(p.data ?? []).map(([at, s]) => `(data (i32.const ${at}) "${watBytes(s)}")`).join('\n  ')}
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (then
      (if (i32.lt_s (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65535)) (i32.const 16)))
            (i32.const 0)) (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func $arg (param $m i32) (param $v i32) (i32.store16 offset=62 (local.get $m) (local.get $v)))
  (func (export "on_init") (param i32 i32) (result i32) ${p.init ?? ''} (i32.const 0))
  (func (export "on_flow_end") (param i64) ${p.flowEnd ?? ''})
  ${p.start ? `(func $start ${p.start}) (start $start)` : ''}
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32) (local $i i32) (local $r i32)
    ${p.batch ?? ''}
    (i32.const 0)))`;
}

type Logged = { level: string; message: string };
/** The module built from p; its log lines go to `logs`, or to the host's default logger when logs is null. */
async function hostile(p: Parts, logs: Logged[] | null = []): Promise<InspectorInstance> {
  const compiled = await compileInspector('hostile', await watToWasm(hostileWat(p), 'hostile.wat'));
  return InspectorInstance.create(compiled, logs === null ? {} : { logger: (_m, level, message) => logs.push({ level, message }) });
}

const one = () => [item(packet({ payload: 'x' }))];

function decisionFor(pkt = packet({ payload: 'x' })): PacketDecision {
  return { index: 0, pkt, sources: [pkt], flow: null, direction: 0, stage: 'module', rule: null, ruleAction: null, modules: [], verdict: 0, dropped: false, inspected: 1 };
}

describe('a hostile module calling the hostcalls during on_batch', () => {
  it('metadata and event JSON nested thousands of levels deep: BAD_ARGUMENT and nothing kept, so the EVE writer never recurses into it', async () => {
    const deep = (n: number) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;
    const texts = [deep(8000), deep(MAX_JSON_DEPTH), deep(MAX_JSON_DEPTH - 1), '{"s":"' + '['.repeat(100) + '"}'];
    const at = [1024, 20000, 21024, 22048];
    const call = (k: number, fn: 'alert' | 'event') => fn === 'alert'
      ? `(call $emit_alert (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 16) (i32.const 1) (i32.const ${at[k]}) (i32.const ${texts[k]!.length}))`
      : `(call $emit_event (i32.const 0) (i32.const 1) (i32.const ${at[k]}) (i32.const ${texts[k]!.length}))`;
    const statuses = [0, 1, 2, 3].flatMap((k) => [call(k, 'alert'), call(k, 'event')]);
    // Statuses go to meta records 0..7 of the batch, one per call.
    const inst = await hostile({
      data: [[16, 'x'], ...texts.map((t, k) => [at[k]!, t] as [number, string])],
      batch: statuses.map((c, k) => `(call $arg (i32.add (local.get $meta) (i32.const ${k * 64})) ${c})`).join('\n'),
    });
    const items = Array.from({ length: 8 }, () => one()[0]!);
    const out = output(8);
    inst.inspect(items, 8, out);
    // depth 8000 and depth 32 + 1 (the {"a": wrapper) are refused; 32 levels in all and brackets inside strings are fine
    expect(Array.from(out.verdictArgs)).toEqual([
      Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT,
      Status.OK, Status.OK, Status.OK, Status.OK,
    ]);
    expect(out.alerts).toHaveLength(2);
    expect(out.events).toHaveLength(2);
    expect(inst.stats.hostcallErrors).toBe(4);
    for (const a of out.alerts) expect(() => JSON.stringify(alertRecord(decisionFor(), 'hostile', a, undefined))).not.toThrow();
    for (const e of out.events) expect(() => JSON.stringify(protocolRecord(decisionFor(), e))).not.toThrow();
  });

  it('metadata and event JSON of 16 KiB of empty objects (5400 of them, ~350 KB of heap each once parsed): BAD_ARGUMENT, while a list of 254 (256 arrays and objects in all) is kept', async () => {
    const list = (n: number) => `{"a":[${Array(n).fill('{}').join(',')}]}`;
    const texts = [list(5400), list(MAX_JSON_CONTAINERS - 1), list(MAX_JSON_CONTAINERS - 2)];
    const at = [1024, 20480, 24576];
    const calls = texts.flatMap((t, k) => [
      `(call $emit_alert (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 16) (i32.const 1) (i32.const ${at[k]}) (i32.const ${t.length}))`,
      `(call $emit_event (i32.const 0) (i32.const 1) (i32.const ${at[k]}) (i32.const ${t.length}))`,
    ]);
    const inst = await hostile({
      data: [[16, 'x'], ...texts.map((t, k) => [at[k]!, t] as [number, string])],
      batch: calls.map((c, k) => `(call $arg (i32.add (local.get $meta) (i32.const ${k * 64})) ${c})`).join('\n'),
    });
    const out = output(6);
    inst.inspect(Array.from({ length: 6 }, () => one()[0]!), 6, out);
    // the list plus its wrapper: 5401 and MAX_JSON_CONTAINERS + 1 refused, MAX_JSON_CONTAINERS kept
    expect(Array.from(out.verdictArgs)).toEqual([Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.OK, Status.OK]);
    expect((out.alerts[0]!.metadata!.a as unknown[]).length).toBe(MAX_JSON_CONTAINERS - 2);
    expect(out.events).toHaveLength(1);
  });

  it('metadata and event JSON with unpaired surrogate escapes ("\\ud800") in values and keys: read as U+FFFD, so the EVE line holds no lone surrogate, while a real pair is kept', async () => {
    const json = String.raw`{"k":"a\ud800b","\udc00":"\ud83d\ude00","__proto__":"\\ud800"}`;
    const inst = await hostile({
      data: [[16, 'x'], [1024, json]],
      batch: `(call $arg (local.get $meta) (call $emit_alert (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 1024) (i32.const ${json.length})))
        (call $arg (i32.add (local.get $meta) (i32.const 64)) (call $emit_event (i32.const 1) (i32.const 1) (i32.const 1024) (i32.const ${json.length})))`,
    });
    const out = output(2);
    inst.inspect([one()[0]!, one()[0]!], 2, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.OK, Status.OK]);
    // "\\ud800" is an escaped backslash, plain text: kept as written
    const expected = Object.fromEntries([['k', 'a\ufffdb'], ['\ufffd', '\ud83d\ude00'], ['__proto__', '\\ud800']]) as Record<string, unknown>;
    expect(out.alerts[0]!.metadata).toEqual(expected);
    expect(Object.keys(out.events[0]!.data)).toEqual(['k', '\ufffd', '__proto__']);
    expect(out.events[0]!.data).toEqual(expected);
    const lines = [JSON.stringify(alertRecord(decisionFor(), 'hostile', out.alerts[0]!, undefined)), JSON.stringify(protocolRecord(decisionFor(), out.events[0]!))];
    for (const line of lines) expect(line).not.toMatch(/(?<!\\)\\ud[89a-f]/i);
  });

  it('alerts with absurd arguments: sig_id 0 or INT_MIN, severity 0 or 256, a message of 1025 bytes or 2^31 bytes are refused; sig_id INT_MAX, severity 255 and 1024 bytes are kept', async () => {
    const cases: [number, number, number][] = [ // sig_id, severity, message length
      [0, 1, 1], [-2147483648, 1, 1], [1, 0, 1], [1, 256, 1], [1, 1, 1025], [1, 1, -2147483648], [2147483647, 255, 1024],
    ];
    const inst = await hostile({
      data: [[1024, 'm'.repeat(1025)]],
      batch: cases.map(([sid, sev, len], k) => `(call $arg (i32.add (local.get $meta) (i32.const ${k * 64}))
        (call $emit_alert (i32.const ${k}) (i32.const ${sid}) (i32.const ${sev}) (i32.const 1024) (i32.const ${len}) (i32.const 0) (i32.const 0)))`).join('\n'),
    });
    const out = output(cases.length);
    inst.inspect(cases.map(() => one()[0]!), cases.length, out);
    expect(Array.from(out.verdictArgs)).toEqual([
      Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.LIMIT_REACHED, Status.OUT_OF_BOUNDS, Status.OK,
    ]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.severity, a.message.length])).toEqual([[6, 2147483647, 255, 1024]]);
    expect(inst.stats).toMatchObject({ alertsDropped: 1, hostcallErrors: 5 });
  });

  it('a module raising a million alerts, events and log lines with 16 KiB of JSON each in one batch: the first of each budget are kept, the rest counted as dropped without their JSON being parsed', async () => {
    const json = JSON.stringify({ k: 'v'.repeat(16_000) });
    const logs: Logged[] = [];
    const inst = await hostile({
      data: [[16, 'x'], [1024, json]],
      batch: `(block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (i32.const 1000000)))
        (drop (call $emit_alert (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 1024) (i32.const ${json.length})))
        (drop (call $emit_event (i32.const 0) (i32.const 1) (i32.const 1024) (i32.const ${json.length})))
        (drop (call $log_message (i32.const 2) (i32.const 16) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))`,
    }, logs);
    const parse = vi.spyOn(JSON, 'parse');
    const out = output(1);
    let parsed: number;
    try {
      inst.inspect(one(), 1, out);
    } finally {
      parsed = parse.mock.calls.length;
      parse.mockRestore();
    }
    expect(out.alerts).toHaveLength(DEFAULT_LIMITS.ALERTS_PER_BATCH);
    expect(out.events).toHaveLength(DEFAULT_LIMITS.EVENTS_PER_BATCH);
    expect(logs).toHaveLength(DEFAULT_LIMITS.LOGS_PER_CALL);
    expect(inst.stats).toMatchObject({
      alertsDropped: 1_000_000 - DEFAULT_LIMITS.ALERTS_PER_BATCH,
      eventsDropped: 1_000_000 - DEFAULT_LIMITS.EVENTS_PER_BATCH,
      logsDropped: 1_000_000 - DEFAULT_LIMITS.LOGS_PER_CALL,
    });
    // Only what the budgets let through was parsed: the refused calls cost the host no JSON work.
    expect(parsed).toBe(DEFAULT_LIMITS.ALERTS_PER_BATCH + DEFAULT_LIMITS.EVENTS_PER_BATCH);
  }, 60_000);

  it('a million 1 KiB ERROR lines full of newlines, then a trap: 32 are logged, the rest counted, the trap quotes the last one escaped, and the flood costs the host seconds at most', async () => {
    const logs: Logged[] = [];
    const inst = await hostile({
      data: [[16, 'last\nwords']],
      init: '(memory.fill (i32.const 1024) (i32.const 0x0a) (i32.const 1024))',
      batch: `(block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (i32.const 1000000)))
          (drop (call $log_message (i32.const 3) (i32.const 1024) (i32.const 1024)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
        (drop (call $log_message (i32.const 3) (i32.const 16) (i32.const 10)))
        unreachable`,
    }, logs);
    const t0 = performance.now();
    let err: unknown = null;
    try { inst.inspect(one(), 1, output(1)); } catch (e) { err = e; }
    const seconds = (performance.now() - t0) / 1000;
    expect(err).toMatchObject({ code: 'E_MODULE_TRAP' });
    expect((err as Error).message).toContain('(module said: last\\nwords)');
    expect(logs).toHaveLength(DEFAULT_LIMITS.LOGS_PER_CALL);
    expect(logs[0]!.message).toBe('\\n'.repeat(1024));
    expect(inst.stats.logsDropped).toBe(1_000_001 - DEFAULT_LIMITS.LOGS_PER_CALL);
    // Escaping every dropped line as well took about a minute.
    expect(seconds).toBeLessThan(20);
  }, 120_000);

  it('a log line with a newline, an ESC sequence, NUL and U+2028 reaches the log as one printable line, and so does the error quoted when on_init refuses', async () => {
    const forged = 'ok\n[other] error: forged\u001b[2J\u0000\u2028end\ttab';
    const n = new TextEncoder().encode(forged).length;
    const logs: Logged[] = [];
    const inst = await hostile({ data: [[16, forged]], batch: `(call $arg (local.get $meta) (call $log_message (i32.const 2) (i32.const 16) (i32.const ${n})))` }, logs);
    const out = output(1);
    inst.inspect(one(), 1, out);
    expect(out.verdictArgs[0]).toBe(Status.OK);
    expect(logs).toEqual([{ level: 'warn', message: 'ok\\n[other] error: forged\\x1b[2J\\x00\\u2028end\ttab' }]);
    const e = await rejection(hostile({
      data: [[16, forged]],
      init: `(drop (call $log_message (i32.const 3) (i32.const 16) (i32.const ${n}))) (return (i32.const 1))`,
    }));
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).not.toMatch(/[\n\u001b\u0000\u2028]/);
    expect(e.message).toContain('ok\\n[other] error: forged\\x1b[2J');
  });
});

describe('a hostile module calling the hostcalls outside on_batch', () => {
  it('alerts and events raised in on_init and on_flow_end reach no output: counted as dropped, not as alerts and events', async () => {
    const raise = `(drop (call $emit_alert (i32.const -1) (i32.const 1) (i32.const 1) (i32.const 64) (i32.const 2) (i32.const 0) (i32.const 0)))
      (drop (call $emit_event (i32.const -1) (i32.const 1) (i32.const 64) (i32.const 2)))`;
    const inst = await hostile({ data: [[64, '{}']], init: raise, flowEnd: raise });
    inst.flowEnded(1);
    inst.flowEnded(2);
    const out = output(1);
    inst.inspect(one(), 1, out);
    expect(out.alerts).toEqual([]);
    expect(inst.stats).toMatchObject({ alerts: 0, events: 0, alertsDropped: 3, eventsDropped: 3 });
  });

  it('hostcalls from the start function, before the host can see the module\'s memory: BAD_ARGUMENT, and the module still loads', async () => {
    // The start function stores each status at 8, 12 and 16 for on_batch to report.
    const inst = await hostile({
      data: [[64, '{}']],
      start: `(i32.store (i32.const 8) (call $log_message (i32.const 3) (i32.const 64) (i32.const 2)))
        (i32.store (i32.const 12) (call $emit_alert (i32.const -1) (i32.const 1) (i32.const 1) (i32.const 64) (i32.const 2) (i32.const 0) (i32.const 0)))
        (i32.store (i32.const 16) (call $emit_event (i32.const -1) (i32.const 1) (i32.const 64) (i32.const 2)))`,
      batch: `(call $arg (local.get $meta) (i32.or (i32.load (i32.const 8)) (i32.or (i32.shl (i32.load (i32.const 12)) (i32.const 4)) (i32.shl (i32.load (i32.const 16)) (i32.const 8)))))`,
    });
    const out = output(1);
    inst.inspect(one(), 1, out);
    expect(out.verdictArgs[0]).toBe(Status.BAD_ARGUMENT | (Status.BAD_ARGUMENT << 4) | (Status.BAD_ARGUMENT << 8));
    expect(out.alerts).toEqual([]);
  });

  it('alerts and events for a packet index from on_init and on_flow_end: BAD_ARGUMENT for any index but -1, and nothing reaches a later batch', async () => {
    // Each context stores its statuses (index 0, index -1, index INT_MIN) at 8.., on_batch reports them as one word.
    const calls = (at: number) => [0, -1, -2147483648].map((idx, k) =>
      `(i32.store8 (i32.const ${at + k}) (call $emit_alert (i32.const ${idx}) (i32.const 1) (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 0)))`).join('\n');
    const inst = await hostile({
      data: [[64, 'x']],
      init: calls(8),
      flowEnd: calls(12),
      batch: `(call $arg (local.get $meta) (i32.or (i32.load8_u (i32.const 8))
        (i32.or (i32.shl (i32.load8_u (i32.const 9)) (i32.const 2)) (i32.or (i32.shl (i32.load8_u (i32.const 10)) (i32.const 4))
        (i32.or (i32.shl (i32.load8_u (i32.const 12)) (i32.const 8)) (i32.or (i32.shl (i32.load8_u (i32.const 13)) (i32.const 10)) (i32.shl (i32.load8_u (i32.const 14)) (i32.const 12))))))))`,
    });
    inst.flowEnded(7);
    const out = output(1);
    inst.inspect(one(), 1, out);
    const word = (b: number, ok: number, c: number) => b | (ok << 2) | (c << 4);
    expect(out.verdictArgs[0]).toBe(word(Status.BAD_ARGUMENT, Status.OK, Status.BAD_ARGUMENT) | (word(Status.BAD_ARGUMENT, Status.OK, Status.BAD_ARGUMENT) << 8));
    expect(out.alerts).toEqual([]);
    expect(inst.stats.hostcallErrors).toBe(4);
  });

  it('32 WARN lines in every on_flow_end of 1000 flows, each ending after a batch of its own (a fresh log budget): stderr gets LOG_LINES_PER_SECOND lines a second, and the suppressed count once the second is over', async () => {
    const inst = await hostile({
      data: [[16, 'flow over']],
      flowEnd: `(local $n i32) (block $d (loop $l (br_if $d (i32.ge_u (local.get $n) (i32.const 32)))
        (drop (call $log_message (i32.const 2) (i32.const 16) (i32.const 9)))
        (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $l)))`,
    }, null);
    vi.stubEnv('SECUXFLOW_LOG', 'warn');
    let now = 1_000_000_000_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    const lines: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; });
    try {
      const endAfterBatch = (f: number): void => { inst.inspect(one(), 1, output(1)); inst.flowEnded(f); };
      for (let f = 0; f < 1000; f++) endAfterBatch(f);
      const first = lines.length;
      now += 1000;
      endAfterBatch(1000);
      expect(first).toBe(LOG_LINES_PER_SECOND);
      expect(lines[0]).toBe('[hostile] warn: flow over\n');
      expect(lines[first]).toBe(`[hostile] warn: ${32_000 - LOG_LINES_PER_SECOND} log lines suppressed (over ${LOG_LINES_PER_SECOND} a second)\n`);
      expect(lines.length - first - 1).toBe(32);
    } finally {
      stderr.mockRestore();
      clock.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
