import { describe, expect, it } from 'vitest';
import { loadInspector } from './harness';

const WASM = new URL('../build/__NAME__.wasm', import.meta.url).pathname;
const CONTINUE = 0;
const DROP = 3;

describe('__NAME__', () => {
  it('declares ABI v1', () => {
    const m = loadInspector(WASM);
    expect(m.exports.secuxflow_abi_version.value).toBe(1);
    expect(m.initStatus).toBe(0);
  });

  it('drops TCP to the blocked port with an alert, lets the rest continue', () => {
    const m = loadInspector(WASM);
    expect(m.run([{ proto: 'tcp', dstPort: 23 }, { proto: 'tcp', dstPort: 80 }, { proto: 'udp', dstPort: 23 }])).toEqual([DROP, CONTINUE, CONTINUE]);
    expect(m.alerts).toEqual([{ index: 0, sid: 3000001, severity: 2, message: 'TCP to blocked port 23' }]);
  });

  it('takes the port from its config and refuses a bad one', () => {
    expect(loadInspector(WASM, { blocked_port: 8080 }).run([{ proto: 'tcp', dstPort: 8080 }, { proto: 'tcp', dstPort: 23 }])).toEqual([DROP, CONTINUE]);
    const bad = loadInspector(WASM, { blocked_port: 'x' });
    expect(bad.initStatus).not.toBe(0);
    expect(bad.logs.join('\n')).toMatch(/blocked_port must be a port number/);
  });
});
