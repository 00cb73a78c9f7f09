// The daemon's periodic EVE stats record: Suricata's counter names where it
// has them, from the daemon's status, summed over queues and modules; and the
// config key that sets how often (Suricata's stats.interval, 8 s).
import { describe, expect, it } from 'vitest';
import { daemonStatsRecord } from '../../../host/eve/daemon-stats.js';
import type { DaemonStatus } from '../../../host/daemon/daemon.js';
import { DEFAULT_EVE_TYPES, loadDaemonConfig, parseDaemonConfig } from '../../../host/daemon/config.js';
import { SecuxflowError } from '../../../host/errors.js';
import { validStatus } from '../control/fake-daemon.js';

describe('EVE stats records of the daemon', () => {
  it('maps the status onto Suricata\'s stats counters, queues and modules added up', () => {
    const base = validStatus() as unknown as DaemonStatus;
    const q = base.queues[0]!;
    const s: DaemonStatus = {
      ...base,
      daemon: { ...base.daemon, uptimeSec: 42 },
      queues: [{ ...q, packets: 70, delivered: 60, dropped: 9, sendFailed: 1 }, { ...q, queue: 1, packets: 30, delivered: 25, dropped: 5, sendFailed: 0 }],
      kernel: { ...base.kernel, rx: 1000, punt: 100, pass: 850, drop: 50, invalid: 2, puntFallback: 3, passAll: false },
      ringDrops: 4,
      verdicts: { CONTINUE: 80, PASS: 5, ALLOW_FLOW: 3, DROP: 2, BLOCK_FLOW: 6, BLOCK_SRC: 4 },
      writeBack: { flowsAllowed: 3, flowsBlocked: 10, flowsCapped: 1, penaltyWrites: 4, rewrites: 0, writeErrors: 0 },
      maps: { ...base.maps, flows: 26, expiredFlows: 7, penalty: 1, expiredPenalty: 2 },
      modules: [
        { ...base.modules[0]!, name: 'http_waf', packets: 90, alerts: 5, traps: 0, status: 'ok', meanBatchUs: 12, p99BatchUs: 40 },
        { ...base.modules[0]!, name: 'scan_flood', packets: 10, alerts: 7, traps: 1, status: 'ok', meanBatchUs: 3, p99BatchUs: 9 },
      ],
    };
    const r = daemonStatsRecord(s, Date.UTC(2026, 10, 23, 12, 0, 0, 250));
    expect(r.timestamp).toBe('2026-11-23T12:00:00.250000+0000');
    expect(r.event_type).toBe('stats');
    expect(r.stats).toMatchObject({
      uptime: 42,
      capture: { kernel_packets: 100, kernel_drops: 4 },
      xdp: { packets: 1000, pass: 850, drop: 50, invalid: 2, punted: 100, punt_fallback: 3, pass_all: false },
      decoder: { pkts: 100 },
      flow_bypassed: { allowed: 3, blocked: 10, capped: 1, write_errors: 0 },
      flow: { kernel_active: 26, kernel_expired: 7 },
      penalty: { active: 1, expired: 2, writes: 4 },
      detect: { alert: 12 },
      verdicts: { continue: 80, pass: 5, allow_flow: 3, drop: 2, block_flow: 6, block_src: 4 },
      delivery: { delivered: 85, dropped: 14, send_failed: 1 },
      modules: { http_waf: { packets: 90, alerts: 5, traps: 0 }, scan_flood: { packets: 10, alerts: 7, traps: 1 } },
    });
  });

  it('comes every 8 s by default, is one of the default EVE types, and stats_interval sets it (0: none)', () => {
    expect(loadDaemonConfig(undefined).statsIntervalSec).toBe(8);
    expect(DEFAULT_EVE_TYPES).toContain('stats');
    expect(parseDaemonConfig('stats_interval: 0', null).statsIntervalSec).toBe(0);
    expect(parseDaemonConfig('stats_interval: 60', null).statsIntervalSec).toBe(60);
    for (const bad of ['stats_interval: -1', 'stats_interval: 3601', 'stats_interval: 1.5', 'stats_interval: soon']) {
      expect(() => parseDaemonConfig(bad, null), bad).toThrow(SecuxflowError);
    }
    expect(() => parseDaemonConfig('stats_interval: -1', null)).toThrow(/stats_interval: must be an integer in 0\.\.3600/);
  });
});
