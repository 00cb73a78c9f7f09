// Reads the labelled corpora of test/data/http and runs them through a
// http_waf instance, one request per flow, all in one inspect() call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InspectorInstance } from '../../../host/wasm/instance.js';
import { bytesOf, repoRoot, run, streamItem } from './waf.js';

export interface CorpusRequest {
  id: string;
  label: string;
  kind?: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: string;
}

export function readCorpus(name: 'attacks' | 'benign' | 'attacks-holdout' | 'benign-holdout'): CorpusRequest[] {
  const text = readFileSync(join(repoRoot, 'test', 'data', 'http', `${name}.jsonl`), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as CorpusRequest);
}

export function wire(r: CorpusRequest): string {
  const headers = { ...r.headers };
  if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body));
  return `${r.method} ${r.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${r.body ?? ''}`;
}

/** For each request, the signature ids alerted on it. */
export function alertsPerRequest(inst: InspectorInstance, reqs: CorpusRequest[], firstFlow = 1): number[][] {
  const items = reqs.map((r, i) => streamItem(firstFlow + i, 0, bytesOf(wire(r))));
  const res = run(inst, items);
  const per: number[][] = reqs.map(() => []);
  for (const a of res.alerts) if (a.index >= 0) per[a.index]!.push(a.sigId);
  return per;
}
