// A module that runs out of memory traps with a bare "unreachable" (the
// AssemblyScript runtime's abort): the error's hint gives the memory it had,
// so an author can tell a leak from a logic bug. Other traps get no such hint.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { SecuxflowError } from '../../../host/errors.js';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'modules');

async function trapOf(file: string): Promise<SecuxflowError> {
  const inst = await InspectorInstance.create(await loadInspectorFile(join(FIXTURES, file), 'm'), { logger: () => {} });
  const pkt = decodePacket(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', dstPort: 53 }), LinkType.ETHERNET);
  try {
    inst.inspect([{ pkt, flowId: 1, direction: 0, flags: 0, stream: null, streamNew: 0 }], 1, { verdicts: new Uint8Array(1), verdictArgs: new Uint16Array(1), alerts: [], events: [] });
  } catch (e) {
    return e as SecuxflowError;
  }
  throw new Error('no trap');
}

describe('a trap after memory ran out', () => {
  it('names the memory the module had in the hint', async () => {
    const e = await trapOf('oom-unreachable.wat');
    expect(e.code).toBe('E_MODULE_TRAP');
    expect(e.message).toMatch(/trapped in on_batch: unreachable/);
    expect(e.hint).toMatch(/it had 2\.0 MiB of memory: a bare "unreachable" near the module's memory limit .* free per-flow state in on_flow_end/);
  });
});
