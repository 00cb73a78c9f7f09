// ssh_guard: reads the SSH identification banners of both sides, reports
// them as an `ssh` event in Suricata's shape, flags odd banners, and blocks
// sources that open SSH connections faster than the configured rate (brute
// force), with BLOCK_SRC and a ttl, over a short and a long window; it can
// also count sessions that end in authentication (failed logins), told apart
// by the size of the server's encrypted replies. README.md lists config and sids.
import {
  Inspector, Packet, Verdict, JsonValue, JsonWriter, FlowMap, Severity, EventKind, IpProto, LogLevel,
  refuse, onlyKnownKeys, intField, boolField, stringList, actionField, actionName, portTable,
  register, alert, event, log, worst,
} from "../sdk";
import { SlidingWindowCounter } from "../sdk/lib/window";
import { sourceKey } from "../sdk/lib/hash";
import { U64Map } from "../sdk/lib/u64map";
import { Banner, Scan } from "./banner";
import { CompactWindow } from "./compact_window";
import { AuthWatch, Outcome } from "./auth_outcome";
import { wireText } from "../dns_guard/wiretext";
export * from "../sdk/exports";

export const SID_BRUTE_FORCE = 1004001;
export const SID_ODD_CLIENT_BANNER = 1004002;
export const SID_ODD_SERVER_BANNER = 1004003;
export const SID_PROTOCOL_1 = 1004004;
export const SID_NOT_SSH = 1004005;
export const SID_BLOCKED_SOFTWARE = 1004006;
export const SID_SLOW_BRUTE_FORCE = 1004007;
export const SID_FAILED_LOGINS = 1004008;

const KNOWN_KEYS = [
  "ports", "max_connections", "window_s", "sources", "brute_force_action", "block_ttl",
  "software_blocklist", "software_action", "odd_banner_action", "events",
  "long_max_connections", "long_window_s", "long_window_action",
  "max_failed_logins", "failed_login_window_s", "failed_login_action",
];

const TCP_FIN: u8 = 0x01;
const TCP_RST: u8 = 0x04;

const PENDING: u8 = 0;
const DONE: u8 = 1;

/**
 * One side's banner as sent (at most 255 bytes), its texts made when an
 * event or alert needs them. It used to be kept as three strings, escaped
 * when unprintable (four characters a byte, two bytes a character): 65,536
 * flows whose server never answers filled the module's memory.
 */
class Side {
  line: StaticArray<u8> | null = null;
  protoEnd: i32 = 0;
  softwareEnd: i32 = 0;
  state: u8 = PENDING;
  /** Banner.scan's resume point while the banner is still incomplete. */
  resumeLine: i32 = 0;
  resumeScan: i32 = 0;
  resumeLines: i32 = 0;
  /** Stream offset right after the identification line: where the binary packets start. */
  end: i32 = 0;

  keep(b: Banner): void {
    const line = new StaticArray<u8>(b.length);
    memory.copy(changetype<usize>(line), b.base + <usize>b.start, <usize>b.length);
    this.line = line;
    this.protoEnd = b.protoEnd;
    this.softwareEnd = b.softwareEnd;
    this.end = b.start + b.length + (b.crlf ? 2 : 1);
  }

  text(from: i32, to: i32): string {
    const line = this.line;
    return line === null || to <= from ? "" : wireText(changetype<usize>(line) + <usize>from, to - from);
  }
  get length(): i32 { const line = this.line; return line === null ? 0 : line.length; }
  get proto(): string { return this.text(4, this.protoEnd); }
  get software(): string { return this.protoEnd < this.length ? this.text(this.protoEnd + 1, this.softwareEnd) : ""; }
  get comments(): string { return this.softwareEnd < this.length ? this.text(this.softwareEnd + 1, this.length) : ""; }
}

class SshFlow {
  client: Side = new Side();
  server: Side = new Side();
  reported: bool = false;
  /** Only when failed logins are counted. */
  auth: AuthWatch | null = null;
}

class SshGuard extends Inspector {
  ports: StaticArray<u8> = new StaticArray<u8>(65536);
  maxConnections: i64 = 10;
  blockTtl: i32 = 600;
  bruteAction: Verdict = Verdict.BLOCK_SRC;
  softwareList: Array<string> = [];
  softwareAction: Verdict = Verdict.BLOCK_FLOW;
  oddAction: Verdict = Verdict.CONTINUE;
  events: bool = true;
  window: SlidingWindowCounter | null = null;
  longMax: i32 = 120;
  longAction: Verdict = Verdict.BLOCK_SRC;
  longWindow: CompactWindow | null = null;
  failedMax: i32 = 0;
  failedAction: Verdict = Verdict.BLOCK_SRC;
  failedWindow: CompactWindow | null = null;
  /**
   * Sources this module blocked, with the second their block ends. The host
   * enforces BLOCK_SRC itself, but only from the next batch on: packets of the
   * same source already in this batch are answered from here.
   */
  blocked: U64Map = new U64Map(64);
  maxBlocked: i32 = 4096;
  flows: FlowMap<SshFlow> = new FlowMap<SshFlow>();
  banner: Banner = new Banner();

  onInit(config: JsonValue | null): bool {
    this.ports[22] = 1;
    let windowS: i64 = 60;
    let sources: i64 = 4096;
    let longWindowS: i64 = 3600;
    let failedWindowS: i64 = 1800;
    if (config !== null) {
      if (!config.isObject()) return refuse("the config must be a JSON object");
      if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
      if (!portTable(config, "ports", this.ports)) return false;
      const mc = intField(config, "max_connections", 0, 1000000, 10, "new connections per source per window, 0 = off");
      windowS = intField(config, "window_s", 1, 86400, 60, "seconds");
      sources = intField(config, "sources", 16, 262144, 4096, "sources tracked");
      const ttl = intField(config, "block_ttl", 1, 65535, 600, "seconds");
      const ev = boolField(config, "events", true);
      const ba = actionField(config, "brute_force_action", Verdict.BLOCK_SRC);
      const sa = actionField(config, "software_action", Verdict.BLOCK_FLOW);
      const oa = actionField(config, "odd_banner_action", Verdict.CONTINUE);
      if (mc == i64.MIN_VALUE || windowS == i64.MIN_VALUE || sources == i64.MIN_VALUE || ttl == i64.MIN_VALUE || ev < 0 || ba < 0 || sa < 0 || oa < 0) return false;
      const sw = stringList(config, "software_blocklist");
      if (sw === null) return false;
      for (let i = 0; i < sw.length; i++) {
        if (sw[i].length == 0) return refuse("software_blocklist[" + i.toString() + "] must not be empty");
        this.softwareList.push(sw[i].toLowerCase());
      }
      this.maxConnections = mc;
      this.blockTtl = <i32>ttl;
      this.events = ev == 1;
      this.bruteAction = <Verdict>ba;
      this.softwareAction = <Verdict>sa;
      this.oddAction = <Verdict>oa;
      longWindowS = intField(config, "long_window_s", 60, 604800, 3600, "seconds");
      const lm = intField(config, "long_max_connections", 0, 100000000, longDefault(mc, windowS, longWindowS), "new connections per source per long window, 0 = off");
      const la = actionField(config, "long_window_action", this.bruteAction);
      const fm = intField(config, "max_failed_logins", 0, 1000000, 0, "failed logins per source per window, 0 = off");
      failedWindowS = intField(config, "failed_login_window_s", 60, 604800, 1800, "seconds");
      const fa = actionField(config, "failed_login_action", Verdict.BLOCK_SRC);
      if (lm == i64.MIN_VALUE || longWindowS == i64.MIN_VALUE || fm == i64.MIN_VALUE || failedWindowS == i64.MIN_VALUE || la < 0 || fa < 0) return false;
      this.longMax = <i32>lm;
      this.longAction = <Verdict>la;
      this.failedMax = <i32>fm;
      this.failedAction = <Verdict>fa;
    }
    if (this.maxConnections > 0) this.window = new SlidingWindowCounter(windowS * 1_000_000_000, 12, <i32>sources);
    if (this.longMax > 0) this.longWindow = new CompactWindow(longWindowS * 1_000_000_000, <i32>sources);
    if (this.failedMax > 0) this.failedWindow = new CompactWindow(failedWindowS * 1_000_000_000, <i32>sources);
    this.maxBlocked = <i32>sources;
    log(LogLevel.INFO, "brute force: " + (this.maxConnections > 0 ? this.maxConnections.toString() + " connections per " + windowS.toString() + " s" : "off")
      + "; slow: " + (this.longMax > 0 ? this.longMax.toString() + " per " + longWindowS.toString() + " s" : "off")
      + "; failed logins: " + (this.failedMax > 0 ? this.failedMax.toString() + " per " + failedWindowS.toString() + " s" : "off"));
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.proto != IpProto.TCP || unchecked(this.ports[pkt.serverPort]) == 0) return Verdict.ALLOW_FLOW;
    let verdict = Verdict.CONTINUE;
    if (pkt.direction == 0 && this.blocked.size > 0) {
      const left = this.blockedFor(pkt);
      if (left > 0) { pkt.setBlockTtl(left); return Verdict.BLOCK_SRC; }
    }
    if (pkt.flowStart && pkt.direction == 0) verdict = this.newConnection(pkt);
    if (verdict != Verdict.CONTINUE && verdict != Verdict.PASS) return this.decided(pkt, verdict);
    let st = this.flows.get(pkt.flowId);
    if (st !== null && st.auth !== null && (pkt.tcpFlags & (TCP_FIN | TCP_RST)) != 0 && this.progress(st) == Verdict.ALLOW_FLOW) {
      if (pkt.streamNew > 0) this.afterBanners(pkt, st, pkt.direction != 0);
      return this.closing(st.auth!, pkt.timeNs);
    }
    if (pkt.streamNew <= 0) return verdict;
    if (st === null) { st = this.newFlow(pkt); this.flows.set(pkt.flowId, st); }
    const server = pkt.direction != 0;
    const side = server ? st.server : st.client;
    if (side.state == DONE) {
      // The client sends its key exchange only after it read the server's
      // banner. If that banner never reached us, only one direction is
      // inspected (the daemon's host mode sees ingress only): every check
      // that can block was made on the client's banner, so report what was
      // seen and let the flow go.
      if (!server && st.server.state == PENDING) {
        st.server.state = DONE;
        if (!st.reported) this.report(pkt, st);
      }
      return this.afterBanners(pkt, st, server);
    }
    const b = this.banner;
    const found = b.scan(pkt.streamPtr, pkt.streamLength, server, side.resumeLine, side.resumeScan, side.resumeLines);
    if (found == Scan.NEED_MORE) {
      side.resumeLine = b.resumeLine;
      side.resumeScan = b.resumeScan;
      side.resumeLines = b.resumeLines;
      if (!pkt.streamGap) return verdict;
      side.state = DONE;
      return this.progress(st);
    }
    side.state = DONE;
    if (found == Scan.NOT_SSH) {
      alert(pkt, SID_NOT_SSH, Severity.MEDIUM, "ssh_guard: no SSH identification from the " + (server ? "server" : "client") + " on an SSH port",
        new JsonWriter().beginObject().str("side", server ? "server" : "client").num("port", pkt.serverPort).endObject().toString());
      return this.decided(pkt, worst(verdict, this.oddAction), true);
    }
    if (found == Scan.TOO_LONG) {
      this.odd(pkt, server, "no line end within 255 bytes", "");
      return this.decided(pkt, worst(verdict, this.oddAction), true);
    }
    side.keep(b);
    const proto = b.protoVersion;
    const why = b.oddity();
    if (why.length > 0) { this.odd(pkt, server, why, b.line); verdict = worst(verdict, this.oddAction); }
    if (why.length == 0 && proto != "2.0" && proto != "1.99") {
      alert(pkt, SID_PROTOCOL_1, Severity.MEDIUM, "ssh_guard: SSH protocol version " + proto + " from the " + (server ? "server" : "client"),
        new JsonWriter().beginObject().str("side", server ? "server" : "client").str("proto_version", proto).endObject().toString());
      verdict = worst(verdict, this.oddAction);
    }
    if (!server && this.softwareList.length > 0) verdict = worst(verdict, this.checkSoftware(pkt, side));
    if (st.client.state == DONE && st.server.state == DONE && !st.reported) this.report(pkt, st);
    if (verdict != Verdict.CONTINUE) return this.decided(pkt, verdict);
    const auth = st.auth;
    if (auth !== null) auth.begin(server, side.end);
    return this.afterBanners(pkt, st, server);
  }

  onFlowEnd(flowId: u64): void {
    const st = this.flows.get(flowId);
    if (st === null || st.auth === null) return;
    const auth = st.auth!;
    if (auth.outcome == Outcome.WATCHING) this.closing(auth, auth.lastNs);
  }

  newFlow(pkt: Packet): SshFlow {
    const st = new SshFlow();
    if (this.failedWindow !== null) {
      const client = pkt.direction == 0 ? pkt.srcAddrPtr : pkt.dstAddrPtr;
      st.auth = new AuthWatch(pkt.timeNs, client == 0 ? 0 : sourceKey(client, pkt.ipVersion));
    }
    return st;
  }

  /**
   * Once both banners are read the rest is encrypted: without failed-login
   * counting the flow is done. With it, the flow is followed until the server
   * shows the login succeeded, or the connection closes without that.
   */
  afterBanners(pkt: Packet, st: SshFlow, server: bool): Verdict {
    const done = this.progress(st);
    const auth = st.auth;
    if (done != Verdict.ALLOW_FLOW || auth === null || st.client.line === null || st.server.line === null) return done;
    const outcome = auth.observe(server, pkt.streamPtr, pkt.streamLength, pkt.streamNew, pkt.timeNs);
    return outcome == Outcome.WATCHING ? Verdict.CONTINUE : Verdict.ALLOW_FLOW;
  }

  /**
   * A session that closes in authentication counts against its client. The
   * alert and verdict come on that client's next connection (newConnection):
   * the closing packet may be the server's, whose source must not be blocked.
   */
  closing(auth: AuthWatch, nowNs: i64): Verdict {
    if (auth.close() == Outcome.FAILED && auth.source != 0) this.failedWindow!.add(auth.source, nowNs);
    return Verdict.ALLOW_FLOW;
  }

  /** Seconds left of this module's block on the packet's source, 0 when none. */
  blockedFor(pkt: Packet): i32 {
    const key = sourceKey(pkt.srcAddrPtr, pkt.ipVersion);
    const until = this.blocked.get(key, 0);
    if (until == 0) return 0;
    const left = until - <i32>pkt.tsSec;
    if (left > 0) return left;
    this.blocked.delete(key);
    return 0;
  }

  remember(pkt: Packet): void {
    // Bounded like the rate table: forgetting early only leaves the host's own block.
    if (this.blocked.size >= this.maxBlocked) this.blocked.clear();
    this.blocked.set(sourceKey(pkt.srcAddrPtr, pkt.ipVersion), <i32>pkt.tsSec + this.blockTtl);
  }

  /**
   * Counts a new connection in the short and the long window and checks the
   * source's failed logins. One alert a connection: the long window and the
   * failed logins speak only when the short window did not.
   */
  newConnection(pkt: Packet): Verdict {
    const key = sourceKey(pkt.srcAddrPtr, pkt.ipVersion);
    const now = pkt.timeNs;
    if (this.window !== null) {
      const v = this.countConnection(pkt, key);
      if (v != Verdict.PASS) { if (this.longWindow !== null) this.longWindow!.add(key, now); return v; }
    }
    if (this.longWindow !== null) {
      const n = this.longWindow!.add(key, now);
      if (n > this.longMax) return this.tripped(pkt, SID_SLOW_BRUTE_FORCE, "SSH connections", "connections", n, this.longWindow!.windowS, this.longAction);
    }
    if (this.failedWindow !== null) {
      const n = this.failedWindow!.count(key, now);
      if (n > this.failedMax) return this.tripped(pkt, SID_FAILED_LOGINS, "SSH sessions that ended in authentication", "failed_logins", n, this.failedWindow!.windowS, this.failedAction);
    }
    return Verdict.CONTINUE;
  }

  tripped(pkt: Packet, sid: i32, what: string, field: string, n: i32, windowS: i64, action: Verdict): Verdict {
    alert(pkt, sid, Severity.HIGH, "ssh_guard: " + n.toString() + " " + what + " from one source within " + windowS.toString() + " s",
      new JsonWriter().beginObject().num(field, n).num("window_s", windowS)
        .str("action", actionName(action)).num("block_ttl", this.blockTtl).endObject().toString());
    if (action == Verdict.BLOCK_SRC) this.remember(pkt);
    return action;
  }

  /** PASS when under the limit, so the caller can tell it from an alert-only trip (CONTINUE). */
  countConnection(pkt: Packet, key: u64): Verdict {
    const n = this.window!.add(key, pkt.timeNs);
    if (n <= this.maxConnections) return Verdict.PASS;
    alert(pkt, SID_BRUTE_FORCE, Severity.HIGH, "ssh_guard: " + n.toString() + " SSH connections from one source within " + (this.window!.windowNs / 1_000_000_000).toString() + " s",
      new JsonWriter().beginObject().num("connections", n).num("window_s", this.window!.windowNs / 1_000_000_000)
        .str("action", actionName(this.bruteAction)).num("block_ttl", this.blockTtl).endObject().toString());
    if (this.bruteAction == Verdict.BLOCK_SRC) this.remember(pkt);
    return this.bruteAction;
  }

  checkSoftware(pkt: Packet, side: Side): Verdict {
    const software = side.software;
    const sw = software.toLowerCase();
    for (let i = 0; i < this.softwareList.length; i++) {
      if (!sw.includes(this.softwareList[i])) continue;
      alert(pkt, SID_BLOCKED_SOFTWARE, Severity.MEDIUM, "ssh_guard: blocklisted client software " + software,
        new JsonWriter().beginObject().str("software_version", software).str("listed", this.softwareList[i]).str("action", actionName(this.softwareAction)).endObject().toString());
      return this.softwareAction;
    }
    return Verdict.CONTINUE;
  }

  odd(pkt: Packet, server: bool, why: string, line: string): void {
    const w = new JsonWriter().beginObject().str("side", server ? "server" : "client").str("reason", why);
    if (line.length > 0) w.str("banner", line.length > 300 ? line.substring(0, 300) : line);
    alert(pkt, server ? SID_ODD_SERVER_BANNER : SID_ODD_CLIENT_BANNER, Severity.LOW,
      "ssh_guard: odd " + (server ? "server" : "client") + " banner: " + why, w.endObject().toString());
  }

  report(pkt: Packet, st: SshFlow): void {
    st.reported = true;
    if (!this.events) return;
    const w = new JsonWriter().beginObject();
    side(w, "client", st.client);
    side(w, "server", st.server);
    event(pkt, EventKind.SSH, w.endObject().toString());
  }

  /** Once both banners are read there is nothing left to see: the rest is encrypted. */
  progress(st: SshFlow): Verdict {
    return st.client.state == DONE && st.server.state == DONE ? Verdict.ALLOW_FLOW : Verdict.CONTINUE;
  }

  decided(pkt: Packet, v: Verdict, finished: bool = false): Verdict {
    if (v == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    if (v == Verdict.CONTINUE && finished) return Verdict.ALLOW_FLOW;
    return v;
  }
}

/**
 * A fifth of the short window's rate kept up for the whole long window (120
 * an hour with the defaults), so a network that raised max_connections (many
 * users behind one address) raises this too, and max_connections 0 (brute
 * force detection off) keeps it off.
 */
function longDefault(maxConnections: i64, windowS: i64, longWindowS: i64): i64 {
  if (maxConnections <= 0 || windowS <= 0 || longWindowS <= 0) return 0;
  const n = (maxConnections * longWindowS + windowS * 5 - 1) / (windowS * 5);
  return n > 100000000 ? 100000000 : n < 1 ? 1 : n;
}

function side(w: JsonWriter, name: string, s: Side): void {
  w.key(name).beginObject();
  const proto = s.proto;
  if (proto.length > 0) w.str("proto_version", proto).str("software_version", s.software);
  const comments = s.comments;
  if (comments.length > 0) w.str("comments", comments);
  w.endObject();
}

register(new SshGuard());
