// The unit-test harness of a `secuxflow module new` project gave every
// packet a flow of its own, no stream bytes and no on_flow_end, and dropped
// events: a module keeping per-flow state or searching TCP streams (what
// modules/README.md recommends) could not be tested with it. Here a scaffolded
// project's inspector does both, and its own harness has to show it.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const ASC = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');

// Counts requests per flow from the stream; the second request of a flow carrying X-Evil blocks it.
const INSPECTOR = `import { Inspector, Packet, Verdict, IpProto, EventKind, FlowMap, register, alert, event, utf8, lowerAscii } from "./sdk";
export * from "./sdk/exports";
class Seen { requests: i32 = 0; }
class Guard extends Inspector {
  get_: Uint8Array = utf8("GET ");
  evil: Uint8Array = lowerAscii(utf8("\\r\\nx-evil:"));
  flows: FlowMap<Seen> = new FlowMap<Seen>();
  onPacket(pkt: Packet): Verdict {
    if (pkt.proto != IpProto.TCP || pkt.streamNew == 0) return Verdict.CONTINUE;
    let s = this.flows.get(pkt.flowId);
    if (s === null) { s = new Seen(); this.flows.set(pkt.flowId, s); }
    const from = pkt.streamLength - pkt.streamNew;
    if (pkt.streamIndexOf(this.get_, from) >= 0) s.requests++;
    if (pkt.streamIndexOfNoCase(this.evil, max(0, from - this.evil.length)) >= 0) {
      alert(pkt, 3100001, 1, "X-Evil in request " + s.requests.toString());
      event(pkt, EventKind.HTTP, "{\\"url\\":\\"/\\"}");
      return Verdict.BLOCK_FLOW;
    }
    return Verdict.CONTINUE;
  }
  onFlowEnd(flowId: u64): void {
    const s = this.flows.get(flowId);
    if (s !== null) alert(null, 3100002, 4, "flow ended after " + s.requests.toString() + " requests");
  }
}
register(new Guard());
`;

describe('the test harness of a scaffolded module project', () => {
  let dir = '';
  beforeAll(() => {
    requireBuilt();
    dir = join(tempDir('mod-harness'), 'guard');
    expect(cli(['module', 'new', 'guard', '--dir', dir]).status).toBe(0);
    writeFileSync(join(dir, 'index.ts'), INSPECTOR);
    const build = spawnSync(process.execPath, [ASC, 'index.ts', '--config', 'asconfig.json', '--target', 'release', '-o', 'build/guard.wasm'], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
  }, 120_000);

  it('gives packets of one flow shared state, stream bytes across packets, events and on_flow_end', async () => {
    const { loadInspector } = await import(join(dir, 'test', 'harness.ts'));
    const m = loadInspector(join(dir, 'build', 'guard.wasm'));
    // The header is split across two segments: only the stream sees it whole.
    expect(m.run([
      { proto: 'tcp', dstPort: 80, flow: 7, payload: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' },
      { proto: 'tcp', dstPort: 80, flow: 8, payload: 'GET / HTTP/1.1\r\n' },
      { proto: 'tcp', dstPort: 80, flow: 7, payload: 'GET /x HTTP/1.1\r\nX-Ev' },
      { proto: 'tcp', dstPort: 80, flow: 7, payload: 'il: 1\r\n\r\n' },
    ])).toEqual([0, 0, 0, 4]);
    expect(m.alerts).toEqual([{ index: 3, sid: 3100001, severity: 1, message: 'X-Evil in request 2' }]);
    expect(m.events).toEqual([{ index: 3, kind: 3, json: { url: '/' } }]);
    m.flowEnd(8);
    expect(m.alerts[1]).toEqual({ index: -1, sid: 3100002, severity: 4, message: 'flow ended after 1 requests' });
  });

  it('packets without a flow are each a flow of their own, as before', async () => {
    const { loadInspector } = await import(join(dir, 'test', 'harness.ts'));
    const m = loadInspector(join(dir, 'build', 'guard.wasm'));
    expect(m.run([
      { proto: 'tcp', dstPort: 80, payload: 'GET /x HTTP/1.1\r\nX-Ev' },
      { proto: 'tcp', dstPort: 80, payload: 'il: 1\r\n\r\n' },
    ])).toEqual([0, 0]);
  });
});

// A per-source rate limit with BLOCK_SRC: the harness had no source address,
// no capture time, no TCP flags and no VERDICT_ARG, so it could not be
// tested; a trap showed only "unreachable", and a bad verdict passed.
const RATE = `import { Inspector, Packet, Verdict, IpProto, register, log, LogLevel, nowNs } from "./sdk";
export * from "./sdk/exports";
class Rate extends Inspector {
  last: Map<u32, i64> = new Map<u32, i64>();
  onPacket(pkt: Packet): Verdict {
    if (pkt.proto == IpProto.TCP && pkt.dstPort == 9) return <Verdict>9;
    if (pkt.proto == IpProto.TCP && pkt.dstPort == 666) {
      log(LogLevel.ERROR, "refusing port 666 at " + nowNs().toString());
      unreachable();
    }
    if (pkt.proto != IpProto.TCP || pkt.tcpFlags != 0x02) return Verdict.CONTINUE;
    const src = pkt.srcIp4;
    const seen = this.last.has(src) ? this.last.get(src) : <i64>-1;
    this.last.set(src, pkt.timeNs);
    if (seen >= 0 && pkt.timeNs - seen < 1_000_000_000) {
      pkt.setBlockTtl(<i32>(pkt.timeNs / 1_000_000_000 % 1000) + 1);
      return Verdict.BLOCK_SRC;
    }
    return Verdict.CONTINUE;
  }
}
register(new Rate());
`;

describe('the harness: addresses, times, flags, verdict arguments, traps and bad verdicts', () => {
  let dir = '';
  beforeAll(() => {
    requireBuilt();
    dir = join(tempDir('mod-harness-rate'), 'rate');
    expect(cli(['module', 'new', 'rate', '--dir', dir]).status).toBe(0);
    writeFileSync(join(dir, 'index.ts'), RATE);
    const build = spawnSync(process.execPath, [ASC, 'index.ts', '--config', 'asconfig.json', '--target', 'release', '-o', 'build/rate.wasm'], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
  }, 120_000);

  it('a second SYN from one source within a second is BLOCK_SRC with its ttl; other sources and later SYNs are not', async () => {
    const { loadInspector } = await import(join(dir, 'test', 'harness.ts'));
    const m = loadInspector(join(dir, 'build', 'rate.wasm'));
    const syn = (src: string, tsSec: number, tsNsec = 0) => ({ proto: 'tcp', dstPort: 22, src, dst: '198.18.9.9', tsSec, tsNsec, tcpFlags: 0x02 });
    expect(m.run([syn('198.18.5.1', 100), syn('198.18.5.2', 100), syn('198.18.5.1', 100, 500_000_000), syn('198.18.5.1', 102)])).toEqual([0, 0, 5, 0]);
    expect(m.verdictArgs).toEqual([0, 0, 101, 0]);
    // Not a SYN: the flags reach the module.
    expect(m.run([{ proto: 'tcp', dstPort: 22, src: '198.18.5.1', tsSec: 102, tcpFlags: 0x10 }])).toEqual([0]);
  });

  it('a trap comes back with what the module logged, and a verdict past 5 fails the run', async () => {
    const { loadInspector } = await import(join(dir, 'test', 'harness.ts'));
    const m = loadInspector(join(dir, 'build', 'rate.wasm'));
    expect(() => m.run([{ proto: 'tcp', dstPort: 666, tsSec: 7 }])).toThrow(/on_batch trapped: .*unreachable.*; the module logged: refusing port 666 at 7000000000/);
    expect(() => loadInspector(join(dir, 'build', 'rate.wasm')).run([{ proto: 'tcp', dstPort: 9 }])).toThrow(/packet 0: verdict 9 is outside 0\.\.5; the host would take it as CONTINUE/);
  });
});
