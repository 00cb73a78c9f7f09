// Gate for tests that need the real kernel: root, a mounted bpffs, the built
// addon and XDP object. In CI a missing capability FAILS the file (the throw
// at import/describe time); elsewhere the tests skip and say why.
import { existsSync } from 'node:fs';
import { defaultObjectPath, isBpffs, nativeAvailable } from '../../../host/kernel/native.js';
import { KernelTestBench } from '../../../host/kernel/testrun.js';

export interface KernelGate {
  skip: boolean;
  reason: string;
}

function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root (run the kernel tests with sudo)';
  if (!nativeAvailable()) return 'native addon not built (npm run build:native)';
  if (!existsSync(defaultObjectPath())) return 'XDP object not built (npm run build:native)';
  if (!isBpffs('/sys/fs/bpf')) return 'bpffs not mounted (mount -t bpf bpf /sys/fs/bpf)';
  return null;
}

let gate: KernelGate | null = null;

/** Use as `const k = requireKernel(); describe.skipIf(k.skip)(...)`. */
export function requireKernel(): KernelGate {
  if (gate) return gate;
  const why = missing();
  if (why && process.env.CI === 'true') {
    throw new Error(`kernel tests cannot run in CI: ${why}`);
  }
  if (why) process.stderr.write(`[kernel tests skipped] ${why}\n`);
  gate = { skip: why !== null, reason: why ?? '' };
  return gate;
}

/** A name unique to this process and test file, for pins, links and namespaces. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(0, 15);
}

/**
 * A test bench on the built XDP object, or on SECUXFLOW_XDP_OBJECT when set:
 * that is how the comparison tests are run against deliberately broken
 * builds (mutation checks). Punts fall back to pass, as no socket is bound.
 */
export function benchUnderTest(): KernelTestBench {
  const objectPath = process.env.SECUXFLOW_XDP_OBJECT;
  const bench = new KernelTestBench(objectPath ? { objectPath } : {});
  bench.setPuntFallback('open');
  return bench;
}
