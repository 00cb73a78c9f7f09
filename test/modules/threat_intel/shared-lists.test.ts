// The domain list format is shared: the same file loads into threat_intel
// and into dns_guard (its blocklist), and both flag the same query names.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from '../dlp/support.js';
import { dnsQuery } from './wire.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOMAINS = readFileSync(join(ROOT, 'test', 'data', 'ioc', 'domains.txt'), 'utf8');
const hasDnsGuard = existsSync(join(ROOT, 'modules', 'dns_guard', 'index.ts'));
if (!hasDnsGuard) console.warn('[shared lists] dns_guard is not in this tree: only threat_intel is checked');

beforeAll(async () => {
  await compiledModule('threat_intel');
  if (hasDnsGuard) await compiledModule('dns_guard');
}, 600_000);

const NAMES = ['evil.example', 'x.y.evil.example', 'login.bank.example', 'a.login.bank.example', 'cdn.test', 'img.cdn.test', 'tracker.example', 'good.example'];
const LISTED = [true, true, true, false, false, true, true, false];

describe('one domain list file for threat_intel and dns_guard', () => {
  it('threat_intel flags exactly the listed names', async () => {
    const inst = await instance('threat_intel', { domain_list_text: DOMAINS });
    const r = run(inst, NAMES.map((n, i) => item(packet({ proto: 'udp', srcPort: 5000 + i, dstPort: 53, payload: dnsQuery(n) }), { flowId: i + 1 })));
    expect(NAMES.map((_, i) => r.alerts.some((a) => a.index === i))).toEqual(LISTED);
  });

  it.skipIf(!hasDnsGuard)('dns_guard loads the same file as its blocklist and flags the same names', async () => {
    const inst = await instance('dns_guard', { blocklist_text: DOMAINS });
    const r = run(inst, NAMES.map((n, i) => item(packet({ proto: 'udp', srcPort: 5000 + i, dstPort: 53, payload: dnsQuery(n) }), { flowId: i + 1 })));
    expect(NAMES.map((_, i) => r.alerts.some((a) => a.index === i && a.sigId === 1002001))).toEqual(LISTED);
  });
});
