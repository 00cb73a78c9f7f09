import { beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectItem, ModuleAlert } from '../../../host/wasm/types.js';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { item, output, packet, rejection } from '../../host/wasm/helpers.js';
import { compiledModule } from '../support.js';

let compiled: CompiledInspector;
beforeAll(async () => { compiled = await compiledModule('basic_inspect'); }, 180_000);

async function instance(config?: unknown): Promise<InspectorInstance> {
  return InspectorInstance.create(compiled, { ...(config !== undefined ? { config: JSON.stringify(config) } : {}), logger: () => {} });
}

function run(inst: InspectorInstance, items: InspectItem[]): { verdicts: number[]; args: number[]; alerts: ModuleAlert[] } {
  const out = output(items.length);
  inst.inspect(items, items.length, out);
  return { verdicts: Array.from(out.verdicts), args: Array.from(out.verdictArgs), alerts: out.alerts };
}

const http = (path: string, flowId = 1) => item(packet({ payload: `GET ${path} HTTP/1.1\r\nHost: shop.example\r\n\r\n` }), { flowId });
const enc = (s: string) => new TextEncoder().encode(s);

describe('basic_inspect with its built-in config', () => {
  it('flags the demo attacks with their documented sids and actions, and lets benign traffic continue', async () => {
    const inst = await instance();
    const r = run(inst, [
      http('/index.html', 1),
      http("/search?q=1' OR '1'='1' --", 2),
      http('/static/../../etc/passwd', 3),
      item(packet({ payload: 'X-Api-Version: ${JNDI:ldap://198.18.9.9/a}' }), { flowId: 4 }),
      item(packet({ payload: 'exec /bin/sh -i' }), { flowId: 5 }),
      item(packet({ payload: '<SCRIPT>alert(1)</script>' }), { flowId: 6 }),
      item(packet({ dstPort: 23, payload: 'login' }), { flowId: 7 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.DROP, Verdict.DROP, Verdict.BLOCK_FLOW, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.severity])).toEqual([[1, 1000001, 1], [2, 1000002, 1], [3, 1000003, 1], [4, 1000004, 2], [5, 1000005, 2], [6, 1000101, 2]]);
    expect(r.alerts[0]!.message).toBe('SQL injection tautology');
    // "GET /search?q=1" is 15 bytes: the tautology starts right after it
    expect(r.alerts[0]!.metadata).toEqual({ match_offset: 15, in_stream: false, direction: 'to_server', action: 'drop' });
    expect(r.alerts[6 - 1]!.metadata).toEqual({ port: 23 });
  });

  it('a BLOCK_FLOW decision sticks for the flow until the flow ends, then state is freed', async () => {
    const inst = await instance();
    expect(run(inst, [item(packet({ dstPort: 23 }), { flowId: 9 })]).verdicts).toEqual([Verdict.BLOCK_FLOW]);
    const again = run(inst, [item(packet({ dstPort: 80, payload: 'hello' }), { flowId: 9 })]);
    expect(again.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(again.alerts).toEqual([]); // no repeated alert
    inst.flowEnded(9);
    expect(run(inst, [item(packet({ dstPort: 80, payload: 'hello' }), { flowId: 9 })]).verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('leaves non-IP frames alone (PASS)', async () => {
    const inst = await instance();
    const p = packet({ payload: 'x' });
    expect(run(inst, [item({ ...p, ipVersion: 0, l3Offset: -1, l4Offset: -1, payloadOffset: -1, payloadLength: 0, proto: 0 })]).verdicts).toEqual([Verdict.PASS]);
  });
});

describe('basic_inspect config features', () => {
  it('deny_ports applies to the server port, in both directions', async () => {
    const inst = await instance({ deny_ports: [2323] });
    const r = run(inst, [
      item(packet({ dstPort: 2323 }), { flowId: 1, direction: 0 }),
      item(packet({ srcPort: 2323, dstPort: 40000 }), { flowId: 2, direction: 1 }),
      item(packet({ srcPort: 2323, dstPort: 80 }), { flowId: 3, direction: 0 }), // client happens to use 2323
      item(packet({ proto: 'udp', dstPort: 2323 }), { flowId: 4 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(r.alerts.map((a) => a.sigId)).toEqual([1000101, 1000101, 1000101]);
  });

  it('allow_protocols blocks other protocols with sid 1000102; "icmp" covers ICMPv6', async () => {
    const inst = await instance({ allow_protocols: ['tcp', 'icmp'] });
    const r = run(inst, [
      item(packet({ proto: 'udp', dstPort: 53, payload: 'q' }), { flowId: 1 }),
      item(packet({ proto: 'icmp', icmpType: 8 }), { flowId: 2 }),
      item(packet({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp', icmpType: 128 }), { flowId: 3 }),
      item(packet({ proto: 47, payload: 'gre' }), { flowId: 4 }),
      item(packet({ payload: 'hi' }), { flowId: 5 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW, Verdict.CONTINUE]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata])).toEqual([[0, 1000102, { proto: 17 }], [3, 1000102, { proto: 47 }]]);
  });

  it('patterns: case-sensitive vs nocase, and each action maps to its verdict (block_src with block_ttl)', async () => {
    const inst = await instance({
      block_ttl: 900,
      patterns: [
        { sid: 11, content: 'Secret', msg: 'exact' },
        { sid: 12, content: 'evil', nocase: true, action: 'drop', severity: 3 },
        { sid: 13, content: 'worse', action: 'block_flow' },
        { sid: 14, content: 'worst', action: 'block_src', severity: 1 },
      ],
    });
    const r = run(inst, [
      item(packet({ payload: 'the Secret' }), { flowId: 1 }),
      item(packet({ payload: 'the secret' }), { flowId: 2 }),
      item(packet({ payload: 'so EVIL' }), { flowId: 3 }),
      item(packet({ payload: 'worse' }), { flowId: 4 }),
      item(packet({ payload: 'worst and evil' }), { flowId: 5 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.DROP, Verdict.BLOCK_FLOW, Verdict.BLOCK_SRC]);
    expect(r.args[4]).toBe(900);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.severity, a.message])).toEqual([
      [0, 11, 2, 'exact'], [2, 12, 3, 'basic_inspect pattern 12'], [3, 13, 2, 'basic_inspect pattern 13'], [4, 12, 3, 'basic_inspect pattern 12'], [4, 14, 1, 'basic_inspect pattern 14'],
    ]);
  });

  it('the two-byte prefilter misses nothing: one-byte patterns at the last byte, nocase in any case, rare second bytes', async () => {
    const inst = await instance({
      patterns: [
        { sid: 41, content: '!' },
        { sid: 42, content: 'union select', nocase: true },
        { sid: 43, content: '/.git' },
        { sid: 44, content: 'Zq' },
      ],
    });
    const r = run(inst, [
      item(packet({ payload: 'hello!' }), { flowId: 1 }), // 1-byte pattern as the very last byte
      item(packet({ payload: '!' }), { flowId: 2 }), // and as the only byte
      item(packet({ payload: 'q=1 UnIoN SeLeCt x' }), { flowId: 3 }),
      item(packet({ payload: 'GET /a/b/./.gi /.git/config' }), { flowId: 4 }), // near misses sharing the first bytes, then a match
      item(packet({ payload: 'ZZZq' }), { flowId: 5 }), // the pair starts on the second Z
      item(packet({ payload: 'zq ZQ Z' }), { flowId: 6 }), // case-sensitive: no match, and a lone last-byte Z
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId, (a.metadata as { match_offset: number }).match_offset])).toEqual([
      [0, 41, 5], [1, 41, 0], [2, 42, 4], [3, 43, 15], [4, 44, 2],
    ]);
  });

  it('finds a pattern split across two TCP segments once, in the stream', async () => {
    const inst = await instance({ patterns: [{ sid: 21, content: "' or '1'='1", nocase: true }] });
    const full = "GET /?q=x' OR '1'='1 HTTP/1.1\r\n\r\n";
    const cut = 14; // inside the pattern
    const first = enc(full.slice(0, cut));
    const all = enc(full);
    const r = run(inst, [
      item(packet({ payload: full.slice(0, cut) }), { flowId: 1, stream: first, streamNew: first.length }),
      item(packet({ payload: full.slice(cut) }), { flowId: 1, stream: all, streamNew: all.length - cut }),
      item(packet({ payload: 'more' }), { flowId: 1, stream: enc(full + 'more'), streamNew: 4 }),
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata])).toEqual([[1, 21, { match_offset: full.indexOf("'"), in_stream: true, direction: 'to_server', action: 'alert' }]]);
    // neither segment alone holds the pattern
    const alone = run(await instance({ patterns: [{ sid: 21, content: "' or '1'='1", nocase: true }] }), [
      item(packet({ payload: full.slice(0, cut) }), { flowId: 1 }),
      item(packet({ payload: full.slice(cut) }), { flowId: 2 }),
    ]);
    expect(alone.alerts).toEqual([]);
  });

  it('a retransmitted segment (no stream) in a streamed direction is not scanned again', async () => {
    const inst = await instance({ patterns: [{ sid: 31, content: 'bad' }] });
    const r = run(inst, [
      item(packet({ payload: 'bad' }), { flowId: 1, stream: enc('bad'), streamNew: 3 }),
      item(packet({ payload: 'bad' }), { flowId: 1 }),
    ]);
    expect(r.alerts.map((a) => a.index)).toEqual([0]);
  });

  it('inspect_depth: no match beyond it, and ALLOW_FLOW once both directions reached it', async () => {
    const inst = await instance({ inspect_depth: 8, patterns: [{ sid: 41, content: 'bad' }] });
    const r = run(inst, [
      item(packet({ proto: 'udp', payload: '12345678bad' }), { flowId: 1, direction: 0 }),
      item(packet({ proto: 'udp', payload: 'bad' }), { flowId: 1, direction: 0 }),
      item(packet({ proto: 'udp', payload: 'abcdefghij' }), { flowId: 1, direction: 1 }),
    ]);
    expect(r.alerts).toEqual([]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('a stream gap ends inspection of that direction', async () => {
    const inst = await instance({ inspect_depth: 4096 });
    const r = run(inst, [
      item(packet({ payload: 'abc' }), { flowId: 1, direction: 0, stream: enc('abc'), streamNew: 3, flags: 0x08 }),
      item(packet({ payload: 'def' }), { flowId: 1, direction: 1, stream: enc('def'), streamNew: 3, flags: 0x08 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('no_payload_packets: a flow without payload is allowed after that many packets', async () => {
    const inst = await instance({ no_payload_packets: 3 });
    const r = run(inst, [1, 2, 3].map(() => item(packet({ tcpFlags: 0x10 }), { flowId: 5 })));
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it.each([
    [{ deny_port: [1] }, 'unknown field "deny_port"'],
    [{ deny_ports: [70000] }, 'deny_ports[0] must be a port number 0..65535'],
    [{ allow_protocols: ['tcp', 'quic'] }, 'allow_protocols[1]: unknown protocol "quic"'],
    [{ patterns: [{ sid: 1, content: 'x', action: 'reject' }] }, 'patterns[0].action must be one of alert, drop, block_flow, block_src'],
    [{ patterns: [{ sid: 0, content: 'x' }] }, 'patterns[0].sid must be an integer'],
    [{ patterns: [{ sid: 1, content: '' }] }, 'patterns[0].content must be a non-empty string'],
    [{ inspect_depth: 0 }, 'inspect_depth must be an integer'],
    [{ block_ttl: 70000 }, 'block_ttl must be an integer 1..65535'],
    [[1, 2], 'the config must be a JSON object'],
  ])('refuses %j with E_MODULE_CONFIG naming the field', async (config, why) => {
    const e = await rejection(instance(config));
    expect(e).toBeInstanceOf(SecuxflowError);
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).toContain(`config: ${why}`);
  });

  it('refuses config text that is not JSON, saying where', async () => {
    const e = await rejection(InspectorInstance.create(compiled, { config: '{"deny_ports": [23,]}', logger: () => {} }));
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).toMatch(/config is not valid JSON: unexpected character ']' at byte 19/);
  });

  it('reads JSON escapes in pattern content (\\u escapes, surrogate pairs)', async () => {
    // written by hand: JSON.stringify would not produce the escapes under test
    const config = String.raw`{"patterns": [{"sid": 51, "content": "caf\u00e9 \ud83d\ude00 \"q\"\t"}]}`;
    const inst = await InspectorInstance.create(compiled, { config, logger: () => {} });
    const r = run(inst, [item(packet({ payload: 'x café 😀 "q"\ty' }), { flowId: 1 }), item(packet({ payload: 'x café 😀 "q" y' }), { flowId: 2 })]);
    expect(r.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 51]]);
  });
});
