// The hand-written WAT twin must give the same verdicts, ttl and alert sids as
// the AssemblyScript module for the subset it implements (README "The WAT twin").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { compileInspector, watToWasm, type CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { item, output, packet, repoRoot, rejection } from '../../host/wasm/helpers.js';
import { compiledModule } from '../support.js';

let asModule: CompiledInspector;
let watModule: CompiledInspector;
beforeAll(async () => {
  asModule = await compiledModule('basic_inspect');
  const file = join(repoRoot, 'modules', 'basic_inspect', 'basic_inspect_wat.wat');
  watModule = await compileInspector('basic_inspect_wat', await watToWasm(readFileSync(file, 'utf8'), file));
}, 180_000);

type Seen = { verdicts: number[]; args: number[]; alerts: [number, number, number][] };

async function runBoth(config: string | undefined, items: InspectItem[]): Promise<[Seen, Seen]> {
  const results: Seen[] = [];
  for (const compiled of [asModule, watModule]) {
    const inst = await InspectorInstance.create(compiled, { ...(config !== undefined ? { config } : {}), logger: () => {} });
    const out = output(items.length);
    inst.inspect(items, items.length, out);
    results.push({ verdicts: Array.from(out.verdicts), args: Array.from(out.verdictArgs), alerts: out.alerts.map((a) => [a.index, a.sigId, a.severity]) });
  }
  return [results[0]!, results[1]!];
}

// Each packet gets its own flow: the twin keeps no flow state.
function crafted(): InspectItem[] {
  const specs: Parameters<typeof packet>[0][] = [
    { payload: 'GET / HTTP/1.1\r\n\r\n' },
    { payload: "GET /?q=1' OR '1'='1 HTTP/1.1" },
    { payload: "q=1' or '1'='1" },
    { payload: 'EVIL here' },
    { payload: 'evil here' },
    { dstPort: 23, payload: 'login' },
    { srcPort: 40000, dstPort: 2323 },
    { proto: 'udp', dstPort: 53, payload: 'evil dns' },
    { proto: 'udp', dstPort: 2323, payload: 'x' },
    { proto: 'icmp', icmpType: 8, payload: 'EVIL ping' },
    { src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp', icmpType: 128, payload: 'ping6' },
    { src: '2001:db8::1', dst: '2001:db8::2', dstPort: 443, payload: 'EvIl over v6' },
    { proto: 47, payload: 'gre evil' },
    { tcpFlags: 0x02 },
  ];
  const items = specs.map((s, i) => item(packet(s), { flowId: i + 1 }));
  // a reply from a denied server port (direction to client)
  items.push(item(packet({ srcPort: 23, dstPort: 40001, payload: 'banner' }), { flowId: 100, direction: 1 }));
  return items;
}

describe('basic_inspect_wat matches basic_inspect on the shared subset', () => {
  it.each([
    ['the built-in default config', undefined],
    ['deny ports + protocols + a nocase drop pattern', JSON.stringify({ deny_ports: [23, 2323], allow_protocols: ['tcp', 'udp', 'icmp'], patterns: [{ sid: 1000001, content: 'EVIL', nocase: true, severity: 1, action: 'drop', msg: 'evil' }] })],
    ['tcp only, case-sensitive alert', JSON.stringify({ allow_protocols: ['tcp'], patterns: [{ sid: 1000010, content: 'EVIL', action: 'alert' }] })],
    ['block_src with a ttl', JSON.stringify({ block_ttl: 1234, patterns: [{ sid: 1000011, content: 'evil', severity: 3, action: 'block_src' }] })],
    ['block_flow, spaced JSON', '{\n  "patterns" : [ { "action" : "block_flow" , "content" : "evil" , "sid" : 7 } ] ,\n  "deny_ports" : [ ]\n}'],
  ])('%s', async (_name, config) => {
    const items = crafted();
    const [as, wat] = await runBoth(config, items);
    expect(wat).toEqual(as);
    // the comparison must be about something: the set exercises several verdicts
    expect(new Set(as.verdicts).size).toBeGreaterThanOrEqual(2);
  });

  it('the crafted set hits every subset feature under the default config', async () => {
    const [as] = await runBoth(undefined, crafted());
    expect(as.verdicts[1]).toBe(Verdict.DROP);
    expect(as.verdicts[5]).toBe(Verdict.BLOCK_FLOW);
    expect(as.verdicts[14]).toBe(Verdict.BLOCK_FLOW);
  });

  it('refuses configs outside the subset or invalid, with E_MODULE_CONFIG', async () => {
    for (const config of ['{"deny_ports": [99999]}', '{"allow_protocols": ["quic"]}', '{"patterns": [{"sid": 1, "content": "a\\"b"}]}', '{"patterns": [{"sid": 1, "content": "x", "action": "reject"}]}']) {
      const e = await rejection(InspectorInstance.create(watModule, { config, logger: () => {} }));
      expect(e, config).toBeInstanceOf(SecuxflowError);
      expect(e.code).toBe('E_MODULE_CONFIG');
      expect(e.message).toMatch(/config: /);
    }
  });
});
