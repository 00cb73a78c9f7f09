// ssh_guard: reads the SSH identification banners of both sides, reports
// them as an `ssh` event in Suricata's shape, flags odd banners, and blocks
// sources that open SSH connections faster than the configured rate (brute
// force), with BLOCK_SRC and a ttl. README.md lists config and sids.
import {
  Inspector, Packet, Verdict, JsonValue, JsonWriter, FlowMap, Severity, EventKind, IpProto, LogLevel,
  refuse, onlyKnownKeys, intField, boolField, stringList, actionField, actionName, portTable,
  register, alert, event, log, worst,
} from "../sdk";
import { SlidingWindowCounter } from "../sdk/lib/window";
import { sourceKey } from "../sdk/lib/hash";
import { U64Map } from "../sdk/lib/u64map";
import { Banner, Scan } from "./banner";
import { wireText } from "../dns_guard/wiretext";
export * from "../sdk/exports";

export const SID_BRUTE_FORCE = 1004001;
export const SID_ODD_CLIENT_BANNER = 1004002;
export const SID_ODD_SERVER_BANNER = 1004003;
export const SID_PROTOCOL_1 = 1004004;
export const SID_NOT_SSH = 1004005;
export const SID_BLOCKED_SOFTWARE = 1004006;

const KNOWN_KEYS = [
  "ports", "max_connections", "window_s", "sources", "brute_force_action", "block_ttl",
  "software_blocklist", "software_action", "odd_banner_action", "events",
];

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

  keep(b: Banner): void {
    const line = new StaticArray<u8>(b.length);
    memory.copy(changetype<usize>(line), b.base + <usize>b.start, <usize>b.length);
    this.line = line;
    this.protoEnd = b.protoEnd;
    this.softwareEnd = b.softwareEnd;
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
    }
    if (this.maxConnections > 0) this.window = new SlidingWindowCounter(windowS * 1_000_000_000, 12, <i32>sources);
    this.maxBlocked = <i32>sources;
    log(LogLevel.INFO, "brute force: " + (this.maxConnections > 0 ? this.maxConnections.toString() + " connections per " + windowS.toString() + " s" : "off"));
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.proto != IpProto.TCP || unchecked(this.ports[pkt.serverPort]) == 0) return Verdict.ALLOW_FLOW;
    let verdict = Verdict.CONTINUE;
    if (pkt.direction == 0 && this.blocked.size > 0) {
      const left = this.blockedFor(pkt);
      if (left > 0) { pkt.setBlockTtl(left); return Verdict.BLOCK_SRC; }
    }
    if (pkt.flowStart && pkt.direction == 0 && this.window !== null) verdict = this.countConnection(pkt);
    if (verdict != Verdict.CONTINUE && verdict != Verdict.PASS) return this.decided(pkt, verdict);
    if (pkt.streamNew <= 0) return verdict;
    let st = this.flows.get(pkt.flowId);
    if (st === null) { st = new SshFlow(); this.flows.set(pkt.flowId, st); }
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
      return this.progress(st);
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
    return this.progress(st);
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

  countConnection(pkt: Packet): Verdict {
    const n = this.window!.add(sourceKey(pkt.srcAddrPtr, pkt.ipVersion), pkt.timeNs);
    if (n <= this.maxConnections) return Verdict.CONTINUE;
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

function side(w: JsonWriter, name: string, s: Side): void {
  w.key(name).beginObject();
  const proto = s.proto;
  if (proto.length > 0) w.str("proto_version", proto).str("software_version", s.software);
  const comments = s.comments;
  if (comments.length > 0) w.str("comments", comments);
  w.endObject();
}

register(new SshGuard());
