// Turns EVE JSON records (the daemon's eve.json, or `inspect --eve -`) into
// demo event lines, and follows a growing EVE file.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { endpoints, type Kind } from './printer.js';

export type Eve = Record<string, unknown> & { event_type: string };

export interface EveLine {
  kind: Kind;
  text: string;
}

const s = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const clip = (v: string, n = 90): string => (v.length > n ? `${v.slice(0, n - 1)}…` : v);

/** The line for one record, or null for records the demo does not show (stats, flows still open...). */
export function describeEve(rec: Eve): EveLine | null {
  const where = endpoints(rec as Parameters<typeof endpoints>[0]);
  switch (rec.event_type) {
    case 'alert': {
      const a = rec.alert as { action?: string; signature_id?: number; signature?: string; metadata?: Record<string, string[]> };
      const module = a.metadata?.module?.[0] ?? '?';
      const detail = a.metadata?.value?.[0] ?? a.metadata?.rrname?.[0] ?? a.metadata?.url?.[0] ?? '';
      const sig = s(a.signature).startsWith(`${module}: `) ? s(a.signature).slice(module.length + 2) : s(a.signature);
      return { kind: 'alert', text: `[${a.signature_id}] ${module}: ${sig}  ${where} → ${a.action === 'blocked' ? 'BLOCKED' : 'allowed'}${detail ? `  (${clip(detail, 70)})` : ''}` };
    }
    case 'http': {
      const h = rec.http as { http_method?: string; url?: string; hostname?: string; status?: number };
      // Host mode shows the inspectors requests only: http_waf reports them
      // when the client closes, or when the flow ends, without a status.
      const answer = h.status ? ` → ${h.status}` : '  (no response seen)';
      return { kind: 'inspect', text: `http_waf  ${s(h.http_method)} ${clip(s(h.url), 70)}${answer}  ${where}` };
    }
    case 'dns': {
      const d = rec.dns as { type?: string; rrname?: string; rrtype?: string; rcode?: string; answers?: { rdata?: string }[] };
      const ans = d.type === 'answer' ? ` → ${s(d.rcode)}${d.answers?.length ? ` ${d.answers.map((x) => s(x.rdata)).join(',')}` : ''}` : '';
      return { kind: 'inspect', text: `dns_guard ${s(d.type)} ${clip(s(d.rrname), 60)} ${s(d.rrtype)}${ans}  ${where}` };
    }
    case 'tls': {
      const t = rec.tls as { sni?: string; version?: string; ja4?: string };
      return { kind: 'inspect', text: `tls_inspect ${s(t.version)} sni=${s(t.sni)} ja4=${s(t.ja4)}  ${where}` };
    }
    case 'drop': {
      const d = rec.drop as { reason?: string; rule_id?: number | null };
      return { kind: 'verdict', text: `dropped before inspection (${s(d.reason)}${d.rule_id ? ` rule ${d.rule_id}` : ''})  ${where}` };
    }
    case 'flow': {
      const f = rec.flow as { verdict?: string; pkts_toserver?: number; pkts_toclient?: number; reason?: string };
      const v = s(f.verdict).toUpperCase();
      // an undecided flow that just ended, or the hosts' own neighbour discovery, is noise here
      if (v === 'CONTINUE' || v === '' || rec.proto === 'IPv6-ICMP') return null;
      const n = (f.pkts_toserver ?? 0) + (f.pkts_toclient ?? 0);
      return { kind: 'verdict', text: `${v.padEnd(10)} ${where}  (flow record: ${n} packet${n === 1 ? '' : 's'} seen by the inspectors)` };
    }
    case 'verdict': {
      // the daemon's per-flow decision record, when it writes one
      const v = rec.verdict as { verdict?: string; module?: string; kernel?: boolean } | string;
      const name = typeof v === 'string' ? v : s(v.verdict);
      const by = typeof v === 'object' && v.module ? ` by ${v.module}` : '';
      return { kind: 'verdict', text: `${name.toUpperCase().padEnd(10)} ${where}${by}` };
    }
    default:
      return null;
  }
}

export function parseEveLines(text: string): Eve[] {
  const out: Eve[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const r = JSON.parse(l) as Eve;
      if (typeof r.event_type === 'string') out.push(r);
    } catch {
      // a line still being written; the tailer only hands over whole lines
    }
  }
  return out;
}

/** Follows a file that may not exist yet, handing over whole new lines. */
export class EveTail {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly path: string, private readonly onRecord: (r: Eve) => void) {}

  start(intervalMs = 100): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  /** Reads what is new now (also called once more at the end). */
  poll(): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return;
    }
    if (size < this.offset) this.offset = 0; // rotated or truncated
    if (size === this.offset) return;
    const fd = openSync(this.path, 'r');
    try {
      // bounded read per poll: at most 4 MiB, the rest next time
      const len = Math.min(size - this.offset, 4 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, this.offset);
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const cut = text.lastIndexOf('\n');
      this.partial = cut < 0 ? text : text.slice(cut + 1);
      if (cut >= 0) for (const r of parseEveLines(text.slice(0, cut))) this.onRecord(r);
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
  }
}
