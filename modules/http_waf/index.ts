// http_waf: an HTTP/1.x web application firewall inspector. It parses requests
// from the to-server stream and responses from the to-client stream, runs the
// detections of request.ts over each request, alerts (and in block mode
// blocks the flow), and reports one `http` event per transaction.
// README.md documents the configuration, signature ids and verdict policy.
import {
  Inspector, Packet, Verdict, JsonValue, Severity, EventKind, register, alert, event, JsonWriter,
} from "../sdk";
import { Parse, Head, Body, parseRequestHead, parseResponseHead, readBody, skipBlankLines } from "./http";
import { Config, parseConfig } from "./config";
import { Findings, inspectRequest } from "./request";
import { utf8Text } from "../sdk/lib";
export * from "../sdk/exports";

// Signature ids (modules/SIGNATURES.md): 1001000-1001999.
const SID_SQLI = 1001001;
const SID_XSS = 1001002;
const SID_TRAVERSAL = 1001003;
const SID_CMDI = 1001004;
const SID_JNDI = 1001005;
const SID_SCANNER = 1001006;
const SID_SMUGGLING = 1001010;
const SID_HEAD_TOO_LONG = 1001011;
const SID_BAD_CHUNKED = 1001012;

const DETECTION_SIDS: i32[] = [SID_SQLI, SID_XSS, SID_TRAVERSAL, SID_CMDI, SID_JNDI, SID_SCANNER, 0];
const DETECTION_SEVERITY: i32[] = [Severity.HIGH, Severity.MEDIUM, Severity.HIGH, Severity.HIGH, Severity.HIGH, Severity.LOW, 0];
const DETECTION_MSG: string[] = [
  "HTTP SQL injection", "HTTP cross-site scripting", "HTTP path traversal or local file inclusion",
  "HTTP OS command injection", "HTTP JNDI lookup (Log4Shell)", "HTTP scanner user agent", "",
];

/** Requests and responses parsed per packet at most (pipelining); the rest waits for the next packet. */
const MAX_MESSAGES_PER_PACKET = 32;
/** Requests remembered for their response (the event needs both); older ones are reported without a status. */
const MAX_PENDING = 16;
/**
 * Bytes all flows' remembered requests may take together. Without it, a
 * hundred connections pipelining requests with long URLs (whose responses
 * host mode never sees) filled the module's memory, and every later batch
 * trapped. Past it, a flow reports its requests at once, without a status.
 */
const MAX_HELD_BYTES = 2 * 1024 * 1024;
/** Events carry at most this much of a URL, so no more is remembered. */
const MAX_URL_CHARS = 2048;
let heldBytes = 0;

class Txn {
  hostname: string = "";
  url: string = "";
  method: string = "";
  userAgent: string = "";
  protocol: string = "";
  /** Bytes it takes while remembered (strings are UTF-16), counted against MAX_HELD_BYTES. */
  cost: i32 = 0;
  /** Remembered in its flow's pending queue, waiting for the response. */
  held: bool = false;
}

class HttpFlow {
  reqOff: i32 = 0;
  respOff: i32 = 0;
  /** Start offset of the request already inspected (its body may still be arriving). */
  inspectedAt: i32 = -1;
  /** Start offset of the response already counted. */
  answeredAt: i32 = -1;
  /** The response at answeredAt answers a HEAD request (no body follows its head). */
  answerHasNoBody: bool = false;
  /** Start of a request head still incomplete, and how far its end was looked for. */
  headAt: i32 = -1;
  headScanned: i32 = 0;
  /** Stream length at which the inspected request's Content-Length body is complete (0 = not waiting). */
  waitUntil: i32 = 0;
  requests: i32 = 0;
  pairs: i32 = 0;
  pending: Array<Txn> = [];
  requestsDone: bool = false;
  responsesDone: bool = false;
  verdict: Verdict = Verdict.CONTINUE;
  anomalies: i32 = 0;
  /** A packet to the client went by: responses can be seen on this flow. */
  seesResponses: bool = false;
  /**
   * MAX_HELD_BYTES was reached while this flow held requests: they were
   * reported then, and from then on its requests are reported at once and
   * responses are no longer paired with them (a later pairing could give a
   * request the status of one reported before).
   */
  unpaired: bool = false;
}

const TCP_FIN: u8 = 0x01;
const TCP_RST: u8 = 0x04;

const head = new Head();
const findings = new Findings();
let requestBody = new Body();
const responseBody = new Body();

class HttpWaf extends Inspector {
  cfg: Config = new Config();
  // A plain Map rather than the SDK's FlowMap: FlowMaps are cleared before
  // onFlowEnd, and the flow's unanswered requests must still be reported then.
  flows: Map<u64, HttpFlow> = new Map<u64, HttpFlow>();

  onInit(config: JsonValue | null): bool {
    const cfg = parseConfig(config);
    if (cfg === null) return false;
    this.cfg = cfg;
    requestBody.buf = new Uint8Array(cfg.bodyDepth);
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.proto != 6) return Verdict.ALLOW_FLOW; // HTTP/1.x is TCP; nothing to do for this flow
    const id = pkt.flowId;
    let f: HttpFlow;
    if (this.flows.has(id)) {
      f = this.flows.get(id);
    } else {
      f = new HttpFlow();
      this.flows.set(id, f);
    }
    if (f.verdict != Verdict.CONTINUE) return f.verdict;
    if (pkt.direction == 1) f.seesResponses = true;
    const n = pkt.streamLength;
    if (n > 0) {
      if (pkt.direction == 0) this.requests(pkt, f, pkt.streamPtr, n);
      else this.responses(pkt, f, pkt.streamPtr, n);
    }
    // Where no packet to the client ever shows (host mode sees arrivals only),
    // the client closing is the last word on its requests: report them now
    // rather than when the flow times out.
    if (pkt.direction == 0 && !f.seesResponses && (pkt.tcpFlags & (TCP_FIN | TCP_RST)) != 0) this.flushPending(pkt, f);
    if (f.verdict != Verdict.CONTINUE) return f.verdict;
    // done: every request answered and enough clean pairs, or nothing more can be parsed
    if (f.requestsDone || (this.cfg.allowAfter > 0 && f.pairs >= this.cfg.allowAfter && f.pending.length == 0)) {
      f.verdict = Verdict.ALLOW_FLOW;
    }
    return f.verdict;
  }

  onFlowEnd(flowId: u64): void {
    if (!this.flows.has(flowId)) return;
    const f = this.flows.get(flowId);
    this.flows.delete(flowId);
    this.flushPending(null, f);
  }

  requests(pkt: Packet, f: HttpFlow, s: usize, len: i32): void {
    if (f.requestsDone) return;
    const cfg = this.cfg;
    const exhausted = len >= cfg.streamDepth;
    // a request already inspected whose Content-Length body is still arriving: nothing to parse yet
    if (f.waitUntil > 0 && len < f.waitUntil && !exhausted) return;
    for (let m = 0; m < MAX_MESSAGES_PER_PACKET; m++) {
      const pos = skipBlankLines(s, f.reqOff, len);
      if (pos >= len) { if (exhausted) f.requestsDone = true; return; }
      // a head arriving in small pieces: look only at the new bytes for its end
      // before parsing it again, so a byte-at-a-time sender costs O(n), not O(n^2)
      if (f.headAt == pos && !exhausted && len - pos < cfg.maxHeaderBytes && !headEndIn(s, max(pos, f.headScanned - 3), len)) {
        f.headScanned = len;
        return;
      }
      const r = parseRequestHead(s, pos, len, cfg.maxHeaderBytes, head);
      if (r == Parse.NOT_HTTP) { f.requestsDone = true; return; }
      if (r == Parse.NEED_MORE) {
        if (exhausted) { this.partial(pkt, f, s, pos); f.requestsDone = true; }
        f.headAt = pos;
        f.headScanned = len;
        return;
      }
      if (r == Parse.TOO_LONG) {
        this.anomaly(pkt, f, SID_HEAD_TOO_LONG, Severity.LOW, "HTTP request head longer than max_header_bytes: inspected up to the limit, flow no longer parsed");
        this.partial(pkt, f, s, pos);
        f.requestsDone = true;
        return;
      }
      readBody(s, len, head, requestBody, false);
      // a malformed chunked body cannot be framed: inspect what is there, then stop parsing this stream
      const ready = requestBody.complete || requestBody.len >= requestBody.buf.length || exhausted || requestBody.malformed;
      if (!ready) return;
      if (f.inspectedAt != pos) {
        f.inspectedAt = pos;
        f.requests++;
        if (head.contentLengthConflict || (head.hasTransferEncoding && head.contentLength >= 0)) {
          this.anomaly(pkt, f, SID_SMUGGLING, Severity.MEDIUM, "HTTP request with conflicting Content-Length / Transfer-Encoding framing (request smuggling)");
        }
        if (requestBody.malformed) this.anomaly(pkt, f, SID_BAD_CHUNKED, Severity.LOW, "HTTP request with a malformed chunked body");
        inspectRequest(s, head, requestBody, cfg, findings);
        const txn = this.remember(f, s);
        if (findings.mask != 0) {
          this.report(pkt, txn);
          if (cfg.block) {
            f.verdict = Verdict.BLOCK_FLOW;
            if (txn.held) this.takeLast(f);
            this.emitEvent(pkt, txn, 0, -1);
            return;
          }
        }
        if (!txn.held) this.emitEvent(pkt, txn, 0, -1);
      }
      if (!requestBody.complete) {
        if (exhausted || requestBody.malformed) f.requestsDone = true;
        else if (!head.chunked && head.contentLength >= 0) f.waitUntil = <i32>min(<i64>head.end + head.contentLength, <i64>i32.MAX_VALUE);
        return;
      }
      f.waitUntil = 0;
      f.reqOff = requestBody.end;
    }
  }

  responses(pkt: Packet, f: HttpFlow, s: usize, len: i32): void {
    if (f.responsesDone) return;
    for (let m = 0; m < MAX_MESSAGES_PER_PACKET; m++) {
      const pos = skipBlankLines(s, f.respOff, len);
      if (pos >= len) return;
      const r = parseResponseHead(s, pos, len, this.cfg.maxHeaderBytes, head);
      if (r == Parse.NEED_MORE) return;
      if (r != Parse.OK) { f.responsesDone = true; this.flushPending(pkt, f); return; }
      const interim = head.status >= 100 && head.status < 200;
      if (f.answeredAt != pos && !interim) {
        // remember now whether this answers a HEAD: the request leaves the queue below
        f.answerHasNoBody = f.pending.length > 0 && f.pending[0].method == "HEAD";
      }
      readBody(s, len, head, responseBody, true, !interim && f.answerHasNoBody);
      if (f.answeredAt != pos && !interim) {
        f.answeredAt = pos;
        f.pairs++;
        const length = head.contentLength >= 0 ? head.contentLength : responseBody.total;
        if (f.pending.length > 0) this.emitEvent(pkt, this.takeFirst(f), head.status, length);
      }
      if (!responseBody.complete) return;
      f.respOff = responseBody.end;
    }
  }

  // The request head never completed (stream depth reached or head too long): check what is there.
  partial(pkt: Packet, f: HttpFlow, s: usize, pos: i32): void {
    if (head.bLen <= 0 || f.inspectedAt == pos) return;
    f.inspectedAt = pos;
    requestBody.len = 0;
    requestBody.complete = false;
    inspectRequest(s, head, requestBody, this.cfg, findings);
    const txn = this.remember(f, s);
    if (findings.mask != 0) {
      this.report(pkt, txn);
      if (this.cfg.block) f.verdict = Verdict.BLOCK_FLOW;
    }
    if (!txn.held) this.emitEvent(pkt, txn, 0, -1);
    this.flushPending(pkt, f);
  }

  remember(f: HttpFlow, s: usize): Txn {
    const t = new Txn();
    t.method = text(s, head.aOff, head.aLen);
    t.url = text(s, head.bOff, min(head.bLen, MAX_URL_CHARS));
    t.protocol = text(s, head.cOff, head.cLen);
    for (let i = 0; i < head.count; i++) {
      const nl = unchecked(head.nameLen[i]);
      const np = s + <usize>unchecked(head.nameOff[i]);
      if (nl == 4 && nameEq(np, "host")) t.hostname = stripPort(utf8Text(head.valuePtr(i), unchecked(head.valLen[i]), 256));
      else if (nl == 10 && nameEq(np, "user-agent")) t.userAgent = utf8Text(head.valuePtr(i), unchecked(head.valLen[i]), 512);
    }
    t.cost = 96 + ((t.hostname.length + t.url.length + t.method.length + t.userAgent.length + t.protocol.length) << 1);
    if (!f.unpaired && heldBytes + t.cost > MAX_HELD_BYTES) {
      f.unpaired = true;
      this.flushPending(null, f);
    }
    if (f.unpaired) return t; // the caller reports it now
    if (f.pending.length >= MAX_PENDING) this.emitEvent(null, this.takeFirst(f), 0, -1);
    f.pending.push(t);
    t.held = true;
    heldBytes += t.cost;
    return t;
  }

  takeFirst(f: HttpFlow): Txn {
    return released(f.pending.shift());
  }

  takeLast(f: HttpFlow): Txn {
    return released(f.pending.pop());
  }

  report(pkt: Packet, txn: Txn): void {
    for (let d = 0; d < 7; d++) {
      if ((findings.mask & (1 << d)) == 0) continue;
      let sid = DETECTION_SIDS[d];
      let sev = DETECTION_SEVERITY[d];
      let msg = DETECTION_MSG[d];
      if (d == 6) {
        const x = this.cfg.extras[findings.extraId];
        sid = x.sid;
        sev = x.severity;
        msg = x.msg;
      }
      const w = new JsonWriter().beginObject()
        .str("field", unchecked(findings.field[d]))
        .str("value", unchecked(findings.sample[d]));
      const detail = unchecked(findings.detail[d]);
      if (detail.length > 0) w.str("detail", detail);
      w.str("url", clip(txn.url, 512)).str("hostname", txn.hostname).str("http_method", txn.method).endObject();
      alert(pkt, sid, sev, msg, w.toString());
    }
  }

  anomaly(pkt: Packet, f: HttpFlow, sid: i32, sev: i32, msg: string): void {
    if (f.anomalies >= 8) return;
    f.anomalies++;
    alert(pkt, sid, sev, msg);
  }

  emitEvent(pkt: Packet | null, t: Txn, status: i32, length: i64): void {
    const w = new JsonWriter().beginObject();
    if (t.hostname.length > 0) w.str("hostname", t.hostname);
    w.str("url", clip(t.url, 2048)).str("http_method", t.method);
    if (t.userAgent.length > 0) w.str("http_user_agent", t.userAgent);
    if (t.protocol.length > 0) w.str("protocol", t.protocol);
    if (status > 0) w.num("status", status);
    if (length >= 0) w.num("length", length);
    event(pkt, EventKind.HTTP, w.endObject().toString());
  }

  flushPending(pkt: Packet | null, f: HttpFlow): void {
    while (f.pending.length > 0) this.emitEvent(pkt, this.takeFirst(f), 0, -1);
  }
}

/** Whether [from, to) holds the blank line that ends a head ("\n\n" or "\n\r\n"). */
function headEndIn(s: usize, from: i32, to: i32): bool {
  for (let i = from; i + 1 < to; i++) {
    if (load<u8>(s + <usize>i) != 0x0a) continue;
    const c = load<u8>(s + <usize>(i + 1));
    if (c == 0x0a || (c == 0x0d && i + 2 < to && load<u8>(s + <usize>(i + 2)) == 0x0a)) return true;
  }
  return false;
}

function text(s: usize, off: i32, len: i32): string {
  if (len <= 0) return "";
  return utf8Text(s + <usize>off, len, 4096);
}

function nameEq(p: usize, lowerName: string): bool {
  for (let i = 0; i < lowerName.length; i++) {
    let c = load<u8>(p + <usize>i);
    if (<u8>(c - 65) < 26) c |= 0x20;
    if (c != <u8>lowerName.charCodeAt(i)) return false;
  }
  return true;
}

function stripPort(h: string): string {
  if (h.startsWith("[")) {
    const close = h.indexOf("]");
    return close > 0 ? h.substring(1, close) : h;
  }
  const colon = h.indexOf(":");
  return colon >= 0 && h.indexOf(":", colon + 1) < 0 ? h.substring(0, colon) : h;
}

function released(t: Txn): Txn {
  t.held = false;
  heldBytes -= t.cost;
  return t;
}

function clip(s: string, max: i32): string {
  return s.length <= max ? s : s.substring(0, max);
}

register(new HttpWaf());
