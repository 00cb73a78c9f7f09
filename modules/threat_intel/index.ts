// threat_intel: flags flows to or from listed addresses/CIDRs, and DNS
// queries, TLS SNIs and HTTP Hosts that name listed domains. README.md has
// the list format, the config and the signature ids.
import {
  Inspector, Packet, Verdict, JsonValue, FlowMap, Severity, LogLevel, IpProto,
  refuse, onlyKnownKeys, actionVerdict,
  register, alert, log, parseJson, jsonError, JsonWriter, Status,
} from "../sdk";
import { IpIocSet, DomainIocSet, IocAccept, loadIocText, loadIocString, iocError } from "./ioc";
import { addrText } from "./addr";
import { dnsName, dnsQueryName, tlsServerName, httpHost, looksLikeHttpRequest, foundPtr, foundLen, resume, Found } from "./names";
// The SDK's callbacks, except on_init: see below.
export { secuxflow_abi_version, sf_alloc, on_batch, on_flow_end } from "../sdk/exports";

const SID_SRC_IP = 1008001;
const SID_DST_IP = 1008002;
const SID_DNS = 1008003;
const SID_TLS = 1008004;
const SID_HTTP = 1008005;

const KNOWN_KEYS = ["ips", "domains", "ip_list_text", "domain_list_text", "ioc_text", "action", "block_ttl", "severity", "max_packets"];
/** A flow that showed no name to check within this many packets is let go. */
const DEFAULT_MAX_PACKETS = 16;
/** A ClientHello larger than this without an SNI found is given up on. */
const TLS_LOOK = 16384;

class TiFlow {
  decided: Verdict = Verdict.CONTINUE;
  packets: i32 = 0;
  /** -1 unknown, 0 none of ours, 1 TLS, 2 HTTP, 3 DNS over TCP. */
  app: i32 = -1;
  httpFrom: i32 = 0;
}

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
      const v = pkt.ipVersion;
      if (this.ips.size > 0) {
        const sp = pkt.srcAddrPtr;
        const dp = pkt.dstAddrPtr;
        let len = this.ips.match(sp, v);
        if (len >= 0) return this.hit(pkt, st, SID_SRC_IP, "Source address listed as IOC", this.ipMeta(sp, v, len, "src"), true);
        len = this.ips.match(dp, v);
        if (len >= 0) return this.hit(pkt, st, SID_DST_IP, "Destination address listed as IOC", this.ipMeta(dp, v, len, "dst"), false);
      }
    }
    if (st.decided != Verdict.CONTINUE) {
      if (st.decided == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
      return st.decided;
    }
    st.packets++;
    if (this.domains.size == 0) return this.done(st);
    const proto = pkt.proto;
    if (proto == IpProto.UDP) {
      if (pkt.dstPort == 53 || pkt.dstPort == 5353) {
        const n = dnsQueryName(pkt.payloadPtr, pkt.payloadLength);
        if (n > 0) {
          const at = this.domains.match(dnsName, n);
          if (at >= 0) return this.hit(pkt, st, SID_DNS, "DNS query for a domain listed as IOC", this.nameMeta("dns", at, n), false);
        }
        // a resolver socket may send more queries on the same flow
        return st.packets >= this.maxPackets ? this.done(st) : Verdict.CONTINUE;
      }
      return this.done(st);
    }
    if (proto != IpProto.TCP) return this.done(st);
    if (pkt.direction != 0 || pkt.streamPtr == 0) return st.packets >= this.maxPackets ? this.done(st) : Verdict.CONTINUE;
    const s = pkt.streamPtr;
    const len = pkt.streamLength;
    if (st.app < 0) {
      if (load<u8>(s) == 0x16) st.app = 1;
      else if (looksLikeHttpRequest(s, len)) st.app = 2;
      else if (pkt.serverPort == 53) st.app = 3;
      else if (len >= 16) st.app = 0;
      else return st.packets >= this.maxPackets || pkt.streamGap ? this.done(st) : Verdict.CONTINUE;
    }
    let r = Found.NO;
    let sid = 0;
    let kind = "";
    if (st.app == 1) {
      r = tlsServerName(s, len < TLS_LOOK ? len : TLS_LOOK);
      if (r == Found.NEED_MORE && len >= TLS_LOOK) r = Found.NO;
      sid = SID_TLS;
      kind = "tls";
    } else if (st.app == 2) {
      r = httpHost(s, st.httpFrom, len);
      st.httpFrom = resume;
      sid = SID_HTTP;
      kind = "http";
    } else if (st.app == 3) {
      if (len < 2) r = Found.NEED_MORE;
      else {
        const mlen = (<i32>load<u8>(s) << 8) | <i32>load<u8>(s + 1);
        if (len - 2 < mlen) r = Found.NEED_MORE;
        else {
          const n = dnsQueryName(s + 2, mlen);
          if (n > 0) {
            const at = this.domains.match(dnsName, n);
            if (at >= 0) return this.hit(pkt, st, SID_DNS, "DNS query for a domain listed as IOC", this.nameMeta("dns", at, n), false);
          }
        }
      }
    }
    if (r == Found.YES) {
      const at = this.domains.match(foundPtr, foundLen);
      if (at >= 0) {
        const msg = sid == SID_TLS ? "TLS SNI names a domain listed as IOC" : "HTTP Host names a domain listed as IOC";
        return this.hit(pkt, st, sid, msg, this.nameMeta(kind, at, foundLen), false);
      }
      return this.done(st);
    }
    if (r == Found.NO || pkt.streamGap || st.packets >= this.maxPackets) return this.done(st);
    return Verdict.CONTINUE;
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

  ipMeta(ptr: usize, version: i32, prefix: i32, side: string): string {
    return new JsonWriter().beginObject()
      .str("ioc_type", "ip").str("side", side).str("address", addrText(ptr, version))
      .num("prefix_len", prefix).str("action", this.actionName).endObject().toString();
  }

  nameMeta(kind: string, at: i32, n: i32): string {
    return new JsonWriter().beginObject()
      .str("ioc_type", "domain").str("seen_in", kind).str("name", this.domains.lastName(0, n))
      .str("listed", this.domains.lastName(at, n)).str("action", this.actionName).endObject().toString();
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
