// basic_inspect: a port and protocol policy plus payload patterns, all from
// its JSON config (README.md lists the fields and signature ids).
import {
  Inspector, Packet, Verdict, JsonValue, FlowMap, Severity, LogLevel, IpProto,
  refuse, onlyKnownKeys, intField, actionVerdict,
  register, alert, log, worst, lowerAscii, utf8, JsonWriter, parseJsonString,
} from "../sdk";
import { MultiSearch } from "../sdk/lib";
export * from "../sdk/exports";

const SID_DENIED_PORT = 1000101;
const SID_PROTOCOL_NOT_ALLOWED = 1000102;

// Used when the host gives no config: enough to flag the demo capture's attacks.
const DEFAULT_CONFIG = `{
  "deny_ports": [23, 2323],
  "patterns": [
    { "sid": 1000001, "content": "' or '1'='1", "nocase": true, "severity": 1, "action": "drop", "msg": "SQL injection tautology" },
    { "sid": 1000002, "content": "../etc/passwd", "severity": 1, "action": "drop", "msg": "Path traversal to /etc/passwd" },
    { "sid": 1000003, "content": "\${jndi:", "nocase": true, "severity": 1, "action": "block_flow", "msg": "Log4Shell JNDI lookup" },
    { "sid": 1000004, "content": "/bin/sh", "severity": 2, "action": "alert", "msg": "Shell path in payload" },
    { "sid": 1000005, "content": "<script", "nocase": true, "severity": 2, "action": "alert", "msg": "Script tag in payload" }
  ],
  "inspect_depth": 4096,
  "block_ttl": 300
}`;

const KNOWN_KEYS = ["deny_ports", "allow_protocols", "patterns", "inspect_depth", "block_ttl", "no_payload_packets"];
const PATTERN_KEYS = ["sid", "content", "nocase", "severity", "action", "msg"];

class Pattern {
  sid: i32 = 0;
  content: Uint8Array = new Uint8Array(0);
  nocase: bool = false;
  severity: i32 = Severity.MEDIUM;
  action: Verdict = Verdict.CONTINUE;
  actionName: string = "alert";
  msg: string = "";
  /** The metadata JSON after match_offset's value, by (toClient ? 2 : 0) + (inStream ? 1 : 0). */
  metaTail: StaticArray<string> = new StaticArray<string>(4);
}

class FlowState {
  seen0: i32 = 0;
  seen1: i32 = 0;
  /** A direction that ever carried stream bytes is only scanned through the stream. */
  streamed0: bool = false;
  streamed1: bool = false;
  packets: i32 = 0;
  payloadBytes: i32 = 0;
  /** Sticky decision once the flow is decided. */
  decided: Verdict = Verdict.CONTINUE;
}

class BasicInspect extends Inspector {
  denyPorts: StaticArray<u8> = new StaticArray<u8>(65536);
  /** allowed[proto] != 0; all allowed when allowAll. */
  allowed: StaticArray<u8> = new StaticArray<u8>(256);
  allowAll: bool = true;
  patterns: Array<Pattern> = [];
  maxPattern: i32 = 1;
  /**
   * The patterns as two automata, exact and case-insensitive, ids their
   * index. Comparing every pattern at each position where one could start
   * cost ~65 us a 1,400-byte packet of near misses with 50 patterns sharing
   * a prefix (19x plain text); an automaton reads each byte once.
   */
  exact: MultiSearch = new MultiSearch(false);
  folded: MultiSearch = new MultiSearch(true);
  exactCount: i32 = 0;
  /** Per-packet scratch: offset of each pattern's first new match, -1 = none. */
  hits: StaticArray<i32> = new StaticArray<i32>(0);
  depth: i32 = 4096;
  blockTtl: i32 = 300;
  noPayloadPackets: i32 = 16;
  flows: FlowMap<FlowState> = new FlowMap<FlowState>();

  onInit(config: JsonValue | null): bool {
    if (config === null) config = parseDefault();
    if (!config.isObject()) return refuse("the config must be a JSON object");
    if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
    const ports = config.get("deny_ports");
    if (ports !== null) {
      if (!ports.isArray()) return refuse("deny_ports must be an array of port numbers");
      for (let i = 0; i < ports.length; i++) {
        const p = ports.at(i);
        if (!p.isInteger() || p.num < 0 || p.num > 65535) return refuse("deny_ports[" + i.toString() + "] must be a port number 0..65535");
        this.denyPorts[<i32>p.num] = 1;
      }
    }
    const protos = config.get("allow_protocols");
    if (protos !== null) {
      if (!protos.isArray()) return refuse("allow_protocols must be an array such as [\"tcp\", \"udp\", \"icmp\"]");
      this.allowAll = false;
      for (let i = 0; i < protos.length; i++) {
        const p = protos.at(i);
        const where = "allow_protocols[" + i.toString() + "]";
        if (p.isInteger() && p.num >= 0 && p.num <= 255) { this.allowed[<i32>p.num] = 1; continue; }
        if (!p.isString()) return refuse(where + " must be a protocol name or number 0..255");
        const n = protocolNumber(p.str);
        if (n < 0) return refuse(where + ": unknown protocol \"" + p.str + "\" (use tcp, udp, icmp, icmpv6, sctp, gre, esp, ah or a number)");
        this.allowed[n] = 1;
        if (n == IpProto.ICMP) this.allowed[IpProto.ICMPV6] = 1;
      }
    }
    const depth = intField(config, "inspect_depth", 1, 16777216, this.depth, "bytes per direction");
    if (depth == i64.MIN_VALUE) return false;
    this.depth = <i32>depth;
    const ttl = intField(config, "block_ttl", 1, 65535, this.blockTtl, "seconds");
    if (ttl == i64.MIN_VALUE) return false;
    this.blockTtl = <i32>ttl;
    const quiet = intField(config, "no_payload_packets", 0, 1000000, this.noPayloadPackets, "0 = never");
    if (quiet == i64.MIN_VALUE) return false;
    this.noPayloadPackets = <i32>quiet;
    const pats = config.get("patterns");
    if (pats !== null) {
      if (!pats.isArray()) return refuse("patterns must be an array of objects");
      for (let i = 0; i < pats.length; i++) {
        const p = parsePattern(pats.at(i), "patterns[" + i.toString() + "]");
        if (p === null) return false;
        this.patterns.push(p);
        if (p.content.length > this.maxPattern) this.maxPattern = p.content.length;
        if (p.nocase) this.folded.add(p.content, i); else { this.exact.add(p.content, i); this.exactCount++; }
      }
    }
    this.exact.build();
    this.folded.build();
    this.hits = new StaticArray<i32>(this.patterns.length);
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.ipVersion == 0) return Verdict.PASS;
    const id = pkt.flowId;
    let st = this.flows.get(id);
    if (st === null) {
      st = new FlowState();
      this.flows.set(id, st);
    }
    if (st.decided != Verdict.CONTINUE) {
      if (st.decided == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
      return st.decided;
    }
    st.packets++;

    const proto = pkt.proto;
    if (!this.allowAll && this.allowed[proto] == 0) {
      alert(pkt, SID_PROTOCOL_NOT_ALLOWED, Severity.MEDIUM, "Protocol " + proto.toString() + " not allowed",
        new JsonWriter().beginObject().num("proto", proto).endObject().toString());
      st.decided = Verdict.BLOCK_FLOW;
      return Verdict.BLOCK_FLOW;
    }
    if ((proto == IpProto.TCP || proto == IpProto.UDP) && this.denyPorts[pkt.serverPort] != 0) {
      alert(pkt, SID_DENIED_PORT, Severity.MEDIUM, "Denied port " + pkt.serverPort.toString(),
        new JsonWriter().beginObject().num("port", pkt.serverPort).endObject().toString());
      st.decided = Verdict.BLOCK_FLOW;
      return Verdict.BLOCK_FLOW;
    }

    const verdict = this.scan(pkt, st);
    if (verdict == Verdict.BLOCK_FLOW || verdict == Verdict.BLOCK_SRC) st.decided = verdict;
    if (verdict != Verdict.CONTINUE) return verdict;

    if (st.seen0 >= this.depth && st.seen1 >= this.depth) {
      st.decided = Verdict.ALLOW_FLOW;
      return Verdict.ALLOW_FLOW;
    }
    if (this.noPayloadPackets > 0 && st.payloadBytes == 0 && st.packets >= this.noPayloadPackets) {
      st.decided = Verdict.ALLOW_FLOW;
      return Verdict.ALLOW_FLOW;
    }
    return Verdict.CONTINUE;
  }

  /** Searches this packet's new bytes (stream for TCP, else payload) up to the depth. */
  scan(pkt: Packet, st: FlowState): Verdict {
    const toClient = pkt.direction != 0;
    let seen = toClient ? st.seen1 : st.seen0;
    st.payloadBytes += pkt.payloadLength;
    let verdict = Verdict.CONTINUE;
    if (pkt.streamPtr != 0) {
      if (toClient) st.streamed1 = true; else st.streamed0 = true;
      const len = pkt.streamLength;
      const end = len < this.depth ? len : this.depth;
      const newStart = len - pkt.streamNew;
      if (newStart < end && this.patterns.length > 0) {
        // Back up by the longest pattern so a match split across packets is found once.
        let from = newStart - (this.maxPattern - 1);
        if (from < 0) from = 0;
        verdict = this.match(pkt, pkt.streamPtr, from, end, newStart, toClient, true);
      }
      if (end > seen) seen = end;
      // A hole or the host's stream depth: no more in-order bytes will come.
      if (pkt.streamGap) seen = this.depth;
    } else if (pkt.payloadLength > 0 && !(toClient ? st.streamed1 : st.streamed0) && seen < this.depth) {
      const room = this.depth - seen;
      const len = pkt.payloadLength < room ? pkt.payloadLength : room;
      if (this.patterns.length > 0) verdict = this.match(pkt, pkt.payloadPtr, 0, len, 0, toClient, false);
      seen += pkt.payloadLength;
    }
    if (toClient) st.seen1 = seen; else st.seen0 = seen;
    return verdict;
  }

  /** Reports every pattern with a match in base[from..end) that ends after newStart. */
  match(pkt: Packet, base: usize, from: i32, end: i32, newStart: i32, toClient: bool, inStream: bool): Verdict {
    const hay = base + <usize>from;
    const hayLen = end - from;
    const patterns = this.patterns;
    const n = patterns.length;
    const hits = this.hits;
    for (let i = 0; i < n; i++) unchecked(hits[i] = -1);
    // A match must end after newStart: earlier ones were reported on an earlier packet.
    const minEnd = newStart - from;
    let pending = n;
    pending -= this.exact.firstOfEach(hay, hayLen, minEnd, hits, this.exactCount);
    pending -= this.folded.firstOfEach(hay, hayLen, minEnd, hits, n - this.exactCount);
    if (pending == n) return Verdict.CONTINUE;
    let verdict = Verdict.CONTINUE;
    for (let i = 0; i < n; i++) {
      const at = unchecked(hits[i]);
      if (at < 0) continue;
      const p = unchecked(patterns[i]);
      const meta = "{\"match_offset\":" + (from + at).toString() + unchecked(p.metaTail[(toClient ? 2 : 0) + (inStream ? 1 : 0)]);
      alert(pkt, p.sid, p.severity, p.msg, meta);
      verdict = worst(verdict, p.action);
    }
    if (verdict == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    return verdict;
  }
}

function parseDefault(): JsonValue {
  // DEFAULT_CONFIG is a constant of this file; a parse failure is a build bug.
  const v = parseJsonString(DEFAULT_CONFIG);
  if (v === null) { log(LogLevel.ERROR, "built-in config does not parse"); unreachable(); }
  return v!;
}

function protocolNumber(name: string): i32 {
  const n = name.toLowerCase();
  if (n == "tcp") return 6;
  if (n == "udp") return 17;
  if (n == "icmp") return 1;
  if (n == "icmpv6" || n == "ipv6-icmp") return 58;
  if (n == "sctp") return 132;
  if (n == "gre") return 47;
  if (n == "esp") return 50;
  if (n == "ah") return 51;
  return -1;
}

function parsePattern(v: JsonValue, where: string): Pattern | null {
  if (!v.isObject()) { refuse(where + " must be an object"); return null; }
  if (!onlyKnownKeys(v, PATTERN_KEYS, where)) return null;
  const p = new Pattern();
  const sid = v.get("sid");
  if (sid === null || !sid.isInteger() || sid.num < 1 || sid.num > 2147483647) { refuse(where + ".sid must be an integer 1..2147483647"); return null; }
  p.sid = <i32>sid.num;
  const content = v.get("content");
  if (content === null || !content.isString() || content.str.length == 0) { refuse(where + ".content must be a non-empty string"); return null; }
  const nocase = v.get("nocase");
  if (nocase !== null && !nocase.isBool()) { refuse(where + ".nocase must be true or false"); return null; }
  p.nocase = nocase !== null && nocase.bool;
  const bytes = utf8(content.str);
  p.content = p.nocase ? lowerAscii(bytes) : bytes;
  const sev = v.get("severity");
  if (sev !== null) {
    if (!sev.isInteger() || sev.num < 1 || sev.num > 4) { refuse(where + ".severity must be 1 (high) .. 4 (info)"); return null; }
    p.severity = <i32>sev.num;
  }
  const action = v.get("action");
  if (action !== null) {
    const a = action.isString() ? actionVerdict(action.str) : -1;
    if (a < 0) { refuse(where + ".action must be one of alert, drop, block_flow, block_src"); return null; }
    p.action = <Verdict>a;
    p.actionName = action.str;
  }
  const msg = v.get("msg");
  if (msg !== null && !msg.isString()) { refuse(where + ".msg must be a string"); return null; }
  p.msg = msg !== null ? msg.str : "basic_inspect pattern " + p.sid.toString();
  for (let k = 0; k < 4; k++) {
    // Same text JsonWriter produced: the members after match_offset, in the same order.
    const full = new JsonWriter().beginObject().num("match_offset", 0).flag("in_stream", (k & 1) != 0)
      .str("direction", (k & 2) != 0 ? "to_client" : "to_server").str("action", p.actionName).endObject().toString();
    p.metaTail[k] = full.substring(("{\"match_offset\":0").length);
  }
  return p;
}

register(new BasicInspect());
