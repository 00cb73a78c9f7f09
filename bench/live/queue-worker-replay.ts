// For profiling (node --cpu-prof) the queue thread's per-packet work without
// a kernel (queue-replay.ts):
//   node dist/bench-queue-replay.js [packets] [batch] [flows] [none: no module] [random: flows in random order]
import { replayQueueWorker } from './queue-replay.js';

const r = await replayQueueWorker({
  packets: Number(process.argv[2] ?? 2_000_000),
  batch: Number(process.argv[3] ?? 32),
  flows: Number(process.argv[4] ?? 60_000),
  module: process.argv[5] !== 'none',
  random: process.argv[6] === 'random',
});
console.log(JSON.stringify(r));
