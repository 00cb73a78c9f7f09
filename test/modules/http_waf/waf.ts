// Test helpers for http_waf: build the module (once per source change), make
// instances, and feed HTTP conversations as real packets (built by
// host/packet/build.ts, decoded by decode.ts) with the stream bytes the engine
// would attach.
import { fileURLToPath } from 'node:url';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { readFileSync } from 'node:fs';
import { compileInspector, type CompiledInspector } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { BatchOutput, InspectItem, ModuleAlert, ModuleEvent } from '../../../host/wasm/types.js';
import { compiledModule } from '../support.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const SID = {
  SQLI: 1001001, XSS: 1001002, TRAVERSAL: 1001003, CMDI: 1001004, JNDI: 1001005, SCANNER: 1001006,
  SMUGGLING: 1001010, HEAD_TOO_LONG: 1001011, BAD_CHUNKED: 1001012, MALFORMED_REQUEST: 1001013, BODY_PAST_DEPTH: 1001014,
  PIPELINE_PAST_LIMIT: 1001015, BODY_UNDECODED: 1001016, PART_UNDECODED: 1001017,
} as const;

export const compiledWaf = (): Promise<CompiledInspector> => compiledModule('http_waf');

// HTTP_WAF_WASM=path runs the evasion tests against another build (an older
// one, to see which of them it fails).
const OTHER_BUILD = process.env.HTTP_WAF_WASM;
let otherCompiled: Promise<CompiledInspector> | null = null;

/** An instance of the build under test: this tree's, or HTTP_WAF_WASM's. */
export async function wafUnderTest(config?: unknown): Promise<InspectorInstance> {
  if (!OTHER_BUILD) return waf(config);
  otherCompiled ??= compileInspector('http_waf', new Uint8Array(readFileSync(OTHER_BUILD)));
  return InspectorInstance.create(await otherCompiled, config !== undefined ? { config: JSON.stringify(config) } : {});
}

export async function waf(config?: unknown, logs?: string[], opts: { batchCapacity?: number } = {}): Promise<InspectorInstance> {
  return InspectorInstance.create(await compiledWaf(), {
    ...opts,
    ...(config !== undefined ? { config: JSON.stringify(config) } : {}),
    logger: (_m, level, msg) => { logs?.push(`${level}: ${msg}`); },
  });
}

const enc = new TextEncoder();
export const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? enc.encode(s) : s);

export function tcp(payload: Uint8Array, direction: 0 | 1, seq = 1): DecodedPacket {
  const frame = buildPacket(direction === 0
    ? { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, payload, seq }
    : { src: '198.18.0.2', dst: '198.18.0.1', proto: 'tcp', srcPort: 80, dstPort: 40000, payload, seq });
  return decodePacket(frame, LinkType.ETHERNET, 1_700_000_000, 0);
}

/**
 * One packet carrying `segment` whose arrival makes the in-order stream of its
 * direction equal `stream` (what the engine attaches when new bytes arrive).
 */
export function streamItem(flowId: number, direction: 0 | 1, stream: Uint8Array, segment?: Uint8Array): InspectItem {
  // Without a segment, one cached small packet carries the stream: the module reads
  // only the stream, and building a frame per item would dominate bulk tests.
  const pkt = segment === undefined ? cachedPacket(direction) : tcp(segment.length > 1400 ? segment.subarray(segment.length - 1400) : segment, direction);
  return { pkt, flowId, direction, flags: 0, stream, streamNew: segment?.length ?? Math.min(stream.length, 1400) };
}

const cached: (DecodedPacket | null)[] = [null, null];
function cachedPacket(direction: 0 | 1): DecodedPacket {
  return (cached[direction] ??= tcp(bytesOf('x'), direction));
}

/** The packets of a message sent in the given segment sizes, each carrying the stream so far. */
export function segmented(flowId: number, direction: 0 | 1, message: Uint8Array, sizes: number[], prefix: Uint8Array = new Uint8Array(0)): InspectItem[] {
  const items: InspectItem[] = [];
  let off = 0;
  for (const size of sizes) {
    if (off >= message.length) break;
    const end = Math.min(message.length, off + size);
    const stream = new Uint8Array(prefix.length + end);
    stream.set(prefix);
    stream.set(message.subarray(0, end), prefix.length);
    items.push(streamItem(flowId, direction, stream, message.subarray(off, end)));
    off = end;
  }
  if (off < message.length) {
    const stream = new Uint8Array(prefix.length + message.length);
    stream.set(prefix);
    stream.set(message, prefix.length);
    items.push(streamItem(flowId, direction, stream, message.subarray(off)));
  }
  return items;
}

export interface RunResult { verdicts: number[]; alerts: ModuleAlert[]; events: ModuleEvent[] }

export function run(inst: InspectorInstance, items: InspectItem[]): RunResult {
  const out: BatchOutput = { verdicts: new Uint8Array(items.length), verdictArgs: new Uint16Array(items.length), alerts: [], events: [] };
  inst.inspect(items, items.length, out);
  return { verdicts: Array.from(out.verdicts), alerts: out.alerts, events: out.events };
}

export function request(method: string, target: string, headers: Record<string, string> = {}, body?: string): string {
  const h = { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', Accept: '*/*', ...headers };
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')) {
    (h as Record<string, string>)['Content-Length'] = String(Buffer.byteLength(body));
  }
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body ?? ''}`;
}
