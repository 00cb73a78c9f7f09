// http_waf: an HTTP/1.x web application firewall inspector. It parses requests
// from the to-server stream and responses from the to-client stream, runs the
// detections of request.ts over each request, alerts (and in block mode
// blocks the flow), and reports one `http` event per transaction.
// README.md documents the configuration, signature ids and verdict policy.
import {
  Inspector, Packet, Verdict, JsonValue, Severity, EventKind, register, alert, event, JsonWriter,
} from "../sdk";
import {
  Parse, Head, Body, parseRequestHead, parseRequestLine, parseResponseHead, readBody, skipBlankLines, findLf, endsWithHttpVersion, isTokenByte,
} from "./http";
import { Config, parseConfig } from "./config";
import { Findings, inspectRequest } from "./request";
import { Coding } from "./bodytext";
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
const SID_MALFORMED_REQUEST = 1001013;
const SID_BODY_PAST_DEPTH = 1001014;
const SID_PIPELINE_PAST_LIMIT = 1001015;
const SID_BODY_UNDECODED = 1001016;
const SID_PART_UNDECODED = 1001017;

const DETECTION_SIDS: i32[] = [SID_SQLI, SID_XSS, SID_TRAVERSAL, SID_CMDI, SID_JNDI, SID_SCANNER, 0];
const DETECTION_SEVERITY: i32[] = [Severity.HIGH, Severity.MEDIUM, Severity.HIGH, Severity.HIGH, Severity.HIGH, Severity.LOW, 0];
const DETECTION_MSG: string[] = [
  "HTTP SQL injection", "HTTP cross-site scripting", "HTTP path traversal or local file inclusion",
  "HTTP OS command injection", "HTTP JNDI lookup (Log4Shell)", "HTTP scanner user agent", "",
];

/**
 * Requests and responses parsed per packet at most (pipelining). The bytes
 * already bound the work; this bounds the fixed cost per message. The rest
 * is parsed with the next bytes of the flow, but the packet reaches the
 * server before that, so going past it is reported (and blocks, as an
 * unread head does).
 */
const MAX_MESSAGES_PER_PACKET = 1024;
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
  /** What headAt waits for: the end of its first line (to tell HTTP from another protocol), or the end of the head. */
  waitLine: bool = false;
  /** Stream length at which the inspected request's Content-Length body is complete (0 = not waiting). */
  waitUntil: i32 = 0;
  /** A request line (or a whole head) was read on this stream: what does not parse now is malformed HTTP, not another protocol. */
  httpSeen: bool = false;
  /**
   * After a request that could not be framed, the next request line is
   * searched for from this line start (-1: not searching). The line at
   * resyncAt is skipped when resyncSkip, and LFs were looked for up to resyncScanned.
   */
  resyncAt: i32 = -1;
  resyncSkip: bool = false;
  resyncScanned: i32 = 0;
  /** The last request asked to leave HTTP (Upgrade, CONNECT), and a response agreed (101, 2xx to CONNECT), or HTTP/2's preface. */
  switchAsked: bool = false;
  switched: bool = false;
  /** Start offset of the request whose body was reported as longer than body_depth. */
  bodyOverAt: i32 = -1;
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
      if (f.verdict != Verdict.CONTINUE) return;
      if (f.resyncAt >= 0 && !this.resync(f, s, len)) { if (exhausted) f.requestsDone = true; return; }
      const pos = skipBlankLines(s, f.reqOff, len);
      if (pos >= len) { if (exhausted) f.requestsDone = true; return; }
      // a head arriving in small pieces: look only at the new bytes for its end
      // before parsing it again, so a byte-at-a-time sender costs O(n), not O(n^2)
      if (f.headAt == pos && !exhausted && len - pos < cfg.maxHeaderBytes && !this.awaitedEndIn(f, s, pos, len)) {
        f.headScanned = len;
        return;
      }
      const r = parseRequestHead(s, pos, len, cfg.maxHeaderBytes, head);
      if (r == Parse.NOT_HTTP) {
        this.notHttp(pkt, f, s, pos, len, exhausted);
        if (f.resyncAt < 0) return;
        continue;
      }
      if (r == Parse.NEED_MORE) {
        if (exhausted) { this.partial(pkt, f, s, pos); this.flushPending(pkt, f); f.requestsDone = true; }
        f.headAt = pos;
        f.headScanned = len;
        f.waitLine = false;
        return;
      }
      f.httpSeen = true;
      if (r == Parse.TOO_LONG) {
        this.partial(pkt, f, s, pos);
        this.unread(pkt, f, SID_HEAD_TOO_LONG, Severity.LOW, "HTTP request head longer than max_header_bytes: inspected up to the limit, next request searched for", cfg.blockUnreadHead);
        this.startResync(f, pos);
        continue;
      }
      readBody(s, len, head, requestBody, false);
      // a malformed chunked body cannot be framed: inspect what is there, then look for the next request
      const ready = requestBody.complete || requestBody.len >= requestBody.buf.length || exhausted || requestBody.malformed;
      if (!ready) return;
      if (f.inspectedAt != pos) {
        f.inspectedAt = pos;
        f.requests++;
        this.noteSwitch(f, s);
        if (head.contentLengthConflict || (head.hasTransferEncoding && head.contentLength >= 0)) {
          this.anomaly(pkt, f, SID_SMUGGLING, Severity.MEDIUM, "HTTP request with conflicting Content-Length / Transfer-Encoding framing (request smuggling)");
        }
        if (requestBody.malformed) this.anomaly(pkt, f, SID_BAD_CHUNKED, Severity.LOW, "HTTP request with a malformed chunked body");
        inspectRequest(s, head, requestBody, cfg, findings);
        if (findings.unreadBody == Coding.UNDECODABLE) {
          this.unread(pkt, f, SID_BODY_UNDECODED, Severity.LOW, "HTTP request body whose Content-Encoding could not be undone: inspected as sent", cfg.blockUnreadBody);
        }
        if (findings.unknownPartCoding) {
          this.unread(pkt, f, SID_PART_UNDECODED, Severity.LOW, "HTTP multipart part with a Content-Transfer-Encoding the WAF cannot undo: inspected as sent", cfg.blockUnreadBody);
        }
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
      this.checkBodyDepth(pkt, f, pos);
      if (!requestBody.complete) {
        if (exhausted) f.requestsDone = true;
        else if (requestBody.malformed) { this.startResync(f, pos); continue; }
        else if (!head.chunked && head.contentLength >= 0) f.waitUntil = <i32>min(<i64>head.end + head.contentLength, <i64>i32.MAX_VALUE);
        return;
      }
      f.waitUntil = 0;
      f.reqOff = requestBody.end;
    }
    if (f.verdict == Verdict.CONTINUE && f.resyncAt < 0 && skipBlankLines(s, f.reqOff, len) < len) {
      this.unread(pkt, f, SID_PIPELINE_PAST_LIMIT, Severity.LOW, "HTTP pipelined requests past the per-packet limit: the rest inspected with later bytes", cfg.blockUnreadHead);
    }
  }

  /** Whether the bytes new since the last look hold what the waiting head needs: the end of its first line, or of the head. */
  awaitedEndIn(f: HttpFlow, s: usize, pos: i32, len: i32): bool {
    const from = max(pos, f.headScanned - 3);
    return f.waitLine ? findLf(s, from, len) >= 0 : headEndIn(s, from, len);
  }

  // A message that does not parse as a request. At the start of a stream
  // whose first line is no request line, the flow speaks another protocol:
  // let it go. Otherwise it is HTTP the parser cannot read but a lenient
  // server may serve: report it (blocking per head_action) and look for the
  // next request line instead of letting the connection through unseen.
  notHttp(pkt: Packet, f: HttpFlow, s: usize, pos: i32, len: i32, exhausted: bool): void {
    const cfg = this.cfg;
    if (f.switched || (f.switchAsked && !f.seesResponses)) { f.requestsDone = true; return; }
    if (!f.httpSeen) {
      const lf = findLf(s, pos, min(len, pos + cfg.maxHeaderBytes));
      // a token may be the start of a request line still arriving: judge the line once it is whole
      if (lf < 0 && mayBeRequestLine(s, pos, len) && !exhausted && len - pos < cfg.maxHeaderBytes) {
        f.headAt = pos;
        f.headScanned = len;
        f.waitLine = true;
        return;
      }
      if (lf < 0 || !endsWithHttpVersion(s, pos, lf)) { f.requestsDone = true; return; }
      f.httpSeen = true;
    }
    this.unread(pkt, f, SID_MALFORMED_REQUEST, Severity.MEDIUM, "HTTP request line that does not parse: not inspected, next request searched for", cfg.blockUnreadHead);
    this.startResync(f, pos);
  }

  startResync(f: HttpFlow, pos: i32): void {
    f.resyncAt = pos;
    f.resyncSkip = true;
    f.resyncScanned = pos;
    f.headAt = -1;
    f.waitLine = false;
    f.waitUntil = 0;
  }

  // Finds the next complete line that is a request line with a protocol,
  // after the message that could not be framed. Each byte is looked at once
  // for line ends and each line parsed once, however the bytes arrive.
  resync(f: HttpFlow, s: usize, len: i32): bool {
    let at = f.resyncAt;
    while (true) {
      const lf = findLf(s, max(at, f.resyncScanned), len);
      if (lf < 0) { f.resyncAt = at; f.resyncScanned = len; return false; }
      if (!f.resyncSkip && isRequestLine(s, at, lf + 1)) {
        f.reqOff = at;
        f.resyncAt = -1;
        return true;
      }
      f.resyncSkip = false;
      at = lf + 1;
      f.resyncScanned = at;
    }
  }

  // A protocol switch makes the bytes that follow something else than HTTP, which is no evasion.
  noteSwitch(f: HttpFlow, s: usize): void {
    const method = head.aLen;
    const m0 = load<u8>(s + <usize>head.aOff);
    f.switchAsked = head.find(s, H_UPGRADE) >= 0 || (method == 7 && m0 == 0x43 && text(s, head.aOff, 7) == "CONNECT");
    // HTTP/2 with prior knowledge: the preface's request line, then binary frames with no HTTP/1 answer
    if (method == 3 && m0 == 0x50 && text(s, head.aOff, 3) == "PRI") f.switched = true;
  }

  // A body longer than body_depth is inspected only up to the depth: say so,
  // once per request, and block per body_action.
  checkBodyDepth(pkt: Packet, f: HttpFlow, pos: i32): void {
    const depth = requestBody.buf.length;
    if (depth == 0 || f.bodyOverAt == pos) return;
    const declared = !head.chunked && head.contentLength > <i64>depth;
    if (!declared && requestBody.total <= <i64>depth) return;
    f.bodyOverAt = pos;
    this.unread(pkt, f, SID_BODY_PAST_DEPTH, Severity.LOW, "HTTP request body longer than body_depth: inspected up to the depth", this.cfg.blockUnreadBody);
  }

  /** Reports a request (or part of one) the module could not inspect, and blocks in block mode when the configured action says so. */
  unread(pkt: Packet, f: HttpFlow, sid: i32, sev: i32, msg: string, blocks: bool): void {
    this.anomaly(pkt, f, sid, sev, msg);
    if (this.cfg.block && blocks) f.verdict = Verdict.BLOCK_FLOW;
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
      if (head.status == 101 || (head.status >= 200 && head.status < 300 && f.pending.length > 0 && f.pending[0].method == "CONNECT")) f.switched = true;
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
      const decoded = unchecked(findings.decoded[d]);
      if (decoded.length > 0) w.str("decoded", decoded);
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

const H_UPGRADE = Uint8Array.wrap(String.UTF8.encode("upgrade"));

/**
 * Whether the complete line [at, end) is a request line with a protocol
 * (where to pick up parsing again). It borrows `head`: the message that
 * could not be framed is done with it.
 */
function isRequestLine(s: usize, at: i32, end: i32): bool {
  head.reset(at);
  return parseRequestLine(s, at, end, head) == Parse.OK && head.cLen > 0;
}

/**
 * Whether [pos, end), a line without its end yet, may still become a request
 * line: a token, then text. Control bytes other than separators mean another
 * protocol (TLS, SSH's binary packets), which is let go without waiting.
 */
function mayBeRequestLine(s: usize, pos: i32, end: i32): bool {
  if (!isTokenByte(load<u8>(s + <usize>pos))) return false;
  for (let i = pos + 1; i < end; i++) {
    const c = load<u8>(s + <usize>i);
    if ((c < 0x20 && c != 0x09 && c != 0x0b && c != 0x0c && c != 0x0d && <u8>(c - 0x1c) >= 4) || c == 0x7f) return false;
  }
  return true;
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
