// ns/packet of the XDP program under BPF_PROG_TEST_RUN for growing rule sets
// (CIDR-only, port-only and mixed), next to xdp-filter on the rules it can
// express, all timed in the same run on the same frames.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KernelTestBench } from '../../host/kernel/testrun.js';
import { SecuxflowError } from '../../host/errors.js';
import { progTestRun } from '../../host/kernel/native.js';
import { buildPacket } from '../../host/packet/build.js';
import { validateRuleSet } from '../../host/rules/parse.js';
import { findXdpFilterObject, loadIpFilter, loadPortFilter } from './xdpfilter.js';

const COUNTS = [1, 10, 100, 1000, 4096];
const REPEAT = Number(process.env.SECUXFLOW_BENCH_REPEAT ?? 1_000_000);
const ROUNDS = 5;
/** Each round runs for about this long, so slow (scanning) cases do not take minutes. */
const ROUND_BUDGET_NS = 40e6;

const XDP_DROP = 1;
const XDP_PASS = 2;

// 198.18.0.0/15 holds 131072 addresses: rule i covers 198.18.x.y with x.y = i + 1.
const addr = (i: number): string => `198.${18 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`;
const addrBytes = (i: number): Uint8Array => Uint8Array.from(addr(i).split('.').map(Number));

interface Measure { ns: number; xdp: number }

function time(progFd: number, frame: Uint8Array): Measure {
  const probe = progTestRun(progFd, frame, 1000);
  const repeat = Math.max(1000, Math.min(REPEAT, Math.floor(ROUND_BUDGET_NS / Math.max(1, probe.durationNs))));
  let best = Infinity;
  let xdp = -1;
  for (let r = 0; r < ROUNDS; r++) {
    const res = progTestRun(progFd, frame, repeat);
    best = Math.min(best, res.durationNs);
    xdp = res.retval;
  }
  return { ns: best, xdp };
}

function expectXdp(what: string, m: Measure, want: number): void {
  if (m.xdp !== want) throw new Error(`${what}: program returned ${m.xdp}, expected ${want}: the rule sets are not equivalent`);
}

type Row = Record<string, number | string | null>;

export async function main(outFile: string): Promise<void> {
  let bench: KernelTestBench;
  try {
    bench = new KernelTestBench();
  } catch (e) {
    // Without root or the built addon there is nothing to time; say so instead of failing the whole bench run.
    const reason = e instanceof SecuxflowError ? `${e.code}: ${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e);
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify({ bench: 'kernel', date: new Date().toISOString(), skipped: reason }, null, 2)}\n`);
    console.log(`kernel bench skipped: ${reason}`);
    return;
  }
  // Frames: a miss (no rule covers it: the scan runs to its end) and a hit on the last rule.
  const miss = buildPacket({ src: '198.19.255.254', dst: '198.18.255.1', proto: 'tcp', srcPort: 40000, dstPort: 9, payload: new Uint8Array(22) });
  const hitFor = (n: number): Uint8Array => buildPacket({ src: addr(n), dst: '198.18.255.1', proto: 'tcp', srcPort: 40000, dstPort: 1000 + n, payload: new Uint8Array(22) });

  const ipObj = findXdpFilterObject('xdpfilt_alw_ip');
  const tcpObj = findXdpFilterObject('xdpfilt_alw_tcp');
  const rows: Row[] = [];
  try {
    for (const n of COUNTS) {
      const row: Row = { rules: n };
      const hit = hitFor(n);

      // CIDR-only: n source /32 rules (what `xdp-filter ip ADDR -m src` expresses).
      bench.setRules(validateRuleSet({ rules: Array.from({ length: n }, (_, i) => ({ id: i + 1, src: addr(i + 1), action: 'drop' })) }, 'bench'));
      const cMiss = time(bench.progFd, miss);
      const cHit = time(bench.progFd, hit);
      expectXdp('cidr miss', cMiss, XDP_PASS);
      expectXdp('cidr hit', cHit, XDP_DROP);
      row.cidrMissNs = cMiss.ns;
      row.cidrHitNs = cHit.ns;

      // Port-only: n TCP destination-port rules (`xdp-filter port P -p tcp -m dst`).
      bench.setRules(validateRuleSet({ rules: Array.from({ length: n }, (_, i) => ({ id: i + 1, proto: 'tcp', dst_port: 1001 + i, action: 'drop' })) }, 'bench'));
      const pMiss = time(bench.progFd, miss);
      const pHit = time(bench.progFd, hit);
      expectXdp('port miss', pMiss, XDP_PASS);
      expectXdp('port hit', pHit, XDP_DROP);
      row.portMissNs = pMiss.ns;
      row.portHitNs = pHit.ns;

      // Mixed: half CIDR-only, half general rules (src CIDR + port + proto), the general ones scanned.
      const mixed = Array.from({ length: n }, (_, i) => (i % 2 === 0
        ? { id: i + 1, src: `${addr(i + 1)}/32`, action: 'drop' }
        : { id: i + 1, src: `${addr(i + 1)}/32`, proto: 'tcp', dst_port: 1001 + i, action: 'drop' }));
      bench.setRules(validateRuleSet({ rules: mixed }, 'bench'));
      const mMiss = time(bench.progFd, miss);
      expectXdp('mixed miss', mMiss, XDP_PASS);
      row.mixedMissNs = mMiss.ns;

      if (ipObj) {
        const f = loadIpFilter(ipObj, Array.from({ length: n }, (_, i) => addrBytes(i + 1)));
        try {
          const fm = time(f.progFd, miss);
          const fh = time(f.progFd, hit);
          expectXdp('xdp-filter ip miss', fm, XDP_PASS);
          expectXdp('xdp-filter ip hit', fh, XDP_DROP);
          row.xdpFilterIpMissNs = fm.ns;
          row.xdpFilterIpHitNs = fh.ns;
          row.ratioCidrVsXdpFilterMiss = +(cMiss.ns / fm.ns).toFixed(2);
          row.ratioCidrVsXdpFilterHit = +(cHit.ns / fh.ns).toFixed(2);
        } finally {
          f.close();
        }
      }
      if (tcpObj) {
        const f = loadPortFilter(tcpObj, Array.from({ length: n }, (_, i) => 1001 + i));
        try {
          const fm = time(f.progFd, miss);
          const fh = time(f.progFd, hit);
          expectXdp('xdp-filter port miss', fm, XDP_PASS);
          expectXdp('xdp-filter port hit', fh, XDP_DROP);
          row.xdpFilterPortMissNs = fm.ns;
          row.xdpFilterPortHitNs = fh.ns;
          row.ratioPortVsXdpFilterMiss = +(pMiss.ns / fm.ns).toFixed(2);
          row.ratioPortVsXdpFilterHit = +(pHit.ns / fh.ns).toFixed(2);
        } finally {
          f.close();
        }
      }
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    bench.close();
  }

  const base = rows[0]!.mixedMissNs as number;
  const growth = rows.find((r) => (r.mixedMissNs as number) > base * 1.5);
  const cidr = rows.map((r) => r.cidrMissNs as number);
  const summary = {
    cidrOnlyFlat: Math.max(...cidr) <= Math.min(...cidr) * 1.25,
    cidrOnlySpreadNs: Math.max(...cidr) - Math.min(...cidr),
    mixedScanGrowsFrom: growth ? growth.rules : null,
    xdpFilterObjects: { ip: ipObj, tcp: tcpObj },
  };
  const result = { bench: 'kernel', date: new Date().toISOString(), maxRepeat: REPEAT, rounds: ROUNDS, unit: 'ns/packet (best of rounds; each round a kernel-measured mean over up to maxRepeat runs, ~40 ms)', rows, summary };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(summary));
  console.log(`wrote ${outFile}`);
}
