// `secuxflow run`: the live daemon in the foreground (host/daemon/daemon.ts).
// Also registers the hidden command the daemon's per-queue worker threads
// start through when secuxflow runs from its bundle.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { parentPort, workerData, isMainThread } from 'node:worker_threads';
import { action } from '../action.js';
import { SecuxflowError } from '../../host/errors.js';
import { assertIfaceName } from '../../host/kernel/ifname.js';
import type { XdpMode } from '../../host/kernel/native.js';
import type { XskBindMode } from '../../host/kernel/xsk.js';
import { Daemon, type RunOptions } from '../../host/daemon/daemon.js';
import { WORKER_COMMAND } from '../../host/daemon/worker-entry.js';
import { runQueueThread } from '../../host/daemon/queue-thread.js';
import type { QueueThreadInit } from '../../host/daemon/thread-protocol.js';

export interface RunCommandOptions {
  iface?: string;
  peer?: string;
  mode?: string;
  bind?: string;
  queues?: string;
  config?: string;
  stateDir?: string;
  eve?: string;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SecuxflowError('E_USAGE', `${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, `use ${flag} ${allowed.join('|')}`);
}

/** Checks the flags and turns them into daemon options (no side effects). */
export function runOptions(opts: RunCommandOptions): RunOptions {
  if (typeof opts.iface !== 'string' || opts.iface === '') {
    throw new SecuxflowError('E_USAGE', '--iface is required', 'name the interface to protect, e.g. --iface eth0 (list them with: ip -br link)');
  }
  assertIfaceName(opts.iface);
  if (opts.peer !== undefined) {
    assertIfaceName(opts.peer, '--peer');
    if (opts.peer === opts.iface) throw new SecuxflowError('E_USAGE', '--peer must be another interface than --iface', 'inline mode bridges two interfaces');
  }
  let queues: number | undefined;
  if (opts.queues !== undefined) {
    // Digits only: Number() would also take ' 1', '1e0' and '0x2'.
    queues = /^[0-9]{1,3}$/.test(opts.queues) ? Number(opts.queues) : NaN;
    if (!Number.isInteger(queues) || queues < 1 || queues > 64) throw new SecuxflowError('E_USAGE', `--queues ${JSON.stringify(opts.queues)} must be an integer in 1..64`);
  }
  if (opts.eve === '') throw new SecuxflowError('E_USAGE', '--eve needs a file name', 'leave it out to write <state-dir>/eve.json');
  if (opts.config === '') throw new SecuxflowError('E_USAGE', '--config needs a file name', 'leave it out to run with the built-in defaults (docs/live.md, The config file)');
  return {
    iface: opts.iface,
    ...(opts.peer !== undefined ? { peer: opts.peer } : {}),
    mode: oneOf<XdpMode>('--mode', opts.mode, ['native', 'skb', 'auto'], 'auto'),
    bindMode: oneOf<XskBindMode>('--bind', opts.bind, ['copy', 'zerocopy', 'auto'], 'auto'),
    ...(queues !== undefined ? { queues } : {}),
    ...(opts.config !== undefined ? { configPath: opts.config } : {}),
    ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
    // Absolute, as status reports it: `alerts` run from another directory reads the daemon's file, not one of its own.
    ...(opts.eve !== undefined ? { eve: resolve(opts.eve) } : {}),
  };
}

export async function runCommand(opts: RunCommandOptions): Promise<void> {
  const daemon = await Daemon.start({ ...runOptions(opts), signals: true });
  await daemon.stopped;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the live daemon in the foreground: attach, inspect punted packets over AF_XDP, write verdicts into XDP maps')
    .option('--iface <name>', 'interface to protect (required)')
    .option('--peer <name>', 'inline mode: the second interface; passed packets are sent on it')
    .option('--mode <mode>', 'XDP mode: native, skb or auto', 'auto')
    .option('--bind <mode>', 'AF_XDP bind mode: copy, zerocopy or auto', 'auto')
    .option('--queues <n>', 'RX queues to read (one worker thread each); default: all of the interface')
    .option('--config <file>', 'daemon config file (JSON or YAML, see docs/live.md)')
    .option('--eve <file>', 'EVE JSON output (default <state-dir>/eve.json)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('run', (o: RunCommandOptions) => runCommand(o)));

  program
    .command(WORKER_COMMAND, { hidden: true })
    .description('internal: a daemon queue worker thread')
    .action(async () => {
      if (isMainThread || !parentPort) {
        process.stderr.write(`secuxflow ${WORKER_COMMAND}: internal command, started by secuxflow run\n`);
        process.exitCode = 2;
        return;
      }
      await runQueueThread(workerData as QueueThreadInit, parentPort);
    });
}
