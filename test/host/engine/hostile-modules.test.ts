// What a buggy or hostile module's results can do to the engine: verdict
// words out of the ABI's range or with extreme arguments, records past the
// batch's count, ever new signature ids. None may take effect as something
// else or grow the host's memory without end.
import { describe, expect, it } from 'vitest';
import { Engine, MAX_TRACKED_SIGNATURES } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { Verdict } from '../../../host/verdict.js';
import { moduleWith, packet } from './support.js';

// VERDICT = low byte of the destination port, VERDICT_ARG = source port; and
// BLOCK_SRC with the longest ttl in every record of the batch area past count.
const RAW_VERDICTS = `(block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (i32.const 256)))
      (local.set $r (i32.add (local.get $meta) (i32.shl (local.get $i) (i32.const 6))))
      (if (i32.lt_u (local.get $i) (local.get $count))
        (then
          (i32.store8 offset=61 (local.get $r) (i32.load8_u offset=52 (local.get $r)))
          (i32.store16 offset=62 (local.get $r) (i32.load16_u offset=50 (local.get $r))))
        (else
          (i32.store8 offset=61 (local.get $r) (i32.const 5))
          (i32.store16 offset=62 (local.get $r) (i32.const 0xffff))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))`;

// One alert per packet, sig_id = 1 + source port, with a 1024-byte message.
const SID_PER_PORT = `(block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $count)))
      (drop (call $emit_alert (local.get $i)
        (i32.add (i32.const 1) (i32.load16_u offset=50 (i32.add (local.get $meta) (i32.shl (local.get $i) (i32.const 6)))))
        (i32.const 2) (i32.const 1024) (i32.const 1024) (i32.const 0) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))`;

async function runRaw(pkts: ReturnType<typeof packet>[]) {
  const instance = await moduleWith('raw_verdicts', RAW_VERDICTS);
  const decisions: PacketDecision[] = [];
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'raw_verdicts', instance }], batchSize: 4, onDecision: (d) => decisions.push(d) });
  for (const p of pkts) engine.pushDecoded(p);
  engine.finish();
  decisions.sort((a, b) => a.index - b.index);
  return { decisions, stats: instance.stats };
}

describe('verdict words a hostile module writes', () => {
  it('bytes 6 and 0xff are CONTINUE and counted; BLOCK_SRC ttl 0 is the 60 s default and 65535 s is kept; records past the count are never read', async () => {
    const a = '198.18.0.1', b = '198.18.0.2', c = '198.18.0.3';
    const { decisions, stats } = await runRaw([
      packet({ src: a, dstPort: 0x106, srcPort: 1 }, 0),       // verdict 6
      packet({ src: a, dstPort: 0x1ff, srcPort: 2 }, 0.1),     // verdict 0xff
      packet({ src: b, dstPort: 0x105, srcPort: 0 }, 0.2),     // BLOCK_SRC, ttl 0
      packet({ src: c, dstPort: 0x105, srcPort: 65535 }, 0.3), // BLOCK_SRC, ttl 65535
      // later batches: only sources b and c were blocked, for their own ttl
      packet({ src: a, dstPort: 0x101, srcPort: 3 }, 1),
      packet({ src: b, dstPort: 0x101, srcPort: 4 }, 59),
      packet({ src: b, dstPort: 0x101, srcPort: 5 }, 61),
      packet({ src: c, dstPort: 0x101, srcPort: 6 }, 65_000),
    ]);
    expect(decisions.map((d) => [d.stage, d.verdict, d.dropped])).toEqual([
      ['module', Verdict.CONTINUE, false],
      ['module', Verdict.CONTINUE, false],
      ['module', Verdict.BLOCK_SRC, true],
      ['module', Verdict.BLOCK_SRC, true],
      ['module', Verdict.PASS, false],
      ['penalty', Verdict.DROP, true],
      ['module', Verdict.PASS, false],
      ['penalty', Verdict.DROP, true],
    ]);
    expect(decisions[2]!.modules[0]!.ttl).toBe(60);
    expect(decisions[3]!.modules[0]!.ttl).toBe(65535);
    expect(stats.verdictErrors).toBe(2);
  });
});

describe('a module raising alerts under ever new signature ids', () => {
  it('3000 distinct sids: the first MAX_TRACKED_SIGNATURES are counted one by one, the rest in alertsUntracked, and every alert still reaches its packet', async () => {
    const instance = await moduleWith('sid_per_port', SID_PER_PORT, '(memory.fill (i32.const 1024) (i32.const 0x41) (i32.const 1024))');
    let delivered = 0;
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] },
      modules: [{ name: 'sid_per_port', instance }],
      onDecision: (d) => { for (const run of d.modules) delivered += run.alerts.length; },
    });
    const n = 3000;
    for (let i = 0; i < n; i++) engine.pushDecoded(packet({ srcPort: 10_000 + i }, i / 1000));
    engine.pushDecoded(packet({ srcPort: 10_000 }, n / 1000));
    const c = engine.finish();
    expect(delivered).toBe(n + 1);
    expect(c.alerts).toBe(n + 1);
    expect(c.alertsBySignature.size).toBe(MAX_TRACKED_SIGNATURES);
    expect(c.alertsUntracked).toBe(n - MAX_TRACKED_SIGNATURES);
    // A pair already in the table keeps being counted once it is full.
    expect(c.alertsBySignature.get('sid_per_port:10001')).toMatchObject({ sigId: 10_001, count: 2 });
  });
});

describe('a module failing outside on_batch', () => {
  it('a module trapping in every on_flow_end: each failure is counted, every flow still ends and every packet still gets its decision', async () => {
    const instance = await moduleWith('flow_end_trap', '', '', 'unreachable');
    const decided: number[] = [];
    const ended: number[] = [];
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'flow_end_trap', instance }], batchSize: 1,
      onDecision: (d) => decided.push(d.index), onFlowEnd: (r) => ended.push(r.flow.id),
    });
    // The second packet comes after the first flow's idle timeout, so its flow ends in the middle of the run.
    engine.pushDecoded(packet({ srcPort: 1 }, 0));
    engine.pushDecoded(packet({ srcPort: 2 }, 1000));
    engine.pushDecoded(packet({ srcPort: 3 }, 1001));
    const c = engine.finish();
    expect(decided.sort()).toEqual([0, 1, 2]);
    expect(ended).toHaveLength(3);
    expect(c.moduleFailures).toBe(3);
    expect(instance.stats.traps).toBe(3);
  });
});
