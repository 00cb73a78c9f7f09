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
/** Its first hello not read yet. */
const PENDING: u8 = 0;
/**
 * A hello read, and another may follow: a client sends a second ClientHello
 * after a HelloRetryRequest (which host mode never sees), a server its
 * ServerHello after its HelloRetryRequest.
 */
const READ: u8 = 1;
/** Nothing more to read in this direction. */
const DONE: u8 = 2;

/** ClientHellos read on a TCP stream: TLS allows one HelloRetryRequest, so a client sends at most two. */
const MAX_CLIENT_HELLOS: u8 = 2;
/**
 * Datagrams of a UDP flow that are not a DTLS hello, waited through before
 * its first hello: a DTLS server drops invalid records silently (RFC 6347
 * 4.1.2.7), so junk sent first must not let the hello behind it go.
 */
const MAX_IGNORED_DATAGRAMS: u8 = 8;

class TlsFlow {
  client: u8 = PENDING;
  server: u8 = PENDING;
  clientHellos: u8 = 0;
  /** Datagrams ignored before the flow's first hello (UDP). */
  ignored: u8 = 0;
  /**
   * The last ClientHello's SNI as sent (at most MAX_SNI_KEPT bytes), null when none
   * or events are off: kept until the flow ends when the ServerHello never
   * comes (host mode sees ingress only), so a longer one would fill memory.
   */
  sni: StaticArray<u8> | null = null;
  sniTruncated: bool = false;
  /** Stream offsets past the last hello's records of each direction (TCP). */
  clientEnd: i32 = 0;
  serverEnd: i32 = 0;
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
  /** Set when a hello was read and the segment holds more stream bytes past it. */
  readAgain: bool = false;

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
    return proto == IpProto.TCP ? this.onSegment(pkt) : this.onDatagram(pkt);
  }

  /** Reads every hello the segment completes: a client may send its second right behind its first. */
  onSegment(pkt: Packet): Verdict {
    if (pkt.streamNew <= 0) return Verdict.CONTINUE;
    let verdict = Verdict.CONTINUE;
    // Each round reads a hello and moves its direction on, so a few rounds cover every hello a stream may hold.
    for (let round = 0; round <= <i32>MAX_CLIENT_HELLOS; round++) {
      this.readAgain = false;
      verdict = this.nextInStream(pkt, this.flows.get(pkt.flowId), pkt.direction != 0);
      if (!this.readAgain) break;
    }
    return verdict;
  }

  nextInStream(pkt: Packet, known: TlsFlow | null, toClient: bool): Verdict {
    if (known !== null && this.progress(known) == Verdict.ALLOW_FLOW) return Verdict.ALLOW_FLOW;
    const state = known === null ? PENDING : toClient ? known.server : known.client;
    if (state == DONE) return this.afterHandshake(pkt, known!, toClient);
    const ptr = pkt.streamPtr;
    const len = pkt.streamLength;
    let start = 0;
    if (state == READ) {
      const st = known!;
      start = skipChangeCipherSpec(ptr, len, toClient ? st.serverEnd : st.clientEnd);
      if (toClient) st.serverEnd = start; else st.clientEnd = start;
      // A change_cipher_spec record not complete yet: what follows it is still to come.
      if (start < len && load<u8>(ptr + <usize>start) == 20) return Verdict.CONTINUE;
    }
    const walk: StreamWalk | null = known === null ? null : toClient ? known.walkServer : known.walkClient;
    const found = this.finder.inStream(ptr, len, toClient ? SERVER_HELLO : CLIENT_HELLO, walk, start);
    if (found == Found.NEED_MORE) {
      if (pkt.streamGap) return this.giveUp(pkt);
      if (this.finder.walk.off > this.finder.walk.start) this.keepWalk(pkt, known, toClient);
      return Verdict.CONTINUE;
    }
    if (known !== null) { if (toClient) known.walkServer = null; else known.walkClient = null; }
    if (state == READ) return this.laterHello(pkt, known!, toClient, found);
    // A stream that does not start with the hello is not ours.
    if (found == Found.NOT_TLS || found == Found.OTHER_MESSAGE) return this.giveUp(pkt);
    const st = this.flowOf(pkt, known);
    if (found == Found.MALFORMED) return this.malformedHello(pkt, st, toClient, this.finder.error, this.finder.errorAt);
    const h = this.hello;
    if (!h.parse(this.finder.body, this.finder.bodyLen, !toClient, false)) return this.malformedHello(pkt, st, toClient, h.error, h.errorAt);
    return this.readHello(pkt, st, toClient, h);
  }

  /**
   * The records after a direction's first hello: the client's second
   * ClientHello, or the server's ServerHello after its HelloRetryRequest.
   * When no HelloRetryRequest was seen, a client's later records are most
   * often its second flight (a TLS 1.2 Finished is random bytes): only a
   * whole, valid ClientHello counts, anything else ends the inspection as
   * the second flight always did, with no alert.
   */
  laterHello(pkt: Packet, st: TlsFlow, toClient: bool, found: Found): Verdict {
    const expected = toClient || st.server == READ;
    if (found == Found.OK) {
      const h = this.hello;
      const ok = h.parse(this.finder.body, this.finder.bodyLen, !toClient, false);
      if (ok && (expected || h.trailing == 0)) return this.readHello(pkt, st, toClient, h);
      if (expected) return this.malformedHello(pkt, st, toClient, ok ? "bytes after the extensions" : h.error, ok ? this.finder.bodyLen - h.trailing : h.errorAt);
    } else if (found == Found.MALFORMED && expected) {
      return this.malformedHello(pkt, st, toClient, this.finder.error, this.finder.errorAt);
    }
    // Not a hello: the handshake went on (second flight, 0-RTT data, an alert).
    return this.giveUp(pkt);
  }

  /** More bytes in a direction whose hellos are all read. */
  afterHandshake(pkt: Packet, st: TlsFlow, toClient: bool): Verdict {
    // The client sent more records after its hellos: it has had the server's
    // flight (or sends 0-RTT data), so the handshake went on even when the
    // ServerHello never reaches us (host mode sees ingress only).
    if (!toClient && st.server != DONE && pkt.streamLength > st.clientEnd) return this.giveUp(pkt);
    return this.progress(st);
  }

  onDatagram(pkt: Packet): Verdict {
    if (pkt.payloadLength <= 0) return Verdict.CONTINUE;
    const toClient = pkt.direction != 0;
    const found = this.finder.inDatagram(pkt.payloadPtr, pkt.payloadLength, toClient ? SERVER_HELLO : CLIENT_HELLO);
    if (found == Found.NEED_MORE || found == Found.FRAGMENTED) return Verdict.CONTINUE;
    const known = this.flows.get(pkt.flowId);
    const state = known === null ? PENDING : toClient ? known.server : known.client;
    if (state == DONE) return this.progress(known!);
    // Every ClientHello datagram is read, not only the first: the one that
    // answers a HelloVerifyRequest (or a retry) is the one the server uses.
    // Each costs what a new flow's would, and keeps nothing more.
    if (found == Found.OK) {
      const h = this.hello;
      if (h.parse(this.finder.body, this.finder.bodyLen, !toClient, true)) return this.readHello(pkt, this.flowOf(pkt, known), toClient, h);
      if (state == PENDING) return this.ignoreDatagram(pkt, known, this.malformed(pkt, toClient, h.error, h.errorAt));
    } else if (found == Found.MALFORMED && state == PENDING) {
      return this.ignoreDatagram(pkt, known, this.malformed(pkt, toClient, this.finder.error, this.finder.errorAt));
    }
    // A DTLS flow also carries datagrams that are not hellos.
    if (known !== null && (known.client != PENDING || known.server != PENDING)) return Verdict.CONTINUE;
    return this.ignoreDatagram(pkt, known, Verdict.CONTINUE);
  }

  /** A datagram before the flow's first hello that a DTLS endpoint would drop: wait for the next, a few times. */
  ignoreDatagram(pkt: Packet, known: TlsFlow | null, verdict: Verdict): Verdict {
    const st = this.flowOf(pkt, known);
    if (st.client == PENDING && st.server == PENDING && ++st.ignored > MAX_IGNORED_DATAGRAMS) return this.giveUp(pkt);
    return this.finish(pkt, st, verdict);
  }

  /** Checks and reports a hello, and moves its direction on. */
  readHello(pkt: Packet, st: TlsFlow, toClient: bool, h: Hello): Verdict {
    const end = this.finder.end;
    const verdict = toClient ? this.onServerHello(pkt, st, h) : this.onClientHello(pkt, st, h);
    if (toClient) {
      st.server = h.retryRequest && st.server == PENDING ? READ : DONE;
      st.serverEnd = end;
    } else {
      st.clientHellos++;
      st.client = h.dtls || st.clientHellos < MAX_CLIENT_HELLOS ? READ : DONE;
      st.clientEnd = end;
    }
    const state = toClient ? st.server : st.client;
    if (verdict == Verdict.CONTINUE && state == READ && !h.dtls && pkt.streamLength > end) this.readAgain = true;
    return this.finish(pkt, st, verdict);
  }

  /** A hello that lies: reported, and its direction done. */
  malformedHello(pkt: Packet, st: TlsFlow, toClient: bool, why: string, at: i32): Verdict {
    const verdict = this.malformed(pkt, toClient, why, at);
    if (toClient) st.server = DONE; else st.client = DONE;
    return this.finish(pkt, st, verdict);
  }

  flowOf(pkt: Packet, known: TlsFlow | null): TlsFlow {
    if (known !== null) return known;
    const st = new TlsFlow();
    this.flows.set(pkt.flowId, st);
    return st;
  }

  onClientHello(pkt: Packet, st: TlsFlow, h: Hello): Verdict {
    let verdict = Verdict.CONTINUE;
    const sni = h.sni();
    if (this.events && h.sniPresent && h.sniLen > 0) {
      const n = min(h.sniLen, MAX_SNI_KEPT);
      const kept = new StaticArray<u8>(n);
      memory.copy(changetype<usize>(kept), h.base + <usize>h.sniOff, <usize>n);
      st.sni = kept;
      st.sniTruncated = h.sniTruncated;
    } else {
      st.sni = null;
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

  /** A ServerHello, or a HelloRetryRequest (a ServerHello by its form, reported as what it is). */
  onServerHello(pkt: Packet, st: TlsFlow, h: Hello): Verdict {
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
      event(pkt, EventKind.TLS, w.str("handshake", h.retryRequest ? "hello_retry_request" : "server_hello").endObject().toString());
    }
    return verdict;
  }

  /** Keeps where the finder stopped on this direction, for the next segment. */
  keepWalk(pkt: Packet, known: TlsFlow | null, toClient: bool): void {
    const st = this.flowOf(pkt, known);
    let w = toClient ? st.walkServer : st.walkClient;
    if (w === null) { w = new StreamWalk(); if (toClient) st.walkServer = w; else st.walkClient = w; }
    w.copy(this.finder.walk);
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

  /** Reports a hello that lies; returns the verdict malformed_action asks for. */
  malformed(pkt: Packet, toClient: bool, why: string, at: i32): Verdict {
    const what = toClient ? "ServerHello" : "ClientHello";
    alert(pkt, toClient ? SID_MALFORMED_SERVER : SID_MALFORMED_CLIENT, Severity.LOW, "tls_inspect: malformed " + what + ": " + why,
      new JsonWriter().beginObject().str("reason", why).num("offset", at).endObject().toString());
    return this.malformedAction;
  }

  /** The verdict for this packet once a hello was handled: block, or done when both sides are read. */
  finish(pkt: Packet, st: TlsFlow, verdict: Verdict): Verdict {
    if (verdict == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    if (verdict != Verdict.CONTINUE) return verdict;
    return this.progress(st);
  }

  /** Done once the server's real ServerHello is read: no ClientHello can follow it. */
  progress(st: TlsFlow): Verdict {
    return st.client != PENDING && st.server == DONE ? Verdict.ALLOW_FLOW : Verdict.CONTINUE;
  }

  /**
   * Done with the flow (not TLS, or past its handshake): let it go. A flow
   * whose hellos were read stays known as done rather than forgotten: the
   * host still hands over its packets later in the same batch, which would
   * otherwise read (and report) its hellos again from the stream's start.
   */
  giveUp(pkt: Packet): Verdict {
    const st = this.flows.get(pkt.flowId);
    if (st === null || (st.client == PENDING && st.server == PENDING)) {
      this.flows.delete(pkt.flowId);
      return Verdict.ALLOW_FLOW;
    }
    st.client = DONE;
    st.server = DONE;
    st.sni = null;
    st.walkClient = null;
    st.walkServer = null;
    return Verdict.ALLOW_FLOW;
  }
}

/** The stream offset of the first record at or after `off` that is not a whole change_cipher_spec record. */
function skipChangeCipherSpec(ptr: usize, len: i32, off: i32): i32 {
  while (off + 5 <= len && load<u8>(ptr + <usize>off) == 20) {
    const next = off + 5 + <i32>bswap<u16>(load<u16>(ptr + <usize>off, 3));
    if (next > len) break;
    off = next;
  }
  return off;
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
