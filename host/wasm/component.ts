// Component-model inspectors (placeholder, replaced below in this session).
import { SecuxflowError } from '../errors.js';
import type { BatchOutput, InspectItem, InspectorOptions } from './types.js';

export interface CompiledComponent {
  name: string;
  sha256: string;
  entry: string;
  abiVersion: number;
}

export async function compileComponent(name: string, _bytes: Uint8Array, _sha: string): Promise<CompiledComponent> {
  throw new SecuxflowError('E_MODULE_INVALID', `module ${name} is a component; not supported yet`);
}

export class ComponentInspector {
  readonly memoryBytes = 0;
  static async create(c: CompiledComponent, _opts: InspectorOptions): Promise<ComponentInspector> {
    throw new SecuxflowError('E_MODULE_INVALID', `module ${c.name} is a component; not supported yet`);
  }
  inspect(_items: readonly InspectItem[], _count: number, _out: BatchOutput): void {}
  flowEnded(_flowId: number): void {}
}

export async function describeComponentFile(_bytes: Uint8Array): Promise<{ abiVersion: number | null; imports: { name: string; kind: string; signature: string | null; allowed: boolean }[]; exports: { name: string; kind: string; signature: string | null }[]; memory: null }> {
  return { abiVersion: null, imports: [], exports: [], memory: null };
}
