import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { SecuxflowError } from '../../../host/errors.js';
import { Verdict } from '../../../host/verdict.js';
import { compiledModule, frame } from '../dlp/support.js';
import { dnsQuery } from './wire.js';
import { ReloadableRunner } from './reloadable.js';

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

describe('threat_intel lists reload without a restart (new instance swapped between batches)', () => {
  it('new lists apply from the next batch on; a refused list keeps the old one running', async () => {
    const runner = await ReloadableRunner.create(await compiledModule('threat_intel'), { config: 'old.example\n', clock: 'packet', logger: () => {} });
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'threat_intel', instance: runner }], onDecision: (d) => decisions.push(d) });
    let port = 30000;
    const query = (name: string, at: number) => engine.push(frame({ src: '198.18.0.1', dst: '198.18.0.53', proto: 'udp', srcPort: port++, dstPort: 53, payload: dnsQuery(name) }, at));
    const verdictOf = (i: number) => decisions.find((d) => d.index === i)!.modules[0]!.verdict;

    query('old.example', 0);
    query('new.example', 0.1);
    engine.flush();
    expect([verdictOf(0), verdictOf(1)]).toEqual([Verdict.BLOCK_FLOW, Verdict.CONTINUE]);

    await runner.reload('new.example\n198.18.0.99\n');
    query('old.example', 1);
    query('new.example', 1.1);
    engine.push(frame({ src: '198.18.0.99', dst: '198.18.0.2', proto: 'tcp', srcPort: 4444, dstPort: 80, tcpFlags: 0x02 }, 1.2));
    engine.flush();
    expect([verdictOf(2), verdictOf(3), verdictOf(4)]).toEqual([Verdict.CONTINUE, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW]);
    expect(runner.generation).toBe(1);

    const err = await runner.reload('new.example\nnot a domain!\n').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_MODULE_CONFIG');
    query('new.example', 2);
    engine.flush();
    expect(verdictOf(5)).toBe(Verdict.BLOCK_FLOW);
    expect(runner.generation).toBe(1);
    engine.finish();
  });
});
