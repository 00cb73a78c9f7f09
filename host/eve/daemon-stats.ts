// The daemon's periodic EVE `stats` record, as Suricata writes one every
// `stats.interval` seconds, so that the log pipelines that graph Suricata's
// counters (capture, decoder, flow bypass, detect) graph ours from the same
// file. Counters are totals since the daemon started, as Suricata's are;
// Suricata's names where it has the counter, ours beside them where it has
// none (the kernel's stages, the penalty box, the modules).
import type { DaemonStatus } from '../daemon/daemon.js';
import { eveTimestamp, type EveRecord } from './format.js';

export function daemonStatsRecord(s: DaemonStatus, nowMs: number): EveRecord {
  const sum = (pick: (q: DaemonStatus['queues'][number]) => number): number => s.queues.reduce((n, q) => n + pick(q), 0);
  const k = s.kernel;
  const w = s.writeBack;
  const verdicts: Record<string, number> = {};
  for (const [name, n] of Object.entries(s.verdicts)) verdicts[name.toLowerCase()] = n;
  const modules: Record<string, unknown> = {};
  for (const m of s.modules) {
    modules[m.name] = { packets: m.packets, alerts: m.alerts, traps: m.traps, status: m.status, mean_batch_us: m.meanBatchUs, p99_batch_us: m.p99BatchUs };
  }
  return {
    timestamp: eveTimestamp(Math.floor(nowMs / 1000), (nowMs % 1000) * 1_000_000),
    event_type: 'stats',
    stats: {
      uptime: s.daemon.uptimeSec,
      // Suricata's AF_XDP capture counters: what reached the socket, and what its rings dropped.
      capture: { kernel_packets: k.punt, kernel_drops: s.ringDrops },
      // Every packet XDP saw, most of them decided there without a punt.
      xdp: { packets: k.rx, pass: k.pass, drop: k.drop, invalid: k.invalid, punted: k.punt, punt_fallback: k.puntFallback, pass_all: k.passAll },
      decoder: { pkts: sum((q) => q.packets) },
      // Suricata's bypass counters: flows handed to the kernel's fast path (and
      // ours: tunnelled flows that cannot be, docs/tunnels.md).
      flow_bypassed: { allowed: w.flowsAllowed ?? 0, blocked: w.flowsBlocked ?? 0, capped: w.flowsCapped ?? 0, write_errors: w.writeErrors ?? 0, tunneled_not_offloaded: w.tunneledNotOffloaded ?? 0 },
      flow: { kernel_active: s.maps.flows, kernel_expired: s.maps.expiredFlows, ...(s.engine ? { active: s.engine.flows, evicted: s.engine.flowsEvicted } : {}) },
      penalty: { active: s.maps.penalty, expired: s.maps.expiredPenalty, writes: w.penaltyWrites ?? 0 },
      detect: { alert: s.modules.reduce((n, m) => n + m.alerts, 0) },
      verdicts,
      delivery: { delivered: sum((q) => q.delivered), dropped: sum((q) => q.dropped), send_failed: sum((q) => q.sendFailed) },
      modules,
    },
  };
}
