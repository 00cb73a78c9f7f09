// ratelimit: per-source (or per source and destination port) limits on new
// connections or packets, by token bucket or sliding window; a key over its
// limit puts the source in the penalty box (BLOCK_SRC with the rule's ttl).
// README.md lists the config, signature ids and limits.
import {
  Inspector, Packet, Verdict, JsonValue, Severity,
  refuse, onlyKnownKeys,
  register, alert, JsonWriter,
} from "../sdk";
import { sourceKey, mix64, U64Map } from "../sdk/lib";
import { LimitRule, Algo } from "./rules";
export * from "../sdk/exports";

const SID_TOKEN_BUCKET = 1007001;
const SID_SLIDING_WINDOW = 1007002;

const KNOWN_KEYS = ["rules", "capacity"];
/** Keys tracked over all rules together. */
const MAX_KEYS = 32768;
const RULE_KEYS = ["name", "proto", "ports", "key", "count", "algorithm", "rate", "burst", "limit", "window_ms", "penalty", "action"];

class RateLimit extends Inspector {
  rules: Array<LimitRule> = [];
  capacity: i32 = 4096;
  /**
   * Sources in the penalty box -> release time (seconds after `epoch`). The
   * host drops them too once it has the verdict, but packets already handed
   * over in the same batch (and a host that restarted) rely on this.
   */
  boxed: U64Map = new U64Map(256);
  epoch: i64 = -1;

  onInit(config: JsonValue | null): bool {
    if (config === null) return refuse("no rules: give a config with \"rules\" (see modules/ratelimit/README.md)");
    if (!config.isObject()) return refuse("the config must be a JSON object");
    if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
    const cap = config.get("capacity");
    if (cap !== null) {
      if (!cap.isInteger() || cap.num < 16 || cap.num > MAX_KEYS) return refuse("capacity must be an integer 16.." + MAX_KEYS.toString() + " (keys tracked per rule)");
      this.capacity = <i32>cap.num;
    }
    const rules = config.get("rules");
    if (rules === null || !rules.isArray() || rules.length == 0) return refuse("rules must be a non-empty array of rule objects");
    if (rules.length > 64) return refuse("at most 64 rules");
    // every key costs about 200 bytes of a 16 MiB memory, whichever rule holds it
    if (rules.length * this.capacity > MAX_KEYS) {
      return refuse("rules x capacity is " + (rules.length * this.capacity).toString() + " keys; at most " + MAX_KEYS.toString()
        + " fit the module's memory: lower \"capacity\" (now " + this.capacity.toString() + ") or merge rules");
    }
    for (let i = 0; i < rules.length; i++) {
      const r = parseRule(rules.at(i), "rules[" + i.toString() + "]");
      if (r === null) return false;
      r.build(this.capacity);
      this.rules.push(r);
    }
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    const v = pkt.ipVersion;
    if (v == 0) return Verdict.PASS;
    if (this.epoch < 0) this.epoch = <i64>pkt.tsSec;
    const nowSec = <i32>(<i64>pkt.tsSec - this.epoch);
    let src: u64 = 0;
    if (this.boxed.size > 0) {
      src = sourceKey(pkt.srcAddrPtr, pkt.ipVersion);
      const until = this.boxed.get(src, -1);
      if (until >= 0) {
        if (nowSec < until) { pkt.setBlockTtl(until - nowSec); return Verdict.BLOCK_SRC; }
        this.boxed.delete(src);
      }
    }
    // only the side that opened the flow is limited: servers' answers are not the client's rate
    if (pkt.direction != 0) return Verdict.CONTINUE;
    const proto = <i32>pkt.proto;
    const port = <i32>pkt.dstPort;
    const flowStart = pkt.flowStart;
    const now = pkt.timeNs;
    let verdict = Verdict.CONTINUE;
    for (let i = 0, n = this.rules.length; i < n; i++) {
      const r = unchecked(this.rules[i]);
      if (r.countFlows && !flowStart) continue;
      if (r.proto >= 0 && r.proto != proto) continue;
      if (!r.matchesPort(port)) continue;
      if (src == 0) src = sourceKey(pkt.srcAddrPtr, pkt.ipVersion);
      const key = r.perPort ? mix64(src ^ (<u64>port << 40)) : src;
      if (!r.over(key, now)) continue;
      const sid = r.algo == Algo.TOKEN_BUCKET ? SID_TOKEN_BUCKET : SID_SLIDING_WINDOW;
      const meta = new JsonWriter().beginObject().str("rule", r.name).str("key", r.perPort ? "src_dport" : "src")
        .str("counting", r.countFlows ? "flows" : "packets").str("action", r.actionName);
      if (r.algo == Algo.TOKEN_BUCKET) meta.key("rate").number(r.rate).key("burst").number(r.burst);
      else meta.num("limit", r.limit).num("window_ms", r.windowMs);
      if (r.action == Verdict.BLOCK_SRC) meta.num("penalty", r.penalty);
      alert(pkt, sid, Severity.MEDIUM, "Rate limit \"" + r.name + "\" exceeded", meta.endObject().toString());
      const rv = <Verdict>r.action;
      if (rv == Verdict.BLOCK_SRC) {
        // two rules over at once: the longer penalty wins, as between modules
        if (verdict != Verdict.BLOCK_SRC || r.penalty > <i32>pkt.blockTtl) pkt.setBlockTtl(r.penalty);
        verdict = Verdict.BLOCK_SRC;
      } else if (rv == Verdict.DROP && verdict == Verdict.CONTINUE) verdict = Verdict.DROP;
    }
    if (verdict == Verdict.BLOCK_SRC) this.box(src, nowSec + <i32>pkt.blockTtl);
    return verdict;
  }

  box(src: u64, until: i32): void {
    // bounded: when full, forget the boxed sources (the host's own box still holds them)
    if (this.boxed.size >= this.capacity) this.boxed.clear();
    this.boxed.set(src, until);
  }
}

function parseRule(o: JsonValue, where: string): LimitRule | null {
  if (!o.isObject()) { refuse(where + " must be an object"); return null; }
  if (!onlyKnownKeys(o, RULE_KEYS, where)) return null;
  const r = new LimitRule();
  const name = o.get("name");
  if (name !== null && !name.isString()) { refuse(where + ".name must be a string"); return null; }
  r.name = name !== null ? name.str : where;
  const proto = o.get("proto");
  if (proto !== null) {
    const s = proto.isString() ? proto.str : "";
    if (s == "tcp") r.proto = 6; else if (s == "udp") r.proto = 17; else if (s == "icmp") r.proto = 1;
    else if (s == "icmpv6") r.proto = 58; else if (s == "any") r.proto = -1;
    else { refuse(where + ".proto must be tcp, udp, icmp, icmpv6 or any"); return null; }
  }
  const ports = o.get("ports");
  if (ports !== null) {
    if (!ports.isArray()) { refuse(where + ".ports must be an array of ports (80) or ranges (\"8000-8100\")"); return null; }
    for (let i = 0; i < ports.length; i++) {
      const p = ports.at(i);
      const w = where + ".ports[" + i.toString() + "]";
      if (p.isInteger() && p.num >= 0 && p.num <= 65535) { r.portLo.push(<i32>p.num); r.portHi.push(<i32>p.num); continue; }
      const dash = p.isString() ? p.str.indexOf("-") : -1;
      const lo = dash > 0 ? portOf(p.str.substring(0, dash)) : -1;
      const hi = dash > 0 ? portOf(p.str.substring(dash + 1)) : -1;
      if (lo < 0 || hi < 0 || lo > hi) { refuse(w + " must be a port 0..65535 or a range \"lo-hi\" with lo <= hi"); return null; }
      r.portLo.push(lo);
      r.portHi.push(hi);
    }
  }
  const key = o.get("key");
  if (key !== null) {
    if (key.isString() && key.str == "src") r.perPort = false;
    else if (key.isString() && key.str == "src_dport") r.perPort = true;
    else { refuse(where + ".key must be \"src\" or \"src_dport\""); return null; }
  }
  const count = o.get("count");
  if (count !== null) {
    if (count.isString() && count.str == "flows") r.countFlows = true;
    else if (count.isString() && count.str == "packets") r.countFlows = false;
    else { refuse(where + ".count must be \"flows\" (new connections) or \"packets\""); return null; }
  }
  const algo = o.get("algorithm");
  if (algo !== null) {
    if (algo.isString() && algo.str == "token_bucket") r.algo = Algo.TOKEN_BUCKET;
    else if (algo.isString() && algo.str == "sliding_window") r.algo = Algo.SLIDING_WINDOW;
    else { refuse(where + ".algorithm must be \"token_bucket\" or \"sliding_window\""); return null; }
  }
  if (r.algo == Algo.TOKEN_BUCKET) {
    if (o.get("limit") !== null || o.get("window_ms") !== null) { refuse(where + ": limit and window_ms belong to sliding_window; a token_bucket takes rate and burst"); return null; }
    const rate = o.get("rate");
    if (rate === null || !rate.isNumber() || rate.num <= 0 || rate.num > 1e9) { refuse(where + ".rate must be a number > 0 (per second) for a token_bucket"); return null; }
    r.rate = rate.num;
    const burst = o.get("burst");
    if (burst !== null && (!burst.isNumber() || burst.num < 1 || burst.num > 1e9)) { refuse(where + ".burst must be a number >= 1"); return null; }
    r.burst = burst !== null ? burst.num : Math.max(1, Math.ceil(r.rate));
  } else {
    if (o.get("rate") !== null || o.get("burst") !== null) { refuse(where + ": rate and burst belong to token_bucket; a sliding_window takes limit and window_ms"); return null; }
    const limit = o.get("limit");
    if (limit === null || !limit.isInteger() || limit.num < 1 || limit.num > 1e9) { refuse(where + ".limit must be an integer >= 1 for a sliding_window"); return null; }
    r.limit = <i64>limit.num;
    const w = o.get("window_ms");
    if (w !== null && (!w.isInteger() || w.num < 10 || w.num > 86400000)) { refuse(where + ".window_ms must be an integer 10..86400000"); return null; }
    if (w !== null) r.windowMs = <i64>w.num;
  }
  const pen = o.get("penalty");
  if (pen !== null && (!pen.isInteger() || pen.num < 1 || pen.num > 65535)) { refuse(where + ".penalty must be an integer 1..65535 (seconds)"); return null; }
  if (pen !== null) r.penalty = <i32>pen.num;
  const action = o.get("action");
  if (action !== null) {
    const s = action.isString() ? action.str : "";
    if (s == "block_src") r.action = Verdict.BLOCK_SRC;
    else if (s == "drop") r.action = Verdict.DROP;
    else if (s == "alert") r.action = Verdict.CONTINUE;
    else { refuse(where + ".action must be block_src, drop or alert"); return null; }
    r.actionName = s;
  }
  return r;
}

function portOf(s: string): i32 {
  const t = s.trim();
  if (t.length == 0 || t.length > 5) return -1;
  let v = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + c - 0x30;
  }
  return v <= 65535 ? v : -1;
}

register(new RateLimit());
