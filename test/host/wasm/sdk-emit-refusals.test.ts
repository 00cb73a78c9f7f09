// An alert whose metadata is not a JSON object, an event that is not an
// object, or an alert with signature id 0 is refused by the host
// (BAD_ARGUMENT) and nothing is recorded: the SDK's alert() and event()
// returned the status and nobody looked, so the author saw no alert and no
// reason. The SDK now logs why (the 1st, 2nd, 4th... time, so a module making
// the mistake on every packet does not flood the log).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { compileInspector, type CompiledInspector } from '../../../host/wasm/loader.js';
import type { ModuleLogLevel } from '../../../host/wasm/types.js';
import { item, output, packet, repoRoot } from './helpers.js';

mkdirSync(join(repoRoot, 'build'), { recursive: true });
// Inside the repository (build/ is ignored): asconfig.json names the SDK's abort by its path from here.
const tmp = mkdtempSync(join(repoRoot, 'build', 'sdk-emit-'));
let compiled: CompiledInspector;

beforeAll(async () => {
  const sdk = relative(tmp, join(repoRoot, 'modules', 'sdk'));
  writeFileSync(join(tmp, 'index.ts'), `import { Inspector, Packet, Verdict, EventKind, register, alert, event } from "${sdk}";
export * from "${sdk}/exports";
class T extends Inspector {
  onPacket(pkt: Packet): Verdict {
    if (pkt.payloadU8(0) == 0x61) alert(pkt, 5, 2, "meta not json", "sid=5");
    if (pkt.payloadU8(0) == 0x62) event(pkt, EventKind.HTTP, "[1]");
    if (pkt.payloadU8(0) == 0x63) alert(pkt, 0, 2, "sid zero");
    if (pkt.payloadU8(0) == 0x64) alert(pkt, 7, 2, "fine", "{\\"k\\":\\"v\\"}");
    return Verdict.CONTINUE;
  }
}
register(new T());
`);
  const out = join(tmp, 'emit.wasm');
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'asc'),
    [join(tmp, 'index.ts'), '--config', 'asconfig.json', '--target', 'release', '-o', out],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 170_000 });
  compiled = await compileInspector('emit', new Uint8Array(readFileSync(out)));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function logsFor(payloads: string[]): Promise<string[]> {
  const logs: { level: ModuleLogLevel; message: string }[] = [];
  const inst = await InspectorInstance.create(compiled, { logger: (_m, level, message) => logs.push({ level, message }) });
  const items = payloads.map((p) => item(packet({ payload: p })));
  inst.inspect(items, items.length, output(items.length));
  return logs.filter((l) => l.level === 'warn').map((l) => l.message);
}

describe('SDK alert() and event() refused by the host', () => {
  it('an alert whose metadata is not a JSON object: a warning saying so', async () => {
    expect(await logsFor(['a'])).toEqual(['alert 5 ("meta not json") was refused by the host (BAD_ARGUMENT): its metadata must be a JSON object, at most 32 levels deep']);
  });

  it('an event that is not a JSON object: a warning saying so', async () => {
    expect(await logsFor(['b'])).toEqual(['event of kind 3 was refused by the host (BAD_ARGUMENT): its JSON must be an object, at most 32 levels deep']);
  });

  it('a signature id of 0: a warning saying so', async () => {
    expect(await logsFor(['c'])).toEqual(['alert 0 ("sid zero") was refused by the host (BAD_ARGUMENT): sig_id must be above 0 and severity 1..255']);
  });

  it('a correct alert logs nothing, and a repeated mistake is logged the 1st, 2nd and 4th time', async () => {
    expect(await logsFor(['d'])).toEqual([]);
    expect((await logsFor(['a', 'a', 'a', 'a', 'a'])).length).toBe(3);
  });
});
