// http_waf configuration (README.md "Configuration"): parsed once in on_init,
// every field checked, and a refusal says which field and why.
import { JsonValue, LogLevel, log, utf8 } from "../sdk";
import { MultiSearch } from "../sdk/lib";

export namespace Detect {
  export const SQLI: i32 = 1;
  export const XSS: i32 = 2;
  export const TRAVERSAL: i32 = 4;
  export const CMDI: i32 = 8;
  export const JNDI: i32 = 16;
  export const SCANNER: i32 = 32;
  export const EXTRA: i32 = 64;
  export const ALL: i32 = 127;
}

const DETECTION_NAMES = ["sqli", "xss", "traversal", "cmdi", "jndi", "scanner"];
const KNOWN_KEYS = ["mode", "body_depth", "detections", "extra_patterns", "allow_after", "stream_depth", "max_header_bytes", "head_action", "body_action"];
const PATTERN_KEYS = ["sid", "pattern", "nocase", "severity", "msg"];
export const EXTRA_SID_MIN = 1001100;
export const EXTRA_SID_MAX = 1001999;

export class ExtraPattern {
  sid: i32 = 0;
  severity: i32 = 2;
  msg: string = "";
}

export class Config {
  block: bool = false;
  bodyDepth: i32 = 8192;
  enabled: i32 = Detect.ALL;
  /** 0: inspect every request of a connection. More lets a persistent connection go unseen after that many clean pairs. */
  allowAfter: i32 = 0;
  streamDepth: i32 = 65536;
  maxHeaderBytes: i32 = 16384;
  /**
   * Block mode only: whether a request the module could not read whole blocks
   * the flow. Heads (over max_header_bytes, an unreadable request line, more
   * pipelined requests than a packet may parse) do by default: clients do
   * not send them. Bodies past body_depth do not: uploads are routine.
   */
  blockUnreadHead: bool = true;
  blockUnreadBody: bool = false;
  extras: Array<ExtraPattern> = [];
  /** Two automatons: case-sensitive and case-insensitive extra patterns. */
  extraSearch: MultiSearch = new MultiSearch(false);
  extraSearchNoCase: MultiSearch = new MultiSearch(true);
}

function refuse(msg: string): Config | null {
  log(LogLevel.ERROR, "http_waf config: " + msg);
  return null;
}

function intField(c: JsonValue, key: string, min: i32, max: i32, dflt: i32): i32 {
  const v = c.get(key);
  if (v === null) return dflt;
  if (!v.isInteger() || v.num < <f64>min || v.num > <f64>max) return i32.MIN_VALUE;
  return <i32>v.num;
}

/** 1 for "block", 0 for "alert", -1 for anything else. */
function actionField(c: JsonValue, key: string, dflt: bool): i32 {
  const v = c.get(key);
  if (v === null) return dflt ? 1 : 0;
  if (!v.isString()) return -1;
  if (v.str == "block") return 1;
  return v.str == "alert" ? 0 : -1;
}

export function parseConfig(c: JsonValue | null): Config | null {
  const cfg = new Config();
  if (c === null) { cfg.extraSearch.build(); cfg.extraSearchNoCase.build(); return cfg; }
  if (!c.isObject()) return refuse("the config must be a JSON object");
  for (let i = 0; i < c.keys.length; i++) {
    if (!KNOWN_KEYS.includes(c.keys[i])) return refuse("unknown field \"" + c.keys[i] + "\" (known: " + KNOWN_KEYS.join(", ") + ")");
  }
  const mode = c.get("mode");
  if (mode !== null) {
    if (!mode.isString() || (mode.str != "alert" && mode.str != "block")) return refuse("mode must be \"alert\" or \"block\"");
    cfg.block = mode.str == "block";
  }
  cfg.bodyDepth = intField(c, "body_depth", 0, 1048576, cfg.bodyDepth);
  if (cfg.bodyDepth == i32.MIN_VALUE) return refuse("body_depth must be an integer number of bytes 0..1048576");
  cfg.allowAfter = intField(c, "allow_after", 0, 1000000, cfg.allowAfter);
  if (cfg.allowAfter == i32.MIN_VALUE) return refuse("allow_after must be an integer 0..1000000 (0 = never allow the flow early)");
  cfg.streamDepth = intField(c, "stream_depth", 1024, 1 << 30, cfg.streamDepth);
  if (cfg.streamDepth == i32.MIN_VALUE) return refuse("stream_depth must be an integer >= 1024 (the host's stream depth in bytes)");
  cfg.maxHeaderBytes = intField(c, "max_header_bytes", 256, 65536, cfg.maxHeaderBytes);
  if (cfg.maxHeaderBytes == i32.MIN_VALUE) return refuse("max_header_bytes must be an integer 256..65536");
  const headAction = actionField(c, "head_action", cfg.blockUnreadHead);
  if (headAction < 0) return refuse("head_action must be \"block\" or \"alert\"");
  cfg.blockUnreadHead = headAction == 1;
  const bodyAction = actionField(c, "body_action", cfg.blockUnreadBody);
  if (bodyAction < 0) return refuse("body_action must be \"block\" or \"alert\"");
  cfg.blockUnreadBody = bodyAction == 1;
  const det = c.get("detections");
  if (det !== null) {
    if (!det.isArray()) return refuse("detections must be an array of names: " + DETECTION_NAMES.join(", "));
    cfg.enabled = Detect.EXTRA;
    for (let i = 0; i < det.length; i++) {
      const d = det.at(i);
      const k = d.isString() ? DETECTION_NAMES.indexOf(d.str) : -1;
      if (k < 0) return refuse("detections[" + i.toString() + "] must be one of " + DETECTION_NAMES.join(", "));
      cfg.enabled |= 1 << k;
    }
  }
  const extra = c.get("extra_patterns");
  if (extra !== null) {
    if (!extra.isArray()) return refuse("extra_patterns must be an array of {sid, pattern, nocase, severity, msg}");
    for (let i = 0; i < extra.length; i++) {
      const where = "extra_patterns[" + i.toString() + "]";
      const e = extra.at(i);
      if (!e.isObject()) return refuse(where + " must be an object");
      for (let k = 0; k < e.keys.length; k++) {
        if (!PATTERN_KEYS.includes(e.keys[k])) return refuse(where + ": unknown field \"" + e.keys[k] + "\" (known: " + PATTERN_KEYS.join(", ") + ")");
      }
      const sid = e.get("sid");
      if (sid === null || !sid.isInteger() || sid.num < <f64>EXTRA_SID_MIN || sid.num > <f64>EXTRA_SID_MAX) {
        return refuse(where + ".sid must be an integer " + EXTRA_SID_MIN.toString() + ".." + EXTRA_SID_MAX.toString() + " (http_waf's range for extra patterns)");
      }
      const pat = e.get("pattern");
      if (pat === null || !pat.isString() || pat.str.length == 0) return refuse(where + ".pattern must be a non-empty string");
      const nocase = e.get("nocase");
      if (nocase !== null && !nocase.isBool()) return refuse(where + ".nocase must be true or false");
      const sev = e.get("severity");
      if (sev !== null && (!sev.isInteger() || sev.num < 1 || sev.num > 4)) return refuse(where + ".severity must be 1 (high) .. 4 (info)");
      const msg = e.get("msg");
      if (msg !== null && !msg.isString()) return refuse(where + ".msg must be a string");
      const p = new ExtraPattern();
      p.sid = <i32>sid.num;
      p.severity = sev === null ? 2 : <i32>sev.num;
      p.msg = msg === null ? "http_waf extra pattern \"" + pat.str + "\"" : msg.str;
      const id = cfg.extras.length;
      cfg.extras.push(p);
      if (nocase !== null && nocase.bool) cfg.extraSearchNoCase.add(utf8(pat.str), id);
      else cfg.extraSearch.add(utf8(pat.str), id);
    }
  }
  cfg.extraSearch.build();
  cfg.extraSearchNoCase.build();
  return cfg;
}
