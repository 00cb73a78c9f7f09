// Horizontal scans (sweeps): one port probed over many hosts, as worms and
// `nmap -p445 10.0.2.0/24` or masscan do. The count is of distinct
// destination addresses per (source, port, protocol) that did not answer: a
// completed handshake or a UDP reply settles its destination, so a browser or a NAT'd
// office talking to hundreds of web servers on 443 keeps only its SYNs still
// in flight and its failed connections in the count, while a sweep, which
// meets mostly empty addresses, closed ports and firewalls, climbs with
// every host it tries.
import { mix64 } from "../sdk/lib";
import { DistinctCounter } from "./distinct";

export const SWEEP_TCP: u64 = 6;
export const SWEEP_UDP: u64 = 17;

/** Sets sweep keys apart from every other key this module hashes. */
const SWEEP_TAG: u64 = 0x5357;

export class SweepCounter {
  private hosts: DistinctCounter;

  /** A quarter of the per-window counters' keys and pairs: memory stays in the module's 16 MiB, and a prober hits its key again and again, which keeps it (keyslots.ts) while one-off keys are evicted. */
  constructor(windowNs: i64, capacity: i32) {
    this.hosts = new DistinctCounter(windowNs, capacity * 2, capacity >> 2);
  }

  /** A probe from src to dst:port; returns the distinct unanswered destinations src probed on that port in the window. */
  probe(src: u64, dst: u64, port: u16, proto: u64, nowNs: i64): i64 {
    return this.hosts.add(sweepKey(src, port, proto), foldAddress(dst), nowNs);
  }

  /** dst answered src on port: it no longer counts. */
  answered(src: u64, dst: u64, port: u16, proto: u64, nowNs: i64): void {
    this.hosts.settle(sweepKey(src, port, proto), foldAddress(dst), nowNs);
  }
}

@inline function sweepKey(src: u64, port: u16, proto: u64): u64 {
  return mix64(src ^ mix64(<u64>port | (proto << 16) | (SWEEP_TAG << 32)));
}

// Two destinations colliding in 32 bits count once: one in four billion,
// against the per-window count of a few dozen.
@inline function foldAddress(addr: u64): u32 {
  const m = mix64(addr);
  return <u32>(m ^ (m >> 32));
}
