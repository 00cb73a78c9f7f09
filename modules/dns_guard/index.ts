// dns_guard: parses DNS over UDP and TCP, blocks listed domains, flags
// tunnelling tells and per-source query bursts, and reports every message as
// a Suricata-shaped `dns` event. README.md lists the config and the sids.
import {
  Inspector, Packet, Verdict, JsonValue, JsonWriter, FlowMap, Severity, EventKind, IpProto, LogLevel,
  refuse, onlyKnownKeys, intField, numField, boolField, actionField, actionName, portTable,
  register, collectBeforePackets, alert, log, worst,
} from "../sdk";
import { SlidingWindowCounter } from "../sdk/lib/window";
import { addrKey } from "../sdk/lib/hash";
import { DnsMessage } from "./message";
import { NameBuf, readName } from "./name";
import { DomainSet } from "./domainset";
import { loadDomainLists } from "./domainlist";
import { rrtypeText, rcodeText, writeRdata } from "./text";
import { ByteJson } from "./bytejson";
import { subdomainLength, labelEntropy } from "./tunnel";
export * from "../sdk/exports";

export const SID_BLOCKED_DOMAIN = 1002001;
export const SID_LONG_LABEL = 1002002;
export const SID_HIGH_ENTROPY = 1002003;
export const SID_QUERY_RATE = 1002004;
export const SID_LONG_NAME = 1002005;
export const SID_PAST_DEPTH = 1002006;
export const SID_MALFORMED = 1002010;

const KNOWN_KEYS = [
  "ports", "blocklist", "blocklist_text", "block_action", "block_ttl",
  "long_label", "long_name", "entropy_min_length", "entropy_bits", "tunnel_action",
  "rate_queries", "rate_window_s", "rate_sources", "rate_action", "malformed_action", "depth_action", "events",
];

/**
 * Messages of one packet that get a `dns` event. Every message is checked:
 * pipelined queries (RFC 7766) past this would otherwise reach the resolver
 * unjudged. The cap keeps one segment of thousands of tiny messages from
 * spending the batch's event budget; the rest get no event.
 */
const MAX_EVENTS_PER_PACKET = 64;
/** Alerts of one sid per packet, for the same reason; past it the verdict still applies. */
const MAX_ALERTS_PER_SID_PER_PACKET = 16;
/** Our sids are SID_BASE + 1..15; alert counts are kept per that offset. */
const SID_BASE = 1002000;

class TcpState {
  /** Offset in each direction's stream of the next length-prefixed message. */
  next0: i32 = 0;
  next1: i32 = 0;
  /** The queries reached the host's stream depth: later ones are not seen. */
  queriesPastDepth: bool = false;
}

/**
 * Start of the message that holds stream offset `at` (or `at` itself when a
 * message starts there), walking the length prefixes from the stream's first
 * byte. Only bytes before `at` are read: they are the ones that stay put.
 */
function messageStartAt(base: usize, at: i32): i32 {
  let start = 0;
  while (start + 2 <= at) {
    const end = start + 2 + <i32>bswap<u16>(load<u16>(base + <usize>start));
    if (end > at) break;
    start = end;
  }
  return start;
}

class DnsGuard extends Inspector {
  ports: StaticArray<u8> = new StaticArray<u8>(65536);
  blocklist: DomainSet = new DomainSet();
  blockAction: Verdict = Verdict.DROP;
  blockTtl: i32 = 300;
  longLabel: i32 = 52;
  longName: i32 = 180;
  entropyMinLength: i32 = 28;
  entropyBits: f64 = 3.6;
  tunnelAction: Verdict = Verdict.CONTINUE;
  rateQueries: i64 = 200;
  rateAction: Verdict = Verdict.CONTINUE;
  malformedAction: Verdict = Verdict.CONTINUE;
  depthAction: Verdict = Verdict.CONTINUE;
  events: bool = true;
  rate: SlidingWindowCounter | null = null;
  tcp: FlowMap<TcpState> = new FlowMap<TcpState>();
  msg: DnsMessage = new DnsMessage();
  json: ByteJson = new ByteJson();
  alias: NameBuf = new NameBuf();
  /** Alerts raised for the current packet, per sid - SID_BASE. */
  alertsThisPacket: StaticArray<i32> = new StaticArray<i32>(16);

  onInit(config: JsonValue | null): bool {
    this.ports[53] = 1;
    let windowS: i64 = 10;
    let sources: i64 = 4096;
    if (config !== null) {
      if (!config.isObject()) return refuse("the config must be a JSON object");
      if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
      if (!portTable(config, "ports", this.ports)) return false;
      if (!loadDomainLists(this.blocklist, config, "blocklist", "blocklist_text")) return false;
      const ba = actionField(config, "block_action", Verdict.DROP);
      const ta = actionField(config, "tunnel_action", Verdict.CONTINUE);
      const ra = actionField(config, "rate_action", Verdict.CONTINUE);
      const ma = actionField(config, "malformed_action", Verdict.CONTINUE);
      const da = actionField(config, "depth_action", Verdict.CONTINUE);
      if (ba < 0 || ta < 0 || ra < 0 || ma < 0 || da < 0) return false;
      this.blockAction = <Verdict>ba;
      this.tunnelAction = <Verdict>ta;
      this.rateAction = <Verdict>ra;
      this.malformedAction = <Verdict>ma;
      this.depthAction = <Verdict>da;
      const ttl = intField(config, "block_ttl", 1, 65535, 300, "seconds");
      const ll = intField(config, "long_label", 0, 63, 52, "bytes, 0 = off");
      const ln = intField(config, "long_name", 0, 255, 180, "bytes, 0 = off");
      const em = intField(config, "entropy_min_length", 0, 255, 28, "bytes, 0 = off");
      const rq = intField(config, "rate_queries", 0, 1000000000, 200, "queries per window, 0 = off");
      windowS = intField(config, "rate_window_s", 1, 3600, 10, "seconds");
      sources = intField(config, "rate_sources", 16, 262144, 4096, "sources tracked");
      const eb = numField(config, "entropy_bits", 0, 8, 3.6, "bits per character");
      const ev = boolField(config, "events", true);
      if (ttl == i64.MIN_VALUE || ll == i64.MIN_VALUE || ln == i64.MIN_VALUE || em == i64.MIN_VALUE || rq == i64.MIN_VALUE ||
          windowS == i64.MIN_VALUE || sources == i64.MIN_VALUE || isNaN(eb) || ev < 0) return false;
      this.blockTtl = <i32>ttl;
      this.longLabel = <i32>ll;
      this.longName = <i32>ln;
      this.entropyMinLength = <i32>em;
      this.entropyBits = eb;
      this.rateQueries = rq;
      this.events = ev == 1;
    }
    if (this.rateQueries > 0) this.rate = new SlidingWindowCounter(windowS * 1_000_000_000, 10, <i32>sources);
    if (this.blocklist.size > 1000) collectBeforePackets();
    log(LogLevel.INFO, "blocklist: " + this.blocklist.size.toString() + " domains");
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    const proto = pkt.proto;
    if (proto != IpProto.UDP && proto != IpProto.TCP) return Verdict.ALLOW_FLOW;
    if (unchecked(this.ports[pkt.serverPort]) == 0) return Verdict.ALLOW_FLOW;
    this.alertsThisPacket.fill(0);
    if (proto == IpProto.UDP) {
      const n = pkt.payloadLength;
      return n > 0 ? this.handle(pkt, pkt.payloadPtr, n, true) : Verdict.CONTINUE;
    }
    return this.onTcp(pkt);
  }

  // DNS over TCP: each message has a 2-byte length prefix (RFC 1035 4.2.2);
  // messages are cut from the in-order stream, so splits across segments work.
  onTcp(pkt: Packet): Verdict {
    let verdict = Verdict.CONTINUE;
    if (pkt.streamNew > 0) verdict = this.newStreamBytes(pkt, this.tcpState(pkt.flowId));
    if (pkt.direction == 0 && pkt.streamGap && pkt.payloadLength > 0) verdict = worst(verdict, this.pastDepth(pkt, this.tcpState(pkt.flowId)));
    return verdict;
  }

  tcpState(id: u64): TcpState {
    let st = this.tcp.get(id);
    if (st === null) { st = new TcpState(); this.tcp.set(id, st); }
    return st;
  }

  /** Checks every message the packet completes; the first MAX_EVENTS_PER_PACKET get an event. */
  newStreamBytes(pkt: Packet, st: TcpState): Verdict {
    const toClient = pkt.direction != 0;
    const base = pkt.streamPtr;
    const len = pkt.streamLength;
    const newFrom = len - pkt.streamNew;
    let next = toClient ? st.next1 : st.next0;
    // Bytes a DROP kept from the receiver are shown again when resent
    // (docs/abi/v1.md section 4). Judge their messages again, or the resend
    // of a dropped query would pass.
    if (newFrom < next) next = messageStartAt(base, newFrom);
    let verdict = Verdict.CONTINUE;
    for (let m = 0; next + 2 <= len; m++) {
      const size = <i32>bswap<u16>(load<u16>(base + <usize>next));
      if (next + 2 + size > len) break;
      verdict = worst(verdict, this.handle(pkt, base + <usize>(next + 2), size, m < MAX_EVENTS_PER_PACKET));
      next += 2 + size;
    }
    if (toClient) st.next1 = next; else st.next0 = next;
    return verdict;
  }

  // STREAM_GAP: the direction reached the host's stream depth (or the part
  // of it the batch could carry); no later byte of it will be shown. Queries
  // past it would pass unseen, so from the packet that reaches it on, every
  // query packet carrying data gets depth_action (one alert per flow).
  // Answers are left alone: zone transfers run past any depth.
  pastDepth(pkt: Packet, st: TcpState): Verdict {
    if (!st.queriesPastDepth) {
      st.queriesPastDepth = true;
      alert(pkt, SID_PAST_DEPTH, Severity.MEDIUM, "dns_guard: DNS over TCP past the stream depth, later queries are not inspected",
        new JsonWriter().beginObject().num("inspected_bytes", st.next0).str("action", actionName(this.depthAction)).endObject().toString());
    }
    const v = this.depthAction;
    if (v == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    return v;
  }

  /** Whether one more alert of `sid` fits this packet's share (MAX_ALERTS_PER_SID_PER_PACKET). */
  mayAlert(sid: i32): bool {
    const i = sid - SID_BASE;
    const n = unchecked(this.alertsThisPacket[i]);
    if (n >= MAX_ALERTS_PER_SID_PER_PACKET) return false;
    unchecked(this.alertsThisPacket[i] = n + 1);
    return true;
  }

  handle(pkt: Packet, ptr: usize, len: i32, withEvent: bool): Verdict {
    const msg = this.msg;
    if (!msg.parse(ptr, len)) return this.malformed(pkt, len);
    let verdict = Verdict.CONTINUE;
    const isQuery = !msg.isResponse;
    for (let i = 0; i < msg.questionCount; i++) {
      const q = unchecked(msg.questions[i]);
      const name = q.name;
      const hit = this.blocklist.match(name.keyPtr, name.keyLen);
      if (hit >= 0) {
        if (this.mayAlert(SID_BLOCKED_DOMAIN)) alert(pkt, SID_BLOCKED_DOMAIN, Severity.HIGH, "dns_guard: blocklisted domain " + name.toString(),
          new JsonWriter().beginObject().str("rrname", name.toString()).str("rrtype", rrtypeText(q.type))
            .str("listed", this.blocklist.entryName(hit)).str("action", actionName(this.blockAction)).endObject().toString());
        verdict = worst(verdict, this.blockAction);
      }
      if (isQuery) verdict = worst(verdict, this.tunnelChecks(pkt, q.name, q.type));
    }
    if (!isQuery && verdict == Verdict.CONTINUE && this.blocklist.size > 0) verdict = this.aliasChecks(pkt, msg);
    if (isQuery && this.rate !== null && pkt.direction == 0) verdict = worst(verdict, this.countQuery(pkt));
    if (this.events && withEvent) this.eventJson(msg).emit(pkt, EventKind.DNS);
    if (verdict == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    return verdict;
  }

  // CNAME cloaking: an unlisted name whose answer aliases to a listed domain.
  aliasChecks(pkt: Packet, msg: DnsMessage): Verdict {
    for (let i = 0; i < msg.answerCount; i++) {
      const a = unchecked(msg.answers[i]);
      if (a.type != 5 && a.type != 39) continue;
      if (readName(msg.base, msg.length, a.rdataOff, this.alias) < 0) continue;
      const hit = this.blocklist.match(this.alias.keyPtr, this.alias.keyLen);
      if (hit < 0) continue;
      if (!this.mayAlert(SID_BLOCKED_DOMAIN)) return this.blockAction;
      const qname = msg.questionCount > 0 ? msg.questions[0].name.toString() : "";
      alert(pkt, SID_BLOCKED_DOMAIN, Severity.HIGH, "dns_guard: " + qname + " is an alias of blocklisted " + this.alias.toString(),
        new JsonWriter().beginObject().str("rrname", qname).str("alias", this.alias.toString())
          .str("listed", this.blocklist.entryName(hit)).str("action", actionName(this.blockAction)).endObject().toString());
      return this.blockAction;
    }
    return Verdict.CONTINUE;
  }

  tunnelChecks(pkt: Packet, name: NameBuf, type: u16): Verdict {
    let verdict = Verdict.CONTINUE;
    if (this.longLabel > 0 && name.longestLabel >= this.longLabel) {
      if (this.mayAlert(SID_LONG_LABEL)) alert(pkt, SID_LONG_LABEL, Severity.MEDIUM, "dns_guard: possible DNS tunnel, label of " + name.longestLabel.toString() + " bytes",
        new JsonWriter().beginObject().str("rrname", name.toString()).num("label_length", name.longestLabel).endObject().toString());
      verdict = worst(verdict, this.tunnelAction);
    }
    if (this.longName > 0 && name.keyLen >= this.longName) {
      if (this.mayAlert(SID_LONG_NAME)) alert(pkt, SID_LONG_NAME, Severity.MEDIUM, "dns_guard: possible DNS tunnel, name of " + name.keyLen.toString() + " bytes",
        new JsonWriter().beginObject().str("rrname", name.toString()).num("name_length", name.keyLen).endObject().toString());
      verdict = worst(verdict, this.tunnelAction);
    }
    if (this.entropyMinLength > 0) {
      const sub = subdomainLength(name.keyPtr, name.keyLen);
      if (sub >= this.entropyMinLength) {
        const bits = labelEntropy(name.keyPtr, sub);
        if (bits >= this.entropyBits) {
          if (this.mayAlert(SID_HIGH_ENTROPY)) alert(pkt, SID_HIGH_ENTROPY, Severity.LOW, "dns_guard: possible DNS tunnel, high-entropy subdomain",
            new JsonWriter().beginObject().str("rrname", name.toString()).key("entropy").number(Math.round(bits * 1000) / 1000)
              .num("subdomain_length", sub).endObject().toString());
          verdict = worst(verdict, this.tunnelAction);
        }
      }
    }
    return verdict;
  }

  countQuery(pkt: Packet): Verdict {
    const n = this.rate!.add(addrKey(pkt.srcAddrPtr, pkt.ipVersion), pkt.timeNs);
    if (n <= this.rateQueries) return Verdict.CONTINUE;
    if (n == this.rateQueries + 1) {
      alert(pkt, SID_QUERY_RATE, Severity.MEDIUM, "dns_guard: query rate above " + this.rateQueries.toString() + " per window from one source",
        new JsonWriter().beginObject().num("queries", n).num("window_s", this.rate!.windowNs / 1_000_000_000).str("action", actionName(this.rateAction)).endObject().toString());
    }
    return this.rateAction;
  }

  malformed(pkt: Packet, len: i32): Verdict {
    if (this.mayAlert(SID_MALFORMED)) alert(pkt, SID_MALFORMED, Severity.LOW, "dns_guard: malformed DNS message: " + this.msg.error,
      new JsonWriter().beginObject().str("reason", this.msg.error).num("offset", this.msg.errorOffset).num("length", len).endObject().toString());
    const v = this.malformedAction;
    if (v == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    return v;
  }

  /** Writes the message's `dns` event into this.json (Suricata field names). */
  eventJson(msg: DnsMessage): ByteJson {
    const w = this.json.reset().beginObject();
    const response = msg.isResponse;
    w.str("type", response ? "answer" : "query").num("id", msg.id);
    if (response) {
      w.key("flags").hex4(msg.flags).flag("qr", true);
      if ((msg.flags & 0x0400) != 0) w.flag("aa", true);
      if ((msg.flags & 0x0200) != 0) w.flag("tc", true);
      if ((msg.flags & 0x0100) != 0) w.flag("rd", true);
      if ((msg.flags & 0x0080) != 0) w.flag("ra", true);
    } else if ((msg.flags & 0x0100) != 0) w.flag("rd", true);
    w.num("opcode", msg.opcode);
    if (msg.questionCount > 0) {
      const q = msg.questions[0];
      w.key("rrname").name(q.name).str("rrtype", rrtypeText(q.type));
    }
    if (response) {
      w.str("rcode", rcodeText(msg.rcode));
      if (msg.answerCount > 0) {
        w.key("answers").beginArray();
        for (let i = 0; i < msg.answerCount; i++) {
          const a = msg.answers[i];
          w.beginObject().key("rrname").name(a.name).str("rrtype", rrtypeText(a.type)).num("ttl", a.ttl);
          writeRdata(w, msg.base, msg.length, a.type, a.rdataOff, a.rdataLen);
          w.endObject();
        }
        w.endArray();
      }
    }
    if (msg.questionCount > 1) w.num("questions", msg.qdcount);
    return w.endObject();
  }
}

register(new DnsGuard());
