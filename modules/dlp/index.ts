// dlp: finds card numbers, US SSNs, AWS keys, private key blocks and JWTs in
// plaintext payloads (TCP through the stream bytes) and reports them
// redacted. README.md lists the config, signature ids and limits.
import {
  Inspector, Packet, Verdict, JsonValue, FlowMap, Severity,
  refuse, onlyKnownKeys, intField, actionVerdict,
  register, alert, JsonWriter,
} from "../sdk";
import { Findings, Kind, scan, pendingFrom } from "./detect";
import { StreamDecoder, decoderStart, decodePacket, finishDecoder, decoderPending, newDecoder, recycleDecoder } from "./stream-decoder";
export * from "../sdk/exports";

const KNOWN_KEYS = ["detect", "action", "inspect_depth", "max_alerts_per_flow", "block_ttl"];
const KIND_NAMES = ["credit_card", "ssn", "aws_access_key_id", "aws_secret_access_key", "private_key", "jwt"];
const KIND_SIDS: StaticArray<i32> = [1005001, 1005002, 1005003, 1005004, 1005005, 1005006];
const KIND_SEVERITY: StaticArray<i32> = [Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM, Severity.HIGH, Severity.HIGH, Severity.MEDIUM];
const KIND_MSGS = [
  "DLP credit card number (Luhn-valid)",
  "DLP US social security number",
  "DLP AWS access key id",
  "DLP AWS secret access key",
  "DLP private key block",
  "DLP JSON Web Token",
];
/** Bytes before a packet's new stream bytes re-scanned so a token split across segments is whole. */
const OVERLAP = 64;
const TCP_FIN: u8 = 0x01;
const TCP_RST: u8 = 0x04;
/** A cut-off candidate is waited for at most this long. */
const MAX_PENDING = 4096;
/**
 * Bytes all flows' saved tails may take together. Each flow may keep up to
 * MAX_PENDING a direction until it ends: 3,600 flows each ending inside a
 * token filled the module's memory, and every later batch trapped. Past it,
 * a tail is not kept: that candidate is still judged when more bytes come in
 * its direction, but not if the direction ends on it.
 */
const MAX_SAVED_BYTES = 4 * 1024 * 1024;
let savedBytes = 0;

function release(dir: Direction): void {
  const buf = dir.saved;
  if (buf !== null) { savedBytes -= buf.length; dir.saved = null; }
  dir.savedLen = 0;
}

class Direction {
  /** Findings starting before this stream offset were reported already. */
  doneTo: i32 = 0;
  /** Earliest cut-off candidate of the last scan, -1 none. */
  pending: i32 = -1;
  streamed: bool = false;
  seen: i32 = 0;
  /**
   * A copy of the stream from `pending` to its end: if no more bytes come in
   * this direction (the next packet of the flow is an ACK, the reply or a
   * FIN), the cut-off candidate is judged on these bytes as final.
   */
  saved: Uint8Array | null = null;
  savedLen: i32 = 0;
  /** De-chunking and quoted-printable decoding (stream-decoder.ts), made when the bytes call for it. */
  decoder: StreamDecoder | null = null;
  /** Decoding was given up for this direction (stream-decoder.ts): its decoder is freed, not made again. */
  undecodable: bool = false;
}

class DlpFlow {
  d0: Direction = new Direction();
  d1: Direction = new Direction();
  alerts: i32 = 0;
  decided: Verdict = Verdict.CONTINUE;
}

function kindIndex(kind: i32): i32 { return ctz(kind); }

/**
 * Drops the findings from index `first` on that end at or before `at`: on a
 * resend they lie in bytes the receiver has already taken, and judging them
 * again would drop a packet for a value that is not in it.
 */
function keepEndingAfter(found: Findings, first: i32, at: i32): void {
  let kept = first;
  for (let i = first; i < found.count; i++) {
    if (unchecked(found.ends[i]) > at) found.move(i, kept++);
  }
  found.count = kept;
}

class Dlp extends Inspector {
  kinds: i32 = Kind.ALL;
  action: Verdict = Verdict.CONTINUE;
  actionName: string = "alert";
  depth: i32 = 1 << 20;
  maxAlerts: i32 = 32;
  blockTtl: i32 = 600;
  flows: FlowMap<DlpFlow> = new FlowMap<DlpFlow>();
  found: Findings = new Findings();

  onInit(config: JsonValue | null): bool {
    if (config === null) return true;
    if (!config.isObject()) return refuse("the config must be a JSON object");
    if (!onlyKnownKeys(config, KNOWN_KEYS)) return false;
    const det = config.get("detect");
    if (det !== null) {
      if (!det.isArray()) return refuse("detect must be an array of: " + KIND_NAMES.join(", "));
      this.kinds = 0;
      for (let i = 0; i < det.length; i++) {
        const d = det.at(i);
        const k = d.isString() ? KIND_NAMES.indexOf(d.str) : -1;
        if (k < 0) return refuse("detect[" + i.toString() + "] must be one of " + KIND_NAMES.join(", "));
        this.kinds |= 1 << k;
      }
    }
    const a = config.get("action");
    if (a !== null) {
      if (!a.isString()) return refuse("action must be one of alert, drop, block_flow, block_src");
      const n = a.str;
      const v = actionVerdict(n);
      if (v < 0) return refuse("action must be one of alert, drop, block_flow, block_src (got \"" + n + "\")");
      this.action = <Verdict>v;
      this.actionName = n;
    }
    const depth = intField(config, "inspect_depth", 1, 16777216, this.depth, "bytes per direction");
    if (depth == i64.MIN_VALUE) return false;
    this.depth = <i32>depth;
    const m = intField(config, "max_alerts_per_flow", 1, 10000, this.maxAlerts);
    if (m == i64.MIN_VALUE) return false;
    this.maxAlerts = <i32>m;
    const t = intField(config, "block_ttl", 1, 65535, this.blockTtl, "seconds");
    if (t == i64.MIN_VALUE) return false;
    this.blockTtl = <i32>t;
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.ipVersion == 0) return Verdict.PASS;
    let st = this.flows.get(pkt.flowId);
    if (st === null) {
      if (pkt.payloadLength == 0 && pkt.streamPtr == 0) return Verdict.CONTINUE;
      st = new DlpFlow();
      this.flows.set(pkt.flowId, st);
    }
    if (st.decided != Verdict.CONTINUE) {
      if (st.decided == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
      return st.decided;
    }
    const dir = pkt.direction != 0 ? st.d1 : st.d0;
    const found = this.found;
    found.reset();
    // A direction whose bytes ended on a cut-off candidate is judged as final
    // once it is done: its FIN/RST, or the other side starting to answer.
    // (Mere ACKs prove nothing: the sender may just be between segments.)
    const other = pkt.direction != 0 ? st.d0 : st.d1;
    const closing = (pkt.tcpFlags & (TCP_FIN | TCP_RST)) != 0;
    const otherDone = pkt.streamNew > 0 || (pkt.tcpFlags & TCP_RST) != 0;
    const ownDone = pkt.streamNew == 0 && closing;
    const finishOther = other.savedLen > 0 && otherDone;
    const finishOwn = dir.savedLen > 0 && ownDone;
    const finishOtherDecoded = otherDone && decoderPending(other.decoder);
    const finishOwnDecoded = ownDone && decoderPending(dir.decoder);
    let inStream = finishOther || finishOwn || finishOtherDecoded || finishOwnDecoded;
    if (finishOther) this.finish(other, found, pkt.direction != 0 ? 0 : 1);
    if (finishOwn) this.finish(dir, found, pkt.direction);
    if (finishOtherDecoded) { found.dir = pkt.direction != 0 ? 0 : 1; finishDecoder(other.decoder!, this.kinds, found); }
    if (finishOwnDecoded) { found.dir = pkt.direction; finishDecoder(dir.decoder!, this.kinds, found); }
    found.dir = pkt.direction;
    let base: usize = 0;
    if (pkt.streamPtr != 0) {
      dir.streamed = true;
      inStream = true;
      const len = pkt.streamLength;
      const end = len < this.depth ? len : this.depth;
      const newStart = len - pkt.streamNew;
      if (newStart < end) {
        // Bytes a DROP kept from the receiver come again with its resend
        // (docs/abi/v1.md section 4): they are new to the receiver, so they
        // are judged again, or the resend would carry the value through.
        const resent = newStart < dir.doneTo;
        let from = resent ? newStart - MAX_PENDING : newStart - OVERLAP;
        if (dir.pending >= 0 && dir.pending < from) from = dir.pending;
        if (from < newStart - MAX_PENDING) from = newStart - MAX_PENDING;
        if (from < 0) from = 0;
        if (resent) dir.doneTo = newStart;
        base = pkt.streamPtr;
        // a gap or the depth means no more bytes: this is the last look
        const last = pkt.streamGap || end >= this.depth;
        const first = found.count;
        scan(base, from, end, resent ? from : dir.doneTo, this.kinds, found, last);
        if (resent) keepEndingAfter(found, first, newStart);
        dir.pending = pendingFrom;
        this.save(dir, base, end, last);
        this.decode(dir, base, newStart, end, last, found);
      }
      dir.seen = end;
    } else if (pkt.payloadLength > 0 && !dir.streamed && dir.seen < this.depth) {
      base = pkt.payloadPtr;
      const room = this.depth - dir.seen;
      scan(base, 0, pkt.payloadLength < room ? pkt.payloadLength : room, 0, this.kinds, found);
      dir.seen += pkt.payloadLength;
    }
    const verdict = this.report(pkt, st, found, inStream);
    // a drop keeps these bytes from the receiver: they come again, and are decoded again from before them
    if (dir.decoder !== null && pkt.streamNew > 0) dir.decoder!.holdCheckpoint = verdict == Verdict.DROP;
    return verdict;
  }

  /** Chunked bodies and quoted-printable undone (stream-decoder.ts): what the raw scan cannot see whole. */
  decode(dir: Direction, base: usize, newStart: i32, end: i32, last: bool, found: Findings): void {
    let dec = dir.decoder;
    if (dec === null) {
      if (dir.undecodable) return;
      const start = decoderStart(base, newStart, end);
      if (start < 0) return;
      dec = newDecoder(start, this.action == Verdict.DROP);
      if (dec === null) return;
      dir.decoder = dec;
    }
    decodePacket(dec, base, newStart, end, last, this.kinds, found);
    if (dec.lost) { recycleDecoder(dec); dir.decoder = null; dir.undecodable = true; }
  }

  report(pkt: Packet, st: DlpFlow, found: Findings, inStream: bool): Verdict {
    let verdict = Verdict.CONTINUE;
    for (let i = 0; i < found.count; i++) {
      const dir = unchecked(found.dirs[i]) != 0 ? st.d1 : st.d0;
      if (inStream && unchecked(found.ends[i]) > dir.doneTo) dir.doneTo = unchecked(found.ends[i]);
      // the cap limits the log, not the action: past it, a drop still drops
      verdict = this.action;
      if (st.alerts >= this.maxAlerts) continue;
      st.alerts++;
      const k = kindIndex(unchecked(found.kinds[i]));
      const meta = new JsonWriter().beginObject()
        .str("type", KIND_NAMES[k])
        .str("redacted", found.redacted[i]);
      if (found.detail[i].length > 0) meta.str(k == 0 ? "brand" : k == 5 ? "alg" : "kind", found.detail[i]);
      meta.num("offset", unchecked(found.starts[i])).flag("in_stream", inStream)
        .str("direction", unchecked(found.dirs[i]) != 0 ? "to_client" : "to_server").str("action", this.actionName).endObject();
      alert(pkt, KIND_SIDS[k], KIND_SEVERITY[k], KIND_MSGS[k], meta.toString());
    }
    if (verdict == Verdict.BLOCK_FLOW || verdict == Verdict.BLOCK_SRC) st.decided = verdict;
    if (verdict == Verdict.BLOCK_SRC) pkt.setBlockTtl(this.blockTtl);
    if (verdict != Verdict.CONTINUE) return verdict;
    if (st.d0.seen >= this.depth && st.d1.seen >= this.depth) {
      st.decided = Verdict.ALLOW_FLOW;
      return Verdict.ALLOW_FLOW;
    }
    return Verdict.CONTINUE;
  }

  /** Keeps [pending, end) of the stream when a candidate was cut off there. */
  save(dir: Direction, base: usize, end: i32, last: bool): void {
    dir.savedLen = 0;
    const n = end - dir.pending;
    if (last || dir.pending < 0 || n <= 0 || n > MAX_PENDING) { release(dir); return; }
    let buf = dir.saved;
    if (buf === null || buf.length < n) {
      release(dir);
      const size = n < 256 ? 256 : n;
      if (savedBytes + size > MAX_SAVED_BYTES) return;
      buf = new Uint8Array(size);
      dir.saved = buf;
      savedBytes += size;
    }
    memory.copy(buf.dataStart, base + <usize>dir.pending, <usize>n);
    dir.savedLen = n;
  }

  /** Judges a direction's saved tail as final; findings get stream offsets. */
  finish(dir: Direction, found: Findings, d: u8): void {
    const at = dir.pending;
    const first = found.count;
    let minStart = dir.doneTo - at;
    if (minStart < 0) minStart = 0;
    found.dir = d;
    scan(dir.saved!.dataStart, 0, dir.savedLen, minStart, this.kinds, found, true);
    for (let i = first; i < found.count; i++) {
      unchecked(found.starts[i] = unchecked(found.starts[i]) + at);
      unchecked(found.ends[i] = unchecked(found.ends[i]) + at);
    }
    release(dir);
    dir.pending = -1;
  }

  onFlowEnd(flowId: u64): void {
    const st = this.flows.get(flowId);
    if (st === null) return;
    release(st.d0);
    release(st.d1);
    if (st.d0.decoder !== null) { recycleDecoder(st.d0.decoder!); st.d0.decoder = null; }
    if (st.d1.decoder !== null) { recycleDecoder(st.d1.decoder!); st.d1.decoder = null; }
  }
}

register(new Dlp());
