// threat_intel: flags flows to or from listed addresses/CIDRs, and DNS
// queries and answers, TLS SNIs, HTTP request targets and Hosts that name
// listed domains. README.md has the list format, the config and the
// signature ids.
import {
  Inspector, Packet, Verdict, JsonValue, FlowMap, Severity, LogLevel, IpProto,
  refuse, onlyKnownKeys, actionVerdict,
  register, alert, log, parseJson, jsonError, JsonWriter, Status,
} from "../sdk";
import { IpIocSet, DomainIocSet, IocAccept, loadIocText, loadIocString, iocError } from "./ioc";
import { addrText, parseAddr } from "./addr";
import {
  dnsName, dnsQuestionsStart, dnsNextQuestion, dnsIsResponse, dnsAnswersStart, dnsNextAlias, clientHelloServerName,
  looksLikeHttpRequest, skipEmptyLines, foundPtr, foundLen, Found,
} from "./names";
import { TlsHellos } from "./tlshellos";
import { HttpRequests, HttpStep } from "./httprequests";
import { DnsTcpMessages, nextDnsMessage, messageAt, messageLen } from "./dnstcp";
// The SDK's callbacks, except on_init: see below.
export { secuxflow_abi_version, sf_alloc, on_batch, on_flow_end } from "../sdk/exports";

const SID_SRC_IP = 1008001;
const SID_DST_IP = 1008002;
const SID_DNS = 1008003;
const SID_TLS = 1008004;
const SID_HTTP = 1008005;

const KNOWN_KEYS = ["ips", "domains", "ip_list_text", "domain_list_text", "ioc_text", "action", "block_ttl", "severity", "max_packets"];
/**
 * A flow that showed no name to check within this many packets is let go.
 * HTTP/1.x and DNS-over-TCP connections are not counted: their client stream
 * is followed request by request (message by message) to its end.
 */
const DEFAULT_MAX_PACKETS = 16;

namespace App {
  export const UNKNOWN: i32 = -1;
  export const NONE: i32 = 0;
  export const TLS: i32 = 1;
  export const HTTP: i32 = 2;
  export const DNS_TCP: i32 = 3;
}

class TiFlow {
  decided: Verdict = Verdict.CONTINUE;
  packets: i32 = 0;
  /** What the client stream carries: App.*. */
  app: i32 = App.UNKNOWN;
  /** HTTP: the requests of the client stream, read so far. */
  http: HttpRequests | null = null;
  /** DNS over TCP: the messages of each direction, read so far. */
  dns: DnsTcpMessages | null = null;
  /** TLS: the client's hellos, read so far (after a CONNECT request, in the tunnel). */
  tls: TlsHellos | null = null;
}

/** Where an address literal from an HTTP request target is parsed to. */
const targetAddr: usize = memory.data(16);

@inline function isDnsPort(port: i32): bool { return port == 53 || port == 5353; }

class ThreatIntel extends Inspector {
  ips: IpIocSet = new IpIocSet();
  domains: DomainIocSet = new DomainIocSet();
  action: Verdict = Verdict.BLOCK_FLOW;
  actionName: string = "block_flow";
  blockTtl: i32 = 3600;
  severity: i32 = Severity.HIGH;
  maxPackets: i32 = DEFAULT_MAX_PACKETS;
  flows: FlowMap<TiFlow> = new FlowMap<TiFlow>();

  configureJson(config: JsonValue): bool {
    if (!config.isObject()) return refuse("the config must be a JSON object, or a plain IOC list");
    if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
    if (!this.listField(config, "ips", IocAccept.IPS, true)) return false;
    if (!this.listField(config, "domains", IocAccept.DOMAINS, true)) return false;
    if (!this.listField(config, "ip_list_text", IocAccept.IPS, false)) return false;
    if (!this.listField(config, "domain_list_text", IocAccept.DOMAINS, false)) return false;
    if (!this.listField(config, "ioc_text", IocAccept.BOTH, false)) return false;
    const a = config.get("action");
    if (a !== null && (!a.isString() || !this.setAction(a.str))) return refuse("action must be one of alert, drop, block_flow, block_src");
    const t = config.get("block_ttl");
    if (t !== null && (!t.isInteger() || !this.setTtl(<i32>t.num))) return refuse("block_ttl must be an integer 1..65535 (seconds)");
    const s = config.get("severity");
    if (s !== null && (!s.isInteger() || !this.setSeverity(<i32>s.num))) return refuse("severity must be 1 (high) .. 4 (info)");
    const m = config.get("max_packets");
    if (m !== null) {
      if (!m.isInteger() || m.num < 1 || m.num > 100000) return refuse("max_packets must be an integer 1..100000");
      this.maxPackets = <i32>m.num;
    }
    this.seal();
    return true;
  }

  /** The plain form: the whole config is one IOC list; "#!key=value" lines set options. */
  configurePlain(ptr: usize, len: i32): bool {
    const directives = new Array<string>();
    if (!loadIocText(ptr, len, this.ips, this.domains, IocAccept.BOTH, "config", directives)) return refuse(iocError);
    for (let i = 0; i < directives.length; i++) {
      const d = directives[i];
      const eq = d.indexOf("=");
      const key = eq < 0 ? d : d.substring(0, eq).trim();
      const val = eq < 0 ? "" : d.substring(eq + 1).trim();
      let ok = true;
      if (key == "action") ok = this.setAction(val);
      else if (key == "block_ttl") ok = this.setTtl(intOf(val));
      else if (key == "severity") ok = this.setSeverity(intOf(val));
      else return refuse("directive \"#!" + d + "\": unknown option \"" + key + "\" (known: action, block_ttl, severity)");
      if (!ok) return refuse("directive \"#!" + d + "\": bad value \"" + val + "\" for " + key);
    }
    this.seal();
    return true;
  }

  seal(): void {
    this.ips.seal();
    this.domains.seal();
    log(LogLevel.INFO, "loaded " + this.ips.size.toString() + " address/CIDR and " + this.domains.size.toString() + " domain IOCs ("
      + ((this.ips.footprint + this.domains.footprint) / 1024).toString() + " KiB)");
  }

  listField(config: JsonValue, key: string, accept: i32, entries: bool): bool {
    const v = config.get(key);
    if (v === null) return true;
    if (v.isString() && !entries) return this.loadText(v.str, accept, key);
    if (!v.isArray()) return refuse(key + (entries ? " must be an array of strings" : " must be a string (the text of a list file) or an array of them"));
    for (let i = 0; i < v.length; i++) {
      const item = v.at(i);
      const where = key + "[" + i.toString() + "]";
      if (!item.isString()) return refuse(where + " must be a string");
      if (!this.loadText(item.str, accept, where)) return false;
    }
    return true;
  }

  loadText(text: string, accept: i32, where: string): bool {
    if (!loadIocString(text, this.ips, this.domains, accept, where)) return refuse(iocError);
    return true;
  }

  setAction(name: string): bool {
    const v = actionVerdict(name);
    if (v < 0) return false;
    this.action = <Verdict>v;
    this.actionName = name;
    return true;
  }
  setTtl(v: i32): bool { if (v < 1 || v > 65535) return false; this.blockTtl = v; return true; }
  setSeverity(v: i32): bool { if (v < 1 || v > 4) return false; this.severity = v; return true; }

  onPacket(pkt: Packet): Verdict {
    if (pkt.ipVersion == 0) return Verdict.PASS;
    let st = this.flows.get(pkt.flowId);
    if (st === null) {
      st = new TiFlow();
      this.flows.set(pkt.flowId, st);
      // both addresses are fixed for the flow: one check on its first packet
      const v = this.checkAddresses(pkt, st);
      if (v != Verdict.CONTINUE) return v;
    }
    if (st.decided != Verdict.CONTINUE) {
      if (st.decided == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
      return st.decided;
    }
    st.packets++;
    // an address-only list still has HTTP request targets to check
    if (this.domains.size == 0 && this.ips.size == 0) return this.done(st);
    const proto = pkt.proto;
    if (proto == IpProto.UDP) return this.onDatagram(pkt, st);
    if (proto != IpProto.TCP) return this.done(st);
    if (pkt.streamPtr == 0) return this.nothingToRead(st);
    const s = pkt.streamPtr;
    const len = pkt.streamLength;
    // answers come the other way: a CNAME in one is as bad as a listed query name
    if (pkt.direction != 0) return st.app == App.DNS_TCP ? this.onDnsOverTcp(pkt, st, s, len) : this.nothingToRead(st);
    if (st.app == App.UNKNOWN) {
      st.app = this.classify(pkt, st, s, len);
      if (st.app == App.UNKNOWN) return this.moreToCome(pkt, st);
    }
    if (st.app == App.TLS) return this.onTls(pkt, st, s, len);
    if (st.app == App.HTTP) return this.onHttp(pkt, st, s, len);
    if (st.app == App.DNS_TCP) return this.onDnsOverTcp(pkt, st, s, len);
    return this.done(st);
  }

  // Set by listedPrefix: the match was on the IPv4 address an IPv6 one carries.
  private viaEmbeddedV4: bool = false;

  private checkAddresses(pkt: Packet, st: TiFlow): Verdict {
    if (this.ips.size == 0) return Verdict.CONTINUE;
    const v = pkt.ipVersion;
    const sp = pkt.srcAddrPtr;
    const dp = pkt.dstAddrPtr;
    let len = this.listedPrefix(sp, v);
    if (len >= 0) return this.hit(pkt, st, SID_SRC_IP, "Source address listed as IOC", this.ipMeta(sp, v, len, "src"), true);
    len = this.listedPrefix(dp, v);
    if (len >= 0) return this.hit(pkt, st, SID_DST_IP, "Destination address listed as IOC", this.ipMeta(dp, v, len, "dst"), false);
    return Verdict.CONTINUE;
  }

  /** Longest listed prefix covering the address, or the IPv4 address a NAT64/mapped IPv6 one carries; -1. */
  private listedPrefix(ptr: usize, version: i32): i32 {
    let len = this.ips.match(ptr, version);
    this.viaEmbeddedV4 = false;
    if (len < 0 && version == 6) {
      len = this.ips.matchEmbeddedV4(ptr);
      this.viaEmbeddedV4 = len >= 0;
    }
    return len;
  }

  /** UDP: DNS queries, and the aliases in DNS answers; other datagrams have no name to check. */
  private onDatagram(pkt: Packet, st: TiFlow): Verdict {
    if (this.domains.size == 0 || !(isDnsPort(pkt.dstPort) || isDnsPort(pkt.srcPort))) return this.done(st);
    const p = pkt.payloadPtr;
    const n = pkt.payloadLength;
    const v = dnsIsResponse(p, n) ? this.checkDnsAnswer(pkt, st, p, n) : this.checkDnsQuery(pkt, st, p, n);
    if (v != Verdict.CONTINUE) return v;
    // a resolver socket may send more queries on the same flow, answers in between
    return this.keepWatching(st);
  }

  // a server or forwarder that takes more than one question answers each, so a listed name may hide behind a harmless first
  private checkDnsQuery(pkt: Packet, st: TiFlow, ptr: usize, len: i32): Verdict {
    if (!dnsQuestionsStart(ptr, len)) return Verdict.CONTINUE;
    for (let n = dnsNextQuestion(ptr, len); n > 0; n = dnsNextQuestion(ptr, len)) {
      const at = this.domains.match(dnsName, n);
      if (at >= 0) return this.hit(pkt, st, SID_DNS, "DNS query for a domain listed as IOC", this.nameMeta("dns", at), false);
    }
    return Verdict.CONTINUE;
  }

  // the client follows a CNAME/DNAME, so a listed target is as bad as a listed query name
  private checkDnsAnswer(pkt: Packet, st: TiFlow, ptr: usize, len: i32): Verdict {
    if (!dnsAnswersStart(ptr, len)) return Verdict.CONTINUE;
    for (let n = dnsNextAlias(ptr, len); n > 0; n = dnsNextAlias(ptr, len)) {
      const at = this.domains.match(dnsName, n);
      if (at >= 0) return this.hit(pkt, st, SID_DNS, "DNS answer aliases a domain listed as IOC", this.nameMeta("dns_answer", at), false);
    }
    return Verdict.CONTINUE;
  }

  /** What the client stream carries, from its first bytes; App.UNKNOWN while too few have come. */
  private classify(pkt: Packet, st: TiFlow, s: usize, len: i32): i32 {
    if (load<u8>(s) == 0x16) {
      st.tls = new TlsHellos(0);
      return App.TLS;
    }
    // servers skip empty lines before the request line (RFC 9112 2.2)
    const start = skipEmptyLines(s, 0, len);
    if (looksLikeHttpRequest(s + <usize>start, len - start)) {
      st.http = new HttpRequests();
      return App.HTTP;
    }
    if (pkt.serverPort == 53) {
      st.dns = new DnsTcpMessages();
      return App.DNS_TCP;
    }
    if (len - start >= 16) return App.NONE;
    return App.UNKNOWN;
  }

  /**
   * The SNI of the client's first ClientHello and, after a HelloRetryRequest,
   * of its second: the one the server goes on with. The flow is let go when
   * the client's records after a hello show no second one.
   */
  private onTls(pkt: Packet, st: TiFlow, s: usize, len: i32): Verdict {
    const t = st.tls!;
    while (true) {
      const r = t.next(s, len);
      if (r == Found.NEED_MORE) return this.moreToCome(pkt, st);
      if (r == Found.NO) return this.done(st);
      if (clientHelloServerName(foundPtr, foundLen) == Found.YES) {
        const v = this.checkName(pkt, st, SID_TLS, "TLS SNI names a domain listed as IOC", "tls");
        if (v != Verdict.CONTINUE) return v;
      }
      // the retry comes a round trip later: the wait for it gets the max_packets the first hello had
      st.packets = 0;
    }
  }

  /**
   * Every request of the connection: its target and Host headers, as the
   * requests arrive (pipelined, or split across segments), bodies skipped.
   */
  private onHttp(pkt: Packet, st: TiFlow, s: usize, len: i32): Verdict {
    const h = st.http!;
    while (true) {
      const step = h.next(s, len);
      if (step == HttpStep.NEED_MORE) break;
      if (step == HttpStep.TLS) return this.enterTunnel(pkt, st, s, len, h.pos);
      const v = step == HttpStep.TARGET
        ? this.checkTargetHost(pkt, st)
        : this.checkName(pkt, st, SID_HTTP, "HTTP Host names a domain listed as IOC", "http");
      if (v != Verdict.CONTINUE) return v;
    }
    // a later request may name anything, so the connection is followed until no more client bytes will come
    return pkt.streamGap ? this.done(st) : Verdict.CONTINUE;
  }

  /**
   * The host an absolute-form or CONNECT target names (in foundPtr/foundLen):
   * a forward proxy connects there whatever Host says. A name is checked
   * against the domains, an address literal against the addresses.
   */
  private checkTargetHost(pkt: Packet, st: TiFlow): Verdict {
    const version = parseAddr(foundPtr, foundLen, targetAddr);
    if (version == 0) return this.checkName(pkt, st, SID_HTTP, "HTTP request target names a domain listed as IOC", "http_target");
    const prefix = this.listedPrefix(targetAddr, version);
    if (prefix < 0) return Verdict.CONTINUE;
    return this.hit(pkt, st, SID_DST_IP, "HTTP request target is an address listed as IOC", this.ipMeta(targetAddr, version, prefix, "dst", "http_target"), false);
  }

  // after a CONNECT the client talks through the proxy to the target, mostly in TLS whose SNI names it
  private enterTunnel(pkt: Packet, st: TiFlow, s: usize, len: i32, from: i32): Verdict {
    if (this.domains.size == 0) return this.done(st);
    st.app = App.TLS;
    st.tls = new TlsHellos(from);
    // the hello gets the max_packets a direct TLS connection gets, however long the connection ran before
    st.packets = 0;
    return this.onTls(pkt, st, s, len);
  }

  /** DNS over TCP: every message of either direction, queries and answers. */
  private onDnsOverTcp(pkt: Packet, st: TiFlow, s: usize, len: i32): Verdict {
    const m = st.dns!;
    const dir = <i32>pkt.direction;
    let from = dir == 0 ? m.toServer : m.toClient;
    while (nextDnsMessage(s, from, len)) {
      from = messageAt + messageLen;
      if (dir == 0) m.toServer = from;
      else m.toClient = from;
      const p = s + <usize>messageAt;
      const n = messageLen;
      const v = dnsIsResponse(p, n) ? this.checkDnsAnswer(pkt, st, p, n) : this.checkDnsQuery(pkt, st, p, n);
      if (v != Verdict.CONTINUE) return v;
    }
    if (pkt.streamGap) m.ended |= 1 << dir;
    // answers to the queries sent may still come after the client's stream ends
    return m.ended == 3 ? this.done(st) : Verdict.CONTINUE;
  }

  /** The name in foundPtr/foundLen: a hit when listed, else CONTINUE. */
  private checkName(pkt: Packet, st: TiFlow, sid: i32, msg: string, kind: string): Verdict {
    const at = this.domains.match(foundPtr, foundLen);
    if (at < 0) return Verdict.CONTINUE;
    return this.hit(pkt, st, sid, msg, this.nameMeta(kind, at), false);
  }

  /** A packet without client stream bytes (or DNS answers) to read: HTTP and DNS-over-TCP connections wait for more. */
  private nothingToRead(st: TiFlow): Verdict {
    return st.app == App.HTTP || st.app == App.DNS_TCP ? Verdict.CONTINUE : this.keepWatching(st);
  }

  /** Within max_packets the flow stays watched. */
  private keepWatching(st: TiFlow): Verdict {
    return st.packets >= this.maxPackets ? this.done(st) : Verdict.CONTINUE;
  }

  /** As keepWatching, but a client stream that hit the stream depth brings no more bytes. */
  private moreToCome(pkt: Packet, st: TiFlow): Verdict {
    return pkt.streamGap ? this.done(st) : this.keepWatching(st);
  }

  /** Nothing more to learn from this flow: stop receiving it. */
  done(st: TiFlow): Verdict {
    st.decided = Verdict.ALLOW_FLOW;
    return Verdict.ALLOW_FLOW;
  }

  hit(pkt: Packet, st: TiFlow, sid: i32, msg: string, meta: string, sourceIsListed: bool): Verdict {
    alert(pkt, sid, this.severity, msg, meta);
    let v = this.action;
    // blocking the source is right only when the source is the listed party
    if (v == Verdict.BLOCK_SRC && !sourceIsListed) v = Verdict.BLOCK_FLOW;
    if (v == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    // alert only: reported once, then the flow is let go; drop: every packet of it
    st.decided = v == Verdict.CONTINUE ? Verdict.ALLOW_FLOW : v;
    return st.decided;
  }

  ipMeta(ptr: usize, version: i32, prefix: i32, side: string, seenIn: string = ""): string {
    const w = new JsonWriter().beginObject().str("ioc_type", "ip").str("side", side);
    if (seenIn.length > 0) w.str("seen_in", seenIn);
    w.str("address", addrText(ptr, version));
    if (this.viaEmbeddedV4) w.str("embedded_ipv4", addrText(ptr + 12, 4));
    return w.num("prefix_len", prefix).str("action", this.actionName).endObject().toString();
  }

  /** For the name the domain set last matched; `at` is where the listed part starts. */
  nameMeta(kind: string, at: i32): string {
    return new JsonWriter().beginObject()
      .str("ioc_type", "domain").str("seen_in", kind).str("name", this.domains.lastName())
      .str("listed", this.domains.lastName(at)).str("action", this.actionName).endObject().toString();
  }
}

function intOf(s: string): i32 {
  if (s.length == 0 || s.length > 9) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + c - 0x30;
  }
  return v;
}

const inspector = new ThreatIntel();
register(inspector);

/**
 * The SDK's on_init turns the whole config into a JSON tree first; a list of
 * 100k entries held as a JSON string would not fit the module's memory. So a
 * config that is not a JSON object is read as a plain IOC list straight from
 * the config bytes, and only the JSON form goes through the SDK's reader.
 */
export function on_init(config_ptr: i32, config_len: i32): i32 {
  const ptr = <usize>config_ptr;
  if (ptr == 0 || config_len <= 0) {
    log(LogLevel.WARN, "no config: no IOCs loaded, every flow passes (give a list with --module-config threat_intel=FILE)");
    inspector.seal();
    return Status.OK;
  }
  let i = 0;
  while (i < config_len && load<u8>(ptr + <usize>i) <= 0x20) i++;
  let ok: bool;
  if (i < config_len && load<u8>(ptr + <usize>i) == 0x7b) {
    const json = parseJson(ptr, config_len);
    heap.free(ptr);
    if (json === null) { log(LogLevel.ERROR, "config is not valid JSON: " + jsonError()); return Status.BAD_ARGUMENT; }
    ok = inspector.configureJson(json);
  } else {
    ok = inspector.configurePlain(ptr, config_len);
    heap.free(ptr);
  }
  return ok ? Status.OK : Status.BAD_ARGUMENT;
}
