// scan_flood: port scans (SYN, FIN, NULL, Xmas, UDP) by distinct destination
// ports per source in a sliding window, horizontal sweeps by distinct hosts
// per (source, port), slow scans over an hour, SYN floods per destination,
// ICMP echo floods and UDP amplification; answers BLOCK_SRC with a ttl.
// README.md lists the config, signature ids and limits.
import {
  Inspector, Packet, Verdict, JsonValue, Severity, IpProto,
  refuse, onlyKnownKeys, intField, boolField, portTable,
  register, alert, JsonWriter,
} from "../sdk";
import { SlidingWindowCounter, U64Map, addrKey, sourceKey, mix64 } from "../sdk/lib";
import { DistinctCounter } from "./distinct";
import { SweepCounter, SWEEP_TCP, SWEEP_UDP } from "./sweep";
import { SlowScanCounter, SLOW_TCP, SLOW_UDP, toGroupAddress } from "./slow-scan";
import { FtpDataPorts } from "./ftp-data";
import { Handshakes } from "./handshakes";
import { isTracerouteProbe } from "./traceroute";
export * from "../sdk/exports";

const SID_SYN_SCAN = 1006001;
const SID_FIN_SCAN = 1006002;
const SID_NULL_SCAN = 1006003;
const SID_XMAS_SCAN = 1006004;
const SID_UDP_SCAN = 1006005;
const SID_ACK_SCAN = 1006006;
const SID_ODD_FLAGS_SCAN = 1006007;
const SID_SWEEP = 1006008;
const SID_SLOW_SCAN = 1006009;
const SID_SYN_FLOOD = 1006010;
const SID_ICMP_FLOOD = 1006011;
const SID_AMPLIFICATION = 1006012;
const SID_SYN_FLOOD_DST = 1006013;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const URG: u8 = 0x20;

/** Linux's ephemeral ports start here (Windows' at 49152): a client's side of a connection. */
const EPHEMERAL_PORTS_FROM: u16 = 32768;

const KNOWN_KEYS = ["action", "block_ttl", "scan_window_ms", "syn_scan_ports", "stealth_scan_ports", "ack_scan_ports", "udp_scan_ports",
  "flood_window_ms", "syn_flood_per_dst", "syn_flood_per_src", "icmp_flood_per_src",
  "amplification_ports", "amplification_min_bytes", "amplification_per_src", "amplification_unsolicited_only", "capacity",
  "sweep_window_ms", "sweep_hosts", "slow_scan_window_ms", "slow_scan_ports", "slow_scan_action", "exempt_traceroute"];

// what a counter counts, tagged into its key
const K_SYN: u64 = 1;
const K_STEALTH: u64 = 2;
const K_UDP: u64 = 3;
const K_AMP: u64 = 4;
const K_ICMP: u64 = 5;
const K_SYN_DST: u64 = 6;
const K_SYN_SRC: u64 = 7;
const K_ACK: u64 = 8;

/** One counter key per (address, kind). The kind sits in bits no address key uses, then all is mixed. */
@inline function tagged(addr: u64, kind: u64): u64 { return mix64(addr ^ (kind << 48)); }

class ScanFlood extends Inspector {
  action: Verdict = Verdict.BLOCK_SRC;
  actionName: string = "block_src";
  /**
   * The hour count only alerts unless told to block: where the engine sees
   * what arrives only (host mode), no answer is ever seen, and a client of
   * several services of this host (passive FTP, RTP) reaches 60 ports in an
   * hour without scanning anything.
   */
  slowAction: Verdict = Verdict.CONTINUE;
  slowActionName: string = "alert";
  blockTtl: i32 = 600;
  scanWindowMs: i64 = 10000;
  synScanPorts: i64 = 20;
  stealthScanPorts: i64 = 5;
  ackScanPorts: i64 = 20;
  udpScanPorts: i64 = 15;
  floodWindowMs: i64 = 1000;
  synFloodPerDst: i64 = 400;
  synFloodPerSrc: i64 = 100;
  icmpFloodPerSrc: i64 = 200;
  ampPorts: StaticArray<u8> = new StaticArray<u8>(65536);
  ampMinBytes: i32 = 512;
  ampPerSrc: i64 = 20;
  ampUnsolicitedOnly: bool = true;
  capacity: i32 = 8192;
  sweepWindowMs: i64 = 60000;
  sweepHosts: i64 = 30;
  slowScanWindowMs: i64 = 3600000;
  slowScanPorts: i64 = 60;
  exemptTraceroute: bool = true;

  ports: DistinctCounter = new DistinctCounter(1, 1, 1);
  floods: SlidingWindowCounter = new SlidingWindowCounter(1, 1, 1);
  sweeps: SweepCounter = new SweepCounter(1, 1);
  slow: SlowScanCounter = new SlowScanCounter(1, 1);
  ftpData: FtpDataPorts = new FtpDataPorts();
  handshakes: Handshakes = new Handshakes();
  /** (source, sid) -> last alert time in ms, so an alert-only config reports once per window. */
  alerted: U64Map = new U64Map(1024);
  /** Capture time of the first packet, in ms: alert times are kept as i32 ms after it. */
  epochMs: i64 = -1;

  /** ms since the first packet (wraps after 24 days, harmless for spacing alerts). */
  relMs(nowMs: i64): i32 {
    if (this.epochMs < 0) this.epochMs = nowMs;
    return <i32>(nowMs - this.epochMs);
  }

  /** True (and remembered) when key last alerted windowMs or more ago, or never. */
  due(key: u64, nowMs: i64, windowMs: i64): bool {
    const t = this.relMs(nowMs);
    const last = this.alerted.get(key, i32.MIN_VALUE);
    if (last != i32.MIN_VALUE && <i64>t - <i64>last < windowMs) return false;
    if (this.alerted.size >= this.capacity) this.alerted.clear();
    this.alerted.set(key, t);
    return true;
  }

  onInit(config: JsonValue | null): bool {
    for (let p = 0; p < 4; p++) unchecked(this.ampPorts[[53, 123, 1900, 11211][p]] = 1);
    if (config !== null && !this.configure(config)) return false;
    const cap = this.capacity;
    this.ports = new DistinctCounter(this.scanWindowMs * 1000000, cap * 8, cap);
    this.floods = new SlidingWindowCounter(this.floodWindowMs * 1000000, 10, cap);
    this.sweeps = new SweepCounter(this.sweepWindowMs * 1000000, cap);
    this.slow = new SlowScanCounter(this.slowScanWindowMs * 1000000, cap);
    return true;
  }

  configure(c: JsonValue): bool {
    if (!c.isObject()) return refuse("the config must be a JSON object");
    if (!onlyKnownKeys(c, KNOWN_KEYS)) return false;
    const a = scanAction(c, "action");
    if (a < 0) return false;
    if (a != NOT_SET) { this.action = <Verdict>a; this.actionName = a == Verdict.BLOCK_SRC ? "block_src" : "alert"; }
    const sa = scanAction(c, "slow_scan_action");
    if (sa < 0) return false;
    if (sa != NOT_SET) { this.slowAction = <Verdict>sa; this.slowActionName = sa == Verdict.BLOCK_SRC ? "block_src" : "alert"; }
    let v: i64;
    if ((v = intField(c, "block_ttl", 1, 65535, this.blockTtl, "seconds")) < 0) return false; this.blockTtl = <i32>v;
    if ((v = intField(c, "scan_window_ms", 100, 3600000, this.scanWindowMs, "milliseconds")) < 0) return false; this.scanWindowMs = v;
    if ((v = intField(c, "syn_scan_ports", 2, 65536, this.synScanPorts, "distinct ports")) < 0) return false; this.synScanPorts = v;
    if ((v = intField(c, "stealth_scan_ports", 1, 65536, this.stealthScanPorts, "distinct ports")) < 0) return false; this.stealthScanPorts = v;
    if ((v = intField(c, "ack_scan_ports", 2, 65536, this.ackScanPorts, "distinct ports")) < 0) return false; this.ackScanPorts = v;
    if ((v = intField(c, "udp_scan_ports", 2, 65536, this.udpScanPorts, "distinct ports")) < 0) return false; this.udpScanPorts = v;
    if ((v = intField(c, "flood_window_ms", 100, 60000, this.floodWindowMs, "milliseconds")) < 0) return false; this.floodWindowMs = v;
    if ((v = intField(c, "syn_flood_per_dst", 2, 100000000, this.synFloodPerDst, "SYNs per window")) < 0) return false; this.synFloodPerDst = v;
    if ((v = intField(c, "syn_flood_per_src", 1, 100000000, this.synFloodPerSrc, "SYNs per window")) < 0) return false; this.synFloodPerSrc = v;
    if ((v = intField(c, "icmp_flood_per_src", 2, 100000000, this.icmpFloodPerSrc, "echo requests per window")) < 0) return false; this.icmpFloodPerSrc = v;
    if ((v = intField(c, "amplification_min_bytes", 1, 65535, this.ampMinBytes, "UDP payload bytes")) < 0) return false; this.ampMinBytes = <i32>v;
    if ((v = intField(c, "amplification_per_src", 1, 100000000, this.ampPerSrc, "large responses per window")) < 0) return false; this.ampPerSrc = v;
    if ((v = intField(c, "capacity", 16, 8192, this.capacity, "sources tracked")) < 0) return false; this.capacity = <i32>v;
    if ((v = intField(c, "sweep_window_ms", 1000, 3600000, this.sweepWindowMs, "milliseconds")) < 0) return false; this.sweepWindowMs = v;
    if ((v = intField(c, "sweep_hosts", 2, 100000000, this.sweepHosts, "distinct hosts")) < 0) return false; this.sweepHosts = v;
    if ((v = intField(c, "slow_scan_window_ms", 60000, 86400000, this.slowScanWindowMs, "milliseconds")) < 0) return false; this.slowScanWindowMs = v;
    if ((v = intField(c, "slow_scan_ports", 2, 65536, this.slowScanPorts, "distinct ports")) < 0) return false; this.slowScanPorts = v;
    const u = boolField(c, "amplification_unsolicited_only", this.ampUnsolicitedOnly);
    if (u < 0) return false;
    this.ampUnsolicitedOnly = u == 1;
    const t = boolField(c, "exempt_traceroute", this.exemptTraceroute);
    if (t < 0) return false;
    this.exemptTraceroute = t == 1;
    return portTable(c, "amplification_ports", this.ampPorts);
  }

  onPacket(pkt: Packet): Verdict {
    const v = pkt.ipVersion;
    if (v == 0) return Verdict.PASS;
    if (pkt.l4Offset < 0) return Verdict.CONTINUE;
    const src = sourceKey(pkt.srcAddrPtr, v);
    const proto = pkt.proto;
    if (proto == IpProto.TCP) return this.onTcp(pkt, src, pkt.timeNs);
    if (proto == IpProto.UDP) return this.onUdp(pkt, src, pkt.timeNs);
    if (proto == IpProto.ICMP || proto == IpProto.ICMPV6) return this.onIcmp(pkt, src, pkt.timeNs);
    return Verdict.CONTINUE;
  }

  onTcp(pkt: Packet, src: u64, now: i64): Verdict {
    const f = pkt.tcpFlags;
    const core = f & (FIN | SYN | RST | ACK);
    if (pkt.payloadLength > 0) this.ftpData.observe(pkt, this.relMs(now / 1000000));
    if (core == SYN) {
      // an FTP data connection to the port announced for it is no probe
      if (this.ftpData.expected(pkt, this.relMs(now / 1000000))) return this.synFlood(pkt, src, now);
      const n = this.ports.add(tagged(src, K_SYN), pkt.dstPort, now);
      if (n >= this.synScanPorts) return this.fire(pkt, src, SID_SYN_SCAN, "TCP SYN port scan", "distinct_ports", n, Severity.MEDIUM);
      const swept = this.sweep(pkt, src, SWEEP_TCP, now);
      if (swept != Verdict.CONTINUE) return swept;
      const slow = this.slowProbe(pkt, src, SLOW_TCP, now);
      if (slow != Verdict.CONTINUE) return slow;
      return this.synFlood(pkt, src, now);
    }
    // The answer to a SYN: the client's ACK to it will say the SYN was a connection.
    if ((f & (SYN | ACK | RST)) == (SYN | ACK) && pkt.direction == 1) {
      this.handshakes.synAck(pkt.flowId);
      return Verdict.CONTINUE;
    }
    // A RST asks for no answer, and a SYN-ACK the engine meets first is a
    // handshake picked up late or backscatter of someone else's spoofed
    // flood: neither probes anything.
    if ((f & RST) != 0 || (f & (SYN | ACK)) == (SYN | ACK)) return Verdict.CONTINUE;
    if ((f & ACK) != 0) {
      if (pkt.direction == 0 && !pkt.flowStart && this.handshakes.completes(pkt.flowId)) {
        this.settle(src, addrKey(pkt.dstAddrPtr, pkt.ipVersion), pkt.dstPort, SWEEP_TCP, SLOW_TCP, now);
        return Verdict.CONTINUE;
      }
      return this.ackProbe(pkt, src, now);
    }
    // Without SYN, ACK or RST no segment is valid in any connection (RFC
    // 9293 3.10.7: every segment after the SYN carries ACK); a closed port
    // answers it with RST and an open one drops it, which is all a FIN,
    // NULL, Xmas or any other such probe needs.
    const sid = stealthSid(f);
    const n = this.ports.add(tagged(src, K_STEALTH), pkt.dstPort, now);
    if (n >= this.stealthScanPorts) return this.fire(pkt, src, sid, stealthName(sid), "distinct_ports", n, Severity.MEDIUM);
    const swept = this.sweep(pkt, src, SWEEP_TCP, now);
    if (swept != Verdict.CONTINUE) return swept;
    return this.slowProbe(pkt, src, SLOW_TCP, now);
  }

  // ACK, FIN+ACK (Maimon) and the like, as the first packet of a flow: an ACK
  // scan maps firewall rules. Such a segment is also what a connection the
  // engine meets mid-stream starts with, so only the empty ones count, not
  // a server's side (from its port to a client's ephemeral one), and against
  // the SYN scan's larger threshold.
  ackProbe(pkt: Packet, src: u64, now: i64): Verdict {
    if (!pkt.flowStart || pkt.direction != 0 || pkt.payloadLength > 0 || isServerSide(pkt)) return Verdict.CONTINUE;
    const n = this.ports.add(tagged(src, K_ACK), pkt.dstPort, now);
    if (n >= this.ackScanPorts) return this.fire(pkt, src, SID_ACK_SCAN, "TCP ACK port scan", "distinct_ports", n, Severity.MEDIUM);
    // not into the sweep count: a client whose connections to many web
    // servers the engine meets mid-stream (after a restart) starts each
    // with such an ACK, to one port
    return this.slowProbe(pkt, src, SLOW_TCP, now);
  }

  onUdp(pkt: Packet, src: u64, now: i64): Verdict {
    const reflected = this.isAmplificationShaped(pkt);
    if (reflected) {
      const n = this.floods.add(tagged(src, K_AMP), now);
      if (n >= this.ampPerSrc) return this.fire(pkt, src, SID_AMPLIFICATION, "UDP amplification: large unsolicited responses from port " + pkt.srcPort.toString(), "responses_in_window", n, Severity.HIGH);
    }
    if (pkt.direction != 0) {
      // a reply: the datagram it answers reached a service (the reply's destination is the prober)
      this.settle(sourceKey(pkt.dstAddrPtr, pkt.ipVersion), addrKey(pkt.srcAddrPtr, pkt.ipVersion), pkt.srcPort, SWEEP_UDP, SLOW_UDP, now);
      return Verdict.CONTINUE;
    }
    if (this.exemptTraceroute && isTracerouteProbe(pkt)) return Verdict.CONTINUE;
    // A padded probe from a reflector port (nmap -sU -g 53 --data-length 512)
    // is still a probe. It is named a scan only from the amplification
    // threshold on, so that reflected responses sprayed over a victim's
    // ports at flood rate keep their own signature.
    const threshold = reflected && this.ampPerSrc > this.udpScanPorts ? this.ampPerSrc : this.udpScanPorts;
    const n = this.ports.add(tagged(src, K_UDP), pkt.dstPort, now);
    if (n >= threshold) return this.fire(pkt, src, SID_UDP_SCAN, "UDP port scan", "distinct_ports", n, Severity.MEDIUM);
    const swept = this.sweep(pkt, src, SWEEP_UDP, now);
    if (swept != Verdict.CONTINUE) return swept;
    return this.slowProbe(pkt, src, SLOW_UDP, now);
  }

  /** One more host probed on this port by src; a sweep from sweep_hosts unanswered hosts on. */
  sweep(pkt: Packet, src: u64, proto: u64, now: i64): Verdict {
    const n = this.sweeps.probe(src, addrKey(pkt.dstAddrPtr, pkt.ipVersion), pkt.dstPort, proto, now);
    if (n < this.sweepHosts) return Verdict.CONTINUE;
    // literals, not built strings: in alert mode every probe past the threshold gets here
    return this.fire(pkt, src, SID_SWEEP, proto == SWEEP_TCP ? "TCP port sweep" : "UDP port sweep", "distinct_hosts", n, Severity.MEDIUM);
  }

  /** One more port probed by src over the long window; a slow scan from slow_scan_ports unanswered ports on. */
  slowProbe(pkt: Packet, src: u64, proto: u64, now: i64): Verdict {
    if (toGroupAddress(pkt)) return Verdict.CONTINUE;
    // Where the engine sees only what arrives (host mode), the answers to the
    // host's own DNS, NTP or QUIC traffic open flows: from the service's port
    // to a new ephemeral port each, 60 lookups an hour. Not probes.
    if (proto == SLOW_UDP && isServerSide(pkt)) return Verdict.CONTINUE;
    const n = this.slow.probe(src, pkt.dstPort, proto, now);
    if (n < this.slowScanPorts) return Verdict.CONTINUE;
    return this.fire(pkt, src, SID_SLOW_SCAN, proto == SLOW_TCP ? "Slow TCP port scan" : "Slow UDP port scan", "distinct_ports", n, Severity.MEDIUM);
  }

  /** What prober sent to target:port was a connection or an answered datagram, not a probe. */
  settle(prober: u64, target: u64, port: u16, sweepProto: u64, slowProto: u64, now: i64): void {
    this.sweeps.answered(prober, target, port, sweepProto, now);
    this.slow.answered(prober, port, slowProto, now);
  }

  onFlowEnd(flowId: u64): void { this.handshakes.forget(flowId); }

  /** A large datagram from a reflector port that no request of ours asked for. */
  isAmplificationShaped(pkt: Packet): bool {
    return unchecked(this.ampPorts[pkt.srcPort]) != 0 && pkt.payloadLength >= this.ampMinBytes
      && (!this.ampUnsolicitedOnly || pkt.direction == 0);
  }

  onIcmp(pkt: Packet, src: u64, now: i64): Verdict {
    const type = pkt.u8(pkt.l4Offset);
    const proto = pkt.proto;
    if ((proto == IpProto.ICMP && type == 8) || (proto == IpProto.ICMPV6 && type == 128)) {
      const n = this.floods.add(tagged(src, K_ICMP), now);
      if (n >= this.icmpFloodPerSrc) return this.fire(pkt, src, SID_ICMP_FLOOD, "ICMP echo flood", "requests_in_window", n, Severity.MEDIUM);
    }
    return Verdict.CONTINUE;
  }

  // SYNs to one destination above its threshold make it "under flood"; the
  // sources sending a large share of them are the ones blocked. A source's
  // share counts only its SYNs to that destination: a proxy opening many
  // connections elsewhere, and one to the flooded server, is not the flooder.
  synFlood(pkt: Packet, src: u64, now: i64): Verdict {
    const dst = addrKey(pkt.dstAddrPtr, pkt.ipVersion);
    const perDst = this.floods.add(tagged(dst, K_SYN_DST), now);
    const perSrc = this.floods.add(tagged(src ^ mix64(dst), K_SYN_SRC), now);
    if (perDst < this.synFloodPerDst) return Verdict.CONTINUE;
    if (perSrc >= this.synFloodPerSrc) {
      return this.fire(pkt, src, SID_SYN_FLOOD, "TCP SYN flood", "syns_to_destination", perDst, Severity.HIGH, perSrc);
    }
    // the destination is flooded but not by this source (spoofed or spread
    // sources): say so once per window; there is no one source to block
    if (this.due(tagged(dst, K_SYN_DST) ^ <u64>SID_SYN_FLOOD_DST, now / 1000000, this.floodWindowMs)) {
      alert(pkt, SID_SYN_FLOOD_DST, Severity.HIGH, "TCP SYN flood on a destination (no single source)",
        new JsonWriter().beginObject().num("syns_to_destination", perDst).num("dest_port", pkt.dstPort).str("action", "alert").endObject().toString());
    }
    return Verdict.CONTINUE;
  }

  fire(pkt: Packet, src: u64, sid: i32, msg: string, what: string, n: i64, severity: i32, fromSource: i64 = -1): Verdict {
    const nowMs = <i64>pkt.tsSec * 1000 + <i64>(pkt.tsNsec / 1000000);
    const window = sid == SID_SWEEP ? this.sweepWindowMs : sid == SID_SLOW_SCAN ? this.slowScanWindowMs : isScan(sid) ? this.scanWindowMs : this.floodWindowMs;
    const slow = sid == SID_SLOW_SCAN;
    const action = slow ? this.slowAction : this.action;
    // after a BLOCK_SRC the host drops the source itself; this only spaces out alert-only reports
    if (action == Verdict.BLOCK_SRC || this.due(mix64(src) ^ <u64>sid, nowMs, window)) {
      const meta = new JsonWriter().beginObject().num(what, n);
      if (fromSource >= 0) meta.num("syns_from_source", fromSource);
      meta.num("dest_port", pkt.dstPort).str("action", slow ? this.slowActionName : this.actionName);
      if (action == Verdict.BLOCK_SRC) meta.num("block_ttl", this.blockTtl);
      alert(pkt, sid, severity, msg, meta.endObject().toString());
    }
    if (action == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    return action;
  }
}

const NOT_SET = 1000;

/** An action key: BLOCK_SRC or CONTINUE (alert), NOT_SET when absent, -1 after refusing it. */
function scanAction(c: JsonValue, key: string): i32 {
  const a = c.get(key);
  if (a === null) return NOT_SET;
  if (a.isString() && a.str == "alert") return Verdict.CONTINUE;
  if (a.isString() && a.str == "block_src") return Verdict.BLOCK_SRC;
  refuse(key + " must be \"block_src\" or \"alert\"");
  return -1;
}

/** The scan signature of a probe without SYN, ACK or RST, by its flags. */
function stealthSid(f: u8): i32 {
  if (f == FIN) return SID_FIN_SCAN;
  if (f == 0) return SID_NULL_SCAN;
  if ((f & (FIN | PSH | URG)) == (FIN | PSH | URG) && (f & SYN) == 0) return SID_XMAS_SCAN;
  return SID_ODD_FLAGS_SCAN;
}

function stealthName(sid: i32): string {
  if (sid == SID_FIN_SCAN) return "TCP FIN port scan";
  if (sid == SID_NULL_SCAN) return "TCP NULL port scan";
  if (sid == SID_XMAS_SCAN) return "TCP Xmas port scan";
  return "TCP port scan with odd flags";
}

// From a lower port to an ephemeral one: the server's side of a connection
// the engine met mid-stream (it closes or acknowledges an idle client), not
// a probe of the client's ports.
function isServerSide(pkt: Packet): bool {
  return pkt.dstPort >= EPHEMERAL_PORTS_FROM && pkt.srcPort < pkt.dstPort;
}

function isScan(sid: i32): bool { return sid >= SID_SYN_SCAN && sid <= SID_ODD_FLAGS_SCAN; }

register(new ScanFlood());
