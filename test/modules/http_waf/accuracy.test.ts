// Detection rate on the labelled attack corpus and false-positive rate on the
// benign corpus (test/data/http), through the real compiled module. The
// figures are printed and also recorded in modules/http_waf/README.md.
import { beforeAll, describe, expect, it } from 'vitest';
import { alertsPerRequest, readCorpus, wire } from './corpus.js';
import { SID, waf } from './waf.js';

const EXPECTED_SID: Record<string, number> = {
  sqli: SID.SQLI, xss: SID.XSS, traversal: SID.TRAVERSAL, cmdi: SID.CMDI, jndi: SID.JNDI, scanner: SID.SCANNER,
};

beforeAll(async () => { await waf(); }, 180_000);

describe('http_waf accuracy', () => {
  it('detects at least 90% of the attack corpus, each category mostly by its own signature', async () => {
    const attacks = readCorpus('attacks');
    expect(attacks.length).toBeGreaterThanOrEqual(300);
    // small batches keep every alert inside the host's per-call alert budget (64)
    const inst = await waf(undefined, undefined, { batchCapacity: 16 });
    const per = alertsPerRequest(inst, attacks);
    let detected = 0;
    const byLabel = new Map<string, { n: number; any: number; own: number; missed: string[] }>();
    attacks.forEach((r, i) => {
      const s = byLabel.get(r.label) ?? { n: 0, any: 0, own: 0, missed: [] };
      byLabel.set(r.label, s);
      s.n++;
      const sids = per[i]!;
      if (sids.length > 0) { detected++; s.any++; } else s.missed.push(`${r.id} ${wire(r).split('\r\n')[0]}`);
      if (sids.includes(EXPECTED_SID[r.label]!)) s.own++;
    });
    const rate = detected / attacks.length;
    console.log(`http_waf detection rate: ${(rate * 100).toFixed(1)}% (${detected}/${attacks.length})`);
    for (const [label, s] of byLabel) {
      console.log(`  ${label}: ${s.any}/${s.n} detected, ${s.own}/${s.n} by its own signature`);
      for (const m of s.missed.slice(0, 10)) console.log(`    missed ${m}`);
    }
    expect(rate).toBeGreaterThanOrEqual(0.9);
    for (const [, s] of byLabel) expect(s.own / s.n).toBeGreaterThanOrEqual(0.8);
  });

  it('flags at most 1% of the benign corpus', async () => {
    const benign = readCorpus('benign');
    expect(benign.length).toBeGreaterThanOrEqual(1000);
    const inst = await waf(undefined, undefined, { batchCapacity: 16 });
    const per = alertsPerRequest(inst, benign);
    const flagged = benign.map((r, i) => ({ r, sids: per[i]! })).filter((x) => x.sids.length > 0);
    const rate = flagged.length / benign.length;
    console.log(`http_waf false-positive rate: ${(rate * 100).toFixed(2)}% (${flagged.length}/${benign.length})`);
    for (const f of flagged.slice(0, 20)) console.log(`  flagged ${f.r.id} [${f.sids.join(',')}] ${f.r.kind} ${wire(f.r).split('\r\n')[0].slice(0, 160)}${f.r.body ? ` body=${f.r.body.slice(0, 120)}` : ''}`);
    expect(rate).toBeLessThanOrEqual(0.01);
  });

  it('on the held-out sets (never used for tuning) stays near the same figures', async () => {
    const attacks = readCorpus('attacks-holdout');
    const benign = readCorpus('benign-holdout');
    const inst = await waf(undefined, undefined, { batchCapacity: 16 });
    const hit = alertsPerRequest(inst, attacks).map((s) => s.length > 0);
    const fp = alertsPerRequest(inst, benign, 100_000).map((s) => s.length > 0);
    const det = hit.filter(Boolean).length / attacks.length;
    const fpr = fp.filter(Boolean).length / benign.length;
    console.log(`http_waf held-out detection rate: ${(det * 100).toFixed(1)}% (${hit.filter(Boolean).length}/${attacks.length}), false-positive rate: ${(fpr * 100).toFixed(2)}% (${fp.filter(Boolean).length}/${benign.length})`);
    attacks.forEach((r, i) => { if (!hit[i]) console.log(`  missed ${r.id} ${r.label} ${wire(r).split('\r\n')[0]} ${r.body ?? ''} ${JSON.stringify(r.headers)}`); });
    benign.forEach((r, i) => { if (fp[i]) console.log(`  flagged ${r.id} ${wire(r).split('\r\n')[0]} ${r.body ?? ''}`); });
    expect(det).toBeGreaterThanOrEqual(0.8);
    expect(fpr).toBeLessThanOrEqual(0.03);
  });
});
