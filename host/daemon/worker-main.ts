// Entry of a per-queue worker_thread when the daemon runs from its sources
// (the CLI bundle runs the same function through a hidden command).
import { parentPort, workerData } from 'node:worker_threads';
import { runQueueThread } from './queue-thread.js';
import type { QueueThreadInit } from './thread-protocol.js';

if (parentPort) await runQueueThread(workerData as QueueThreadInit, parentPort);
