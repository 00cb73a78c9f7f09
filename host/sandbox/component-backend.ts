import { SecuxflowError } from '../errors.js';
import type { WorkerInit } from './protocol.js';
import type { BatchSink, WorkerBackend } from './worker-backend.js';

export class ComponentBackend {
  static async create(init: WorkerInit, _logs: BatchSink['logs']): Promise<WorkerBackend> {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${init.name} is a component; not supported yet`);
  }
}
