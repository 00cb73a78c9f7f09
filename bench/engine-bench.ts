// Engine benchmark: the whole offline pipeline on a mixed capture, a module on
// packets already in WASM memory, and a plain TypeScript check as the baseline,
// the daemon's queue work under a flood of new flows, all in one process so
// the ratios hold on a noisy machine.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../host/capture/writer.js';
import { runCapture } from '../host/engine/capture-run.js';
import { loadModules } from '../host/engine/setup.js';
import { decodePacket } from '../host/packet/decode.js';
import type { RawFrame } from '../host/capture/types.js';
import { FlowTable } from '../host/flow/table.js';
import { makeMixedFrames } from './mixed-capture.js';
import { moduleOnlyBench } from './module-bench.js';
import { replayQueueWorker } from './live/queue-replay.js';
import { median } from './stats.js';

/** "IPv4 TCP dst port 80" in plain TypeScript over raw Ethernet frames. */
function tsPort80(frames: Uint8Array[]): number {
  let hits = 0;
  for (let i = 0; i < frames.length; i++) {
    const d = frames[i]!;
    if (d.length < 34 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 6) continue;
    const l4 = 14 + (d[14]! & 0x0f) * 4;
    if (l4 + 4 > d.length) continue;
    if (((d[l4 + 2]! << 8) | d[l4 + 3]!) === 80) hits++;
  }
  return hits;
}

/** CPU time (user+system) in ns: steadier than wall time on a shared machine. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function nsPerPacket(n: number, fn: () => void, rounds = 5): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = cpuNs();
    fn();
    times.push((cpuNs() - t) / n);
  }
  return median(times);
}

export async function engineBench(packets = 200_000): Promise<Record<string, unknown>> {
  const frames: RawFrame[] = makeMixedFrames(packets);
  const dir = mkdtempSync(join(tmpdir(), 'sf-bench-'));
  try {
    const pcap = join(dir, 'mixed.pcap');
    const w = new PcapWriter({ path: pcap, nanosecond: true });
    for (const f of frames) w.write(f);
    w.close();

    const raw = frames.map((f) => f.data);
    let sink = 0;
    const tsNs = nsPerPacket(raw.length, () => { sink += tsPort80(raw); });
    const decodeNs = nsPerPacket(raw.length, () => { for (const f of frames) sink += decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec).l4Offset; });
    const flowNs = nsPerPacket(raw.length, () => {
      const table = new FlowTable();
      for (const f of frames) table.track(decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec));
    }, 3);

    const pipeline: number[] = [];
    let alerts = 0;
    const sandboxed: number[] = [];
    const noModule: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const unsafeInThread of [true, false]) {
        const modules = await loadModules(['basic_inspect'], { unsafeInThread });
        const t = cpuNs();
        const res = await runCapture({ pcap, rules: { defaultPolicy: 'inspect', rules: [] }, modules });
        const ns = (cpuNs() - t) / res.counters.packetsRead;
        if (res.error) throw res.error;
        (unsafeInThread ? pipeline : sandboxed).push(ns);
        alerts = res.counters.alerts;
        for (const m of modules) (m.instance as { close?: () => void }).close?.();
      }
    }
    // The same run with no module: what basic_inspect adds is the difference.
    for (let r = 0; r < 3; r++) {
      const t = cpuNs();
      const res = await runCapture({ pcap, rules: { defaultPolicy: 'inspect', rules: [] }, modules: [] });
      if (res.error) throw res.error;
      noModule.push((cpuNs() - t) / res.counters.packetsRead);
    }
    const pipelineNs = median(pipeline);
    const sandboxedNs = median(sandboxed);
    const moduleOnly = await moduleOnlyBench(pcap);
    const flood = await floodBench();
    if (sink === 42) console.log('');
    return {
      packets: frames.length,
      timing: 'process CPU time (user+system), median of rounds',
      pipeline_ns_per_packet: round(pipelineNs),
      pipeline_packets_per_sec: Math.round(1e9 / pipelineNs),
      pipeline_sandboxed_ns_per_packet: round(sandboxedNs),
      ratio_sandboxed_vs_in_thread_pipeline: round(sandboxedNs / pipelineNs),
      pipeline_alerts: alerts,
      decode_ns_per_packet: round(decodeNs),
      decode_plus_flow_ns_per_packet: round(flowNs),
      ...moduleOnly,
      pipeline_no_module_ns_per_packet: round(median(noModule)),
      basic_inspect_added_to_pipeline_ns_per_packet: round(pipelineNs - median(noModule)),
      ts_port80_baseline_ns_per_packet: round(tsNs),
      ratio_pipeline_vs_ts_baseline: round(pipelineNs / tsNs),
      ratio_basic_inspect_vs_ts_baseline: round((moduleOnly.basic_inspect_in_wasm_ns_per_packet as number) / tsNs),
      ratio_basic_inspect_vs_wasm_trivial_check: round((moduleOnly.basic_inspect_in_wasm_ns_per_packet as number) / (moduleOnly.wasm_port80_in_wasm_ns_per_packet as number)),
      ...flood,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A flood of new flows against the daemon's queue work (no kernel): 200,000
 * flows in turn, more than the flow table's 65,536, so every packet opens a
 * flow, evicts the oldest and writes its EVE flow record; against the same
 * replay over 60,000 flows the table holds, in the same run. basic_inspect
 * as the daemon runs it.
 */
async function floodBench(): Promise<Record<string, number>> {
  const known = await replayQueueWorker({ packets: 200_000, batch: 5, flows: 60_000, module: true });
  const flood = await replayQueueWorker({ packets: 200_000, batch: 5, flows: 200_000, module: true });
  const failures = (flood.counters.moduleFailures as number) + (known.counters.moduleFailures as number);
  if (failures > 0) throw new Error(`the flood replay had ${failures} failed module calls: a module ran out of memory or trapped`);
  const k = median(known.ns_per_packet), f = median(flood.ns_per_packet);
  return {
    queue_known_flows_ns_per_packet: k,
    queue_flood_new_flows_ns_per_packet: f,
    queue_flood_new_flows_per_sec: Math.round(1e9 / f),
    ratio_flood_vs_known_flows: round(f / k),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[2]) {
  const out = await engineBench(Number(process.argv[3] ?? 200_000));
  writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
}
