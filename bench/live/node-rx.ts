// The Node receive path as the benchmark runs it (started by live-bench.ts
// inside the receiver namespace): one XskSocket, woken by its uv_poll
// watcher, draining batches of 64 with receive() straight into a WebAssembly
// memory, touching each frame's last byte as the C receiver does, and with
// --deliver handing each batch to the host's stack through the delivery TAP.
// Prints "ready", then one JSON line like bench/live/xsk_receiver.c.
import { openXsk } from '../../host/kernel/xsk.js';
import { openDelivery, type Delivery } from '../../host/kernel/delivery.js';

export interface NodeRxArgs {
  ifname: string;
  pin: string;
  count: number;
  idleMs: number;
  seconds: number;
  /** Ring size (the UMEM gets twice as many frames), the same as the C receiver's -R. */
  ringSize: number;
  /** Also hand every batch to the local stack through the host-mode delivery TAP. */
  deliver: boolean;
}

const BATCH = 64;

export function runNodeReceiver(a: NodeRxArgs): void {
  const sock = openXsk({ ifname: a.ifname, queue: 0, bindMode: 'copy', xsksMapPin: a.pin, ringSize: a.ringSize, frameCount: 2 * a.ringSize });
  const memory = new WebAssembly.Memory({ initial: 4 * 16 }); // 4 MiB: a module's memory
  const into = new Uint8Array(memory.buffer, 65536, BATCH * 2048);
  const descs = new Uint32Array(2 * BATCH);
  const delivery: Delivery | null = a.deliver ? openDelivery({ ifname: a.ifname }) : null;
  let got = 0;
  let bytes = 0;
  let checksum = 0;
  let first = 0n;
  let last = 0n;
  const start = process.hrtime.bigint();
  process.stdout.write('ready\n');
  const cpu0 = process.cpuUsage();

  let ticker: NodeJS.Timeout | null = null;
  const finish = (): void => {
    if (ticker) clearInterval(ticker);
    const cpu = process.cpuUsage(cpu0);
    const st = sock.stats();
    sock.close();
    delivery?.close();
    process.stdout.write(
      `${JSON.stringify({
        received: got,
        bytes,
        active_ns: Number(last - first),
        elapsed_ns: Number(process.hrtime.bigint() - start),
        cpu_ns: (cpu.user + cpu.system) * 1000,
        wakeups: st.wakeups,
        rx_dropped: st.rxDropped,
        rx_ring_full: st.rxRingFull,
        fill_ring_empty: st.fillRingEmpty,
        checksum,
      })}\n`,
      () => process.exit(0),
    );
  };

  sock.onReadable(() => {
    for (;;) {
      const n = sock.receive(into, descs, BATCH);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const len = descs[2 * i + 1]!;
        checksum += into[descs[2 * i]! + len - 1]!;
        bytes += len;
      }
      if (delivery) delivery.deliver(into, descs, n);
      got += n;
      last = process.hrtime.bigint();
      if (first === 0n) first = last;
      if (a.count > 0 && got >= a.count) return finish();
    }
  });
  if (a.count === 0) {
    // Idle measurement: nothing but the socket's watcher and one timer, as in a quiet daemon.
    setTimeout(finish, a.seconds * 1000);
    return;
  }
  // Exit conditions checked ten times a second: count reached (above), idle after traffic, or wall time.
  const deadline = start + BigInt(Math.round(a.seconds * 1e9));
  ticker = setInterval(() => {
    const now = process.hrtime.bigint();
    if (now > deadline || (first !== 0n && now - last > BigInt(a.idleMs) * 1_000_000n)) finish();
  }, 100);
}
