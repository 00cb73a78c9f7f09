// tls_inspect: reads TLS (stream bytes) and DTLS (datagram) ClientHello and
// ServerHello messages, computes JA3/JA3S/JA4, matches SNI and fingerprint
// blocklists, and reports `tls` events. README.md lists config and sids.
import {
  Inspector, Packet, Verdict, JsonValue, JsonWriter, FlowMap, Severity, EventKind, IpProto, LogLevel,
  refuse, onlyKnownKeys, intField, boolField, stringList, actionField, actionName, portTable,
  register, collectBeforePackets, alert, event, log, worst,
} from "../sdk";
import { DomainSet } from "../dns_guard/domainset";
import { loadDomainLists } from "../dns_guard/domainlist";
import { Hello, MAX_SNI_KEPT } from "./hello";
import { HandshakeFinder, Found, StreamWalk } from "./records";
import { wireText } from "../dns_guard/wiretext";
import { ja3String, ja3sString, ja3Hash, ja4, versionText } from "./fingerprint";
export * from "../sdk/exports";

export const SID_SNI_BLOCKED = 1003001;
export const SID_JA3_BLOCKED = 1003002;
export const SID_JA4_BLOCKED = 1003003;
export const SID_OLD_VERSION = 1003004;
export const SID_MALFORMED_CLIENT = 1003010;
export const SID_MALFORMED_SERVER = 1003011;

const KNOWN_KEYS = [
  "ports", "sni_blocklist", "sni_blocklist_text", "ja3_blocklist", "ja4_blocklist", "block_action", "block_ttl",
  "min_version", "version_action", "malformed_action", "events",
];

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

// Per-direction progress of a flow.
const PENDING: u8 = 0;
const DONE: u8 = 1;

class TlsFlow {
  client: u8 = PENDING;
  server: u8 = PENDING;
  /**
   * The ClientHello's SNI as sent (at most MAX_SNI_KEPT bytes), null when none
   * or events are off: kept until the flow ends when the ServerHello never
   * comes (host mode sees ingress only), so a longer one would fill memory.
   */
  sni: StaticArray<u8> | null = null;
  sniTruncated: bool = false;
  /** Stream offset past the ClientHello's records (TCP). */
  clientEnd: i32 = 0;
  /** Each direction's record walk while its hello is incomplete over several records (TCP), else null. */
  walkClient: StreamWalk | null = null;
  walkServer: StreamWalk | null = null;
}

class TlsInspect extends Inspector {
  ports: StaticArray<u8> = new StaticArray<u8>(65536);
  anyPort: bool = true;
  sniList: DomainSet = new DomainSet();
  ja3List: Set<string> = new Set<string>();
  ja4List: Set<string> = new Set<string>();
  blockAction: Verdict = Verdict.BLOCK_FLOW;
  blockTtl: i32 = 300;
  /** Lowest acceptable version as its wire number, 0 = no check. */
  minVersion: u16 = 0x0303;
  versionAction: Verdict = Verdict.CONTINUE;
  malformedAction: Verdict = Verdict.CONTINUE;
  events: bool = true;
  flows: FlowMap<TlsFlow> = new FlowMap<TlsFlow>();
  hello: Hello = new Hello();
  finder: HandshakeFinder = new HandshakeFinder();
  sniKey: StaticArray<u8> = new StaticArray<u8>(256);

  onInit(config: JsonValue | null): bool {
    if (config === null) return true;
    if (!config.isObject()) return refuse("the config must be a JSON object");
    if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
    if (config.get("ports") !== null) {
      if (!portTable(config, "ports", this.ports)) return false;
      this.anyPort = false;
    }
    if (!loadDomainLists(this.sniList, config, "sni_blocklist", "sni_blocklist_text")) return false;
    const ja3 = stringList(config, "ja3_blocklist");
    if (ja3 === null) return false;
    for (let i = 0; i < ja3.length; i++) {
      const h = ja3[i].trim().toLowerCase();
      if (!isHex(h, 32)) return refuse("ja3_blocklist[" + i.toString() + "] (\"" + ja3[i] + "\") must be an MD5 of 32 hex digits");
      this.ja3List.add(h);
    }
    const ja4s = stringList(config, "ja4_blocklist");
    if (ja4s === null) return false;
    for (let i = 0; i < ja4s.length; i++) {
      const f = ja4s[i].trim().toLowerCase();
      if (!isJa4(f)) return refuse("ja4_blocklist[" + i.toString() + "] (\"" + ja4s[i] + "\") is not a JA4 such as t13d1516h2_8daaf6152771_e5627efa2ab1");
      this.ja4List.add(f);
    }
    const ba = actionField(config, "block_action", Verdict.BLOCK_FLOW);
    const va = actionField(config, "version_action", Verdict.CONTINUE);
    const ma = actionField(config, "malformed_action", Verdict.CONTINUE);
    if (ba < 0 || va < 0 || ma < 0) return false;
    this.blockAction = <Verdict>ba;
    this.versionAction = <Verdict>va;
    this.malformedAction = <Verdict>ma;
    const ttl = intField(config, "block_ttl", 1, 65535, 300, "seconds");
    const ev = boolField(config, "events", true);
    if (ttl == i64.MIN_VALUE || ev < 0) return false;
    this.blockTtl = <i32>ttl;
    this.events = ev == 1;
    const mv = config.get("min_version");
    if (mv !== null) {
      const v = mv.isString() ? minVersionNumber(mv.str) : -1;
      if (v < 0) return refuse("min_version must be one of \"off\", \"1.0\", \"1.1\", \"1.2\", \"1.3\"");
      this.minVersion = <u16>v;
    }
    if (this.sniList.size > 1000) collectBeforePackets();
    log(LogLevel.INFO, "blocklists: " + this.sniList.size.toString() + " SNI, " + this.ja3List.size.toString() + " JA3, " + this.ja4List.size.toString() + " JA4");
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    const proto = pkt.proto;
    if (proto != IpProto.TCP && proto != IpProto.UDP) return Verdict.ALLOW_FLOW;
    if (!this.anyPort && unchecked(this.ports[pkt.serverPort]) == 0) return Verdict.ALLOW_FLOW;
    const toClient = pkt.direction != 0;
    const want = toClient ? SERVER_HELLO : CLIENT_HELLO;
    let found: Found;
    if (proto == IpProto.TCP) {
      if (pkt.streamNew <= 0) return Verdict.CONTINUE;
      const known = this.flows.get(pkt.flowId);
      found = this.finder.inStream(pkt.streamPtr, pkt.streamLength, want, known === null ? null : toClient ? known.walkServer : known.walkClient);
      if (found == Found.NEED_MORE && pkt.streamGap) return this.giveUp(pkt);
      if (found == Found.NEED_MORE) {
        if (this.finder.walk.off > 0) this.keepWalk(pkt, known, toClient);
        return Verdict.CONTINUE;
      }
      if (known !== null) { if (toClient) known.walkServer = null; else known.walkClient = null; }
    } else {
      if (pkt.payloadLength <= 0) return Verdict.CONTINUE;
      found = this.finder.inDatagram(pkt.payloadPtr, pkt.payloadLength, want);
    }
    if (found == Found.NEED_MORE || found == Found.FRAGMENTED) return Verdict.CONTINUE;
    let st = this.flows.get(pkt.flowId);
    if (found == Found.NOT_TLS || found == Found.OTHER_MESSAGE) {
      // A DTLS flow also carries non-hello datagrams; a TCP stream that does not start with a hello is not ours.
      if (proto == IpProto.UDP && st !== null) return Verdict.CONTINUE;
      return this.giveUp(pkt);
    }
    if (st === null) { st = new TlsFlow(); this.flows.set(pkt.flowId, st); }
    if (toClient ? st.server == DONE : st.client == DONE) {
      // The client sent more records after its hello: it has had the server's
      // flight (or sends 0-RTT data), so the handshake went on even when the
      // ServerHello never reaches us (host mode sees ingress only).
      if (!toClient && proto == IpProto.TCP && st.server != DONE && pkt.streamLength > st.clientEnd) return this.giveUp(pkt);
      return this.progress(st);
    }
    if (found == Found.MALFORMED) {
      this.malformed(pkt, toClient, this.finder.error, this.finder.errorAt);
      if (toClient) st.server = DONE; else st.client = DONE;
      return this.finish(pkt, st, this.malformedAction);
    }
    const h = this.hello;
    if (!h.parse(this.finder.body, this.finder.bodyLen, !toClient, proto == IpProto.UDP)) {
      this.malformed(pkt, toClient, h.error, h.errorAt);
      if (toClient) st.server = DONE; else st.client = DONE;
      return this.finish(pkt, st, this.malformedAction);
    }
    const verdict = toClient ? this.onServerHello(pkt, st, h) : this.onClientHello(pkt, st, h);
    return this.finish(pkt, st, verdict);
  }

  onClientHello(pkt: Packet, st: TlsFlow, h: Hello): Verdict {
    st.client = DONE;
    st.clientEnd = this.finder.end;
    let verdict = Verdict.CONTINUE;
    const sni = h.sni();
    if (this.events && h.sniPresent && h.sniLen > 0) {
      const n = min(h.sniLen, MAX_SNI_KEPT);
      const kept = new StaticArray<u8>(n);
      memory.copy(changetype<usize>(kept), h.base + <usize>h.sniOff, <usize>n);
      st.sni = kept;
      st.sniTruncated = h.sniTruncated;
    }
    const j3s = ja3String(h);
    const j3 = ja3Hash(j3s);
    const j4parts = ja4(h);
    const j4 = j4parts.toString();
    if (h.sniPresent && this.sniList.size > 0) {
      const hit = this.matchSni(h);
      if (hit >= 0) {
        alert(pkt, SID_SNI_BLOCKED, Severity.HIGH, "tls_inspect: blocklisted SNI " + sni,
          sniMember(new JsonWriter().beginObject(), sni, h.sniTruncated).str("listed", this.sniList.entryName(hit)).str("action", actionName(this.blockAction)).endObject().toString());
        verdict = worst(verdict, this.blockAction);
      }
    }
    if (this.ja3List.has(j3)) {
      alert(pkt, SID_JA3_BLOCKED, Severity.HIGH, "tls_inspect: blocklisted JA3 " + j3,
        sniMember(new JsonWriter().beginObject().str("ja3", j3), sni, h.sniTruncated).str("action", actionName(this.blockAction)).endObject().toString());
      verdict = worst(verdict, this.blockAction);
    }
    if (this.ja4List.has(j4)) {
      alert(pkt, SID_JA4_BLOCKED, Severity.HIGH, "tls_inspect: blocklisted JA4 " + j4,
        sniMember(new JsonWriter().beginObject().str("ja4", j4), sni, h.sniTruncated).str("action", actionName(this.blockAction)).endObject().toString());
      verdict = worst(verdict, this.blockAction);
    }
    const best = h.bestVersion;
    if (this.versionTooOld(best, h.dtls)) {
      alert(pkt, SID_OLD_VERSION, Severity.LOW, "tls_inspect: client offers at most " + versionText(best),
        new JsonWriter().beginObject().str("version", versionText(best)).str("side", "client").endObject().toString());
      verdict = worst(verdict, this.versionAction);
    }
    if (this.events) {
      const w = new JsonWriter().beginObject();
      if (h.sniPresent) sniMember(w, sni, h.sniTruncated);
      w.str("version", versionText(best));
      w.key("ja3").beginObject().str("hash", j3).str("string", j3s).endObject();
      w.str("ja4", j4).str("ja4_r", j4parts.raw());
      if (h.alpnCount > 0) {
        w.key("client_alpns").beginArray();
        for (let i = 0; i < h.alpnCount; i++) w.string(h.alpn(i));
        w.endArray();
      }
      w.key("supported_versions").beginArray();
      for (let i = 0; i < h.versions.count; i++) w.string(versionText(h.versions.at(i)));
      w.endArray();
      w.num("cipher_suites", h.ciphers.count + h.ciphers.dropped).num("extensions", h.extensions.count + h.extensions.dropped);
      event(pkt, EventKind.TLS, w.str("handshake", "client_hello").endObject().toString());
    }
    return verdict;
  }

  onServerHello(pkt: Packet, st: TlsFlow, h: Hello): Verdict {
    st.server = DONE;
    let verdict = Verdict.CONTINUE;
    const chosen = h.versions.count > 0 ? h.versions.at(0) : h.version;
    if (this.versionTooOld(chosen, h.dtls)) {
      alert(pkt, SID_OLD_VERSION, Severity.LOW, "tls_inspect: server chose " + versionText(chosen),
        new JsonWriter().beginObject().str("version", versionText(chosen)).str("side", "server").endObject().toString());
      verdict = this.versionAction;
    }
    if (this.events) {
      const j3s = ja3sString(h);
      const w = new JsonWriter().beginObject();
      const kept = st.sni;
      if (kept !== null) sniMember(w, wireText(changetype<usize>(kept), kept.length), st.sniTruncated);
      w.str("version", versionText(chosen));
      w.key("ja3s").beginObject().str("hash", ja3Hash(j3s)).str("string", j3s).endObject();
      if (h.alpnCount > 0) w.key("server_alpns").beginArray().string(h.alpn(0)).endArray();
      w.str("cipher_suite", "0x" + (<u32>h.cipher).toString(16).padStart(4, "0"));
      event(pkt, EventKind.TLS, w.str("handshake", "server_hello").endObject().toString());
    }
    return verdict;
  }

  /** Keeps where the finder stopped on this direction, for the next segment. */
  keepWalk(pkt: Packet, known: TlsFlow | null, toClient: bool): void {
    let st = known;
    if (st === null) { st = new TlsFlow(); this.flows.set(pkt.flowId, st); }
    let w = toClient ? st.walkServer : st.walkClient;
    if (w === null) { w = new StreamWalk(); if (toClient) st.walkServer = w; else st.walkClient = w; }
    const f = this.finder.walk;
    w.off = f.off; w.have = f.have; w.head = f.head;
  }

  matchSni(h: Hello): i32 {
    let n = h.sniLen;
    if (n > 0 && load<u8>(h.base + <usize>(h.sniOff + n - 1)) == 0x2e) n--;
    if (n <= 0 || n > 255) return -1;
    const key = changetype<usize>(this.sniKey);
    for (let i = 0; i < n; i++) {
      const c = load<u8>(h.base + <usize>(h.sniOff + i));
      store<u8>(key + <usize>i, <u8>(c - 65) < 26 ? c | 0x20 : c);
    }
    return this.sniList.match(key, n);
  }

  versionTooOld(v: u16, dtls: bool): bool {
    if (this.minVersion == 0 || v == 0) return false;
    // DTLS 1.0 is TLS 1.1-era and DTLS 1.2 is TLS 1.2-era (RFC 6347); compare on that scale.
    const tlsEquivalent: u16 = dtls ? (v == 0xfeff ? 0x0302 : v == 0xfefd ? 0x0303 : 0x0304) : v;
    return tlsEquivalent < this.minVersion;
  }

  malformed(pkt: Packet, toClient: bool, why: string, at: i32): void {
    const what = toClient ? "ServerHello" : "ClientHello";
    alert(pkt, toClient ? SID_MALFORMED_SERVER : SID_MALFORMED_CLIENT, Severity.LOW, "tls_inspect: malformed " + what + ": " + why,
      new JsonWriter().beginObject().str("reason", why).num("offset", at).endObject().toString());
  }

  /** The verdict for this packet once a hello was handled: block, or done when both sides are read. */
  finish(pkt: Packet, st: TlsFlow, verdict: Verdict): Verdict {
    if (verdict == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    if (verdict != Verdict.CONTINUE) return verdict;
    return this.progress(st);
  }

  progress(st: TlsFlow): Verdict {
    return st.client == DONE && st.server == DONE ? Verdict.ALLOW_FLOW : Verdict.CONTINUE;
  }

  /** Done with the flow (not TLS, or past its handshake): forget it and let it go. */
  giveUp(pkt: Packet): Verdict {
    this.flows.delete(pkt.flowId);
    return Verdict.ALLOW_FLOW;
  }
}

/** `sni`, and `sni_truncated: true` when the name had more than MAX_SNI_KEPT bytes, so a cut name is never taken for the whole one. */
function sniMember(w: JsonWriter, sni: string, truncated: bool): JsonWriter {
  w.str("sni", sni);
  if (truncated) w.flag("sni_truncated", true);
  return w;
}

function isHex(s: string, n: i32): bool {
  if (s.length != n) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

// a_b_c with a of 10 characters and b, c of 12 hex digits
function isJa4(s: string): bool {
  if (s.length != 36 || s.charCodeAt(10) != 0x5f || s.charCodeAt(23) != 0x5f) return false;
  return isHex(s.substring(11, 23), 12) && isHex(s.substring(24), 12);
}

function minVersionNumber(s: string): i32 {
  if (s == "off") return 0;
  if (s == "1.0") return 0x0301;
  if (s == "1.1") return 0x0302;
  if (s == "1.2") return 0x0303;
  if (s == "1.3") return 0x0304;
  return -1;
}

register(new TlsInspect());
