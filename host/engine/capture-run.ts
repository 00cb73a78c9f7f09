// Runs a capture file through the engine: EVE output, dropped-packet capture,
// progress, and a summary. The CLI's `inspect --pcap` is a thin layer on this.
import { closeSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import { openCapture } from '../capture/reader.js';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';
import { LinkType } from '../packet/types.js';
import { EveWriter } from '../eve/writer.js';
import { statsRecord } from '../eve/format.js';
import { FlowEveRecords } from '../eve/flow-events.js';
import type { RuleSet } from '../rules/types.js';
import { Engine, decodeFrame, type EngineModule } from './engine.js';
import { DroppedWriter } from './dropped-writer.js';
import { refuseOutputClashes } from './output-paths.js';
import { isFifo, withFifosHeld } from './fifo-output.js';
import type { PacketFilter } from '../capture/filter.js';
import type { EngineCounters, PacketDecision } from './types.js';

export interface CaptureRunOptions {
  pcap: string;
  rules: RuleSet;
  modules: EngineModule[];
  /** EVE JSON target: a path or '-' for stdout. */
  eve?: string;
  /** Writes every dropped frame to this file (.pcapng keeps mixed link types), or '-' for a pcap on stdout. */
  writeDropped?: string;
  /** Called with (bytesRead, totalBytes) at most every ~100 ms. */
  onProgress?: (done: number, total: number) => void;
  onDecision?: (d: PacketDecision) => void;
  /** An output is a named pipe no reader has opened yet: the run waits for one. */
  onWaitingForReader?: (flag: string, path: string) => void;
  /** Only packets it passes are read (inspect --filter): the others are counted in filteredOut and nothing else sees them. */
  filter?: PacketFilter;
  /** In-order TCP bytes kept per direction (the engine's default when absent). */
  streamDepth?: number;
  /** Bytes all stream buffers may hold together (the engine's default when absent). */
  streamMemcap?: number;
  /** CIDRs no BLOCK_SRC puts in the penalty box (never-block.ts). */
  neverBlock?: readonly string[];
}

export interface CaptureRunResult {
  counters: EngineCounters;
  elapsedSec: number;
  packetsPerSec: number;
  format: string;
  eveRecords: number;
  droppedWritten: number;
  /** Dropped frames left out of a .pcap output because their link type differs from its first frame's. */
  droppedSkipped: number;
  /** Classic pcap records whose timestamp fraction was a second or more, read with the seconds carried over. */
  timestampsOutOfRange: number;
  /** Frames per link type the decoder does not know (they count as malformed). */
  unsupportedLinkTypes: Map<number, number>;
  /** Frames the filter left out (0 without one). */
  filteredOut: number;
  /** Set when the capture was corrupt part-way: everything before it was processed. */
  error: Error | null;
}

const KNOWN_LINK_TYPES: ReadonlySet<number> = new Set(Object.values(LinkType));

export async function runCapture(opts: CaptureRunOptions): Promise<CaptureRunResult> {
  const reader = openCapture(opts.pcap);
  const outputs = [
    ...(opts.eve !== undefined ? [{ flag: '--eve', path: opts.eve }] : []),
    ...(opts.writeDropped !== undefined ? [{ flag: '--write-dropped', path: opts.writeDropped }] : []),
  ];
  refuseOutputClashes({ flag: '--pcap', path: opts.pcap }, outputs);
  const { eve, dropped } = withFifosHeld(outputs, (flag, path) => opts.onWaitingForReader?.(flag, path), () => {
    // Opening an output truncates or creates it: when a later one cannot be
    // opened, the earlier one would be left empty (or emptied) by a run that
    // never started. So every output is tried, without truncating, first.
    // The messages are the writers' own, so one failure reads the same either way.
    if (opts.eve !== undefined) probeOutput(opts.eve, `cannot write EVE output ${opts.eve}`);
    if (opts.writeDropped !== undefined) probeOutput(opts.writeDropped, `--write-dropped: cannot create capture file '${opts.writeDropped}'`);
    const eveWriter = opts.eve !== undefined ? new EveWriter(opts.eve) : null;
    try {
      // Opened now, so a path that cannot be written fails before the run, not at the first drop.
      return { eve: eveWriter, dropped: opts.writeDropped !== undefined ? new DroppedWriter(opts.writeDropped) : null };
    } catch (e) {
      eveWriter?.close();
      throw e;
    }
  });
  const records = new FlowEveRecords();
  let lastTs = 0;

  const onDecision = (d: PacketDecision): void => {
    opts.onDecision?.(d);
    if (d.dropped && dropped !== null) {
      for (const src of d.sources) dropped.write(src);
    }
    if (eve === null) return;
    // Suricata's pcap_cnt: the frame that brought the decision (a datagram's last fragment), for Wireshark's "go to packet".
    const frameNumber = d.sources.length > 0 ? d.sources[d.sources.length - 1]!.frameNumber : 0;
    records.decision(d, (rec) => {
      if (frameNumber > 0) rec.pcap_cnt = frameNumber;
      eve.write(rec);
    });
  };

  const engine = new Engine({
    rules: opts.rules,
    modules: opts.modules,
    // As Suricata reads capture files: validated, unless the capture shows offloaded checksums.
    checksums: 'auto',
    ...(opts.streamDepth !== undefined ? { streamDepth: opts.streamDepth } : {}),
    ...(opts.streamMemcap !== undefined ? { streamMemcap: opts.streamMemcap } : {}),
    ...(opts.neverBlock !== undefined ? { neverBlock: opts.neverBlock } : {}),
    onDecision,
    onFlowEnd: (r) => {
      lastTs = Math.max(lastTs, r.flow.last);
      if (eve) eve.write(records.flowEnded(r));
    },
    onFlowOutput: (o) => {
      if (eve) records.flowOutput(o, (rec) => eve.write(rec));
    },
  });

  const started = process.hrtime.bigint();
  let error: Error | null = null;
  let lastProgress = 0;
  const unsupported = new Map<number, number>();
  let lastKnownLink = -1;
  const filter = opts.filter;
  let filteredOut = 0;
  try {
    let n = 0;
    let frameNumber = 0;
    for (const frame of reader.frames()) {
      frameNumber++;
      // A capture holds one link type or a few: frames of the last known one cost one compare.
      if (frame.linkType !== lastKnownLink) {
        if (KNOWN_LINK_TYPES.has(frame.linkType)) lastKnownLink = frame.linkType;
        else unsupported.set(frame.linkType, (unsupported.get(frame.linkType) ?? 0) + 1);
      }
      const pkt = decodeFrame(frame);
      pkt.frameNumber = frameNumber;
      if (filter === undefined || filter(pkt)) engine.pushDecoded(pkt);
      else filteredOut++;
      const t = frame.tsSec + frame.tsNsec / 1e9;
      if (t > lastTs) lastTs = t;
      if (opts.onProgress && (++n & 1023) === 0) {
        const now = Date.now();
        if (now - lastProgress > 100) {
          lastProgress = now;
          opts.onProgress(reader.bytesRead, reader.totalBytes);
        }
      }
    }
  } catch (e) {
    error = e as Error;
  }
  const counters = engine.finish();
  const elapsedSec = Number(process.hrtime.bigint() - started) / 1e9;
  opts.onProgress?.(reader.bytesRead, reader.totalBytes);
  // An output that failed part-way (a full disk) is the run's error when the capture itself was fine.
  try {
    if (eve) {
      eve.write(statsRecord(counters, lastTs, elapsedSec, { timestampsOutOfRange: reader.timestampsOutOfRange }));
      eve.close();
    }
  } catch (e) {
    error ??= e as Error;
  }
  try {
    dropped?.close();
  } catch (e) {
    error ??= e as Error;
  }
  return {
    counters,
    elapsedSec,
    packetsPerSec: elapsedSec > 0 ? counters.packetsRead / elapsedSec : 0,
    format: reader.format,
    eveRecords: eve?.count ?? 0,
    droppedWritten: dropped?.written ?? 0,
    droppedSkipped: dropped?.skipped ?? 0,
    timestampsOutOfRange: reader.timestampsOutOfRange,
    unsupportedLinkTypes: unsupported,
    filteredOut,
    error,
  };
}

function probeOutput(path: string, problem: string): void {
  if (path === '-' || isFifo(path)) return;
  // lstat, not exists: a dangling symlink is the user's and must not be unlinked.
  let existed = true;
  try { lstatSync(path); } catch { existed = false; }
  try {
    closeSync(openSync(path, 'a'));
  } catch (e) {
    throw new SecuxflowError('E_IO', printable(`${problem}: ${(e as Error).message}`),
      'check that the directory exists and is writable; no output was written');
  }
  if (!existed) unlinkSync(path);
}
