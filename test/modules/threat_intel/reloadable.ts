// How a host reloads threat_intel's lists without a restart, given that ABI
// v1 calls on_init once per instance: build a new instance with the new
// config off to the side, and swap it in between two batches. A config the
// module refuses leaves the running instance untouched. The host does not
// ship this yet (see the module README); the tests drive the Engine with it.
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectorOptions, BatchOutput, InspectItem } from '../../../host/wasm/types.js';
import type { ModuleRunner } from '../../../host/engine/engine.js';

export class ReloadableRunner implements ModuleRunner {
  private next: InspectorInstance | null = null;
  generation = 0;

  private constructor(private current: InspectorInstance, private readonly compiled: CompiledInspector, private readonly opts: InspectorOptions) {}

  static async create(compiled: CompiledInspector, opts: InspectorOptions): Promise<ReloadableRunner> {
    return new ReloadableRunner(await InspectorInstance.create(compiled, opts), compiled, opts);
  }

  /** Prepares an instance with the new config; it takes over at the next batch. Throws (E_MODULE_CONFIG) and changes nothing when refused. */
  async reload(config: string | Uint8Array): Promise<void> {
    this.next = await InspectorInstance.create(this.compiled, { ...this.opts, config });
  }

  get instance(): InspectorInstance { return this.current; }

  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    if (this.next !== null) {
      // flows the old instance knew are simply unknown to the new one: it checks them afresh
      this.current = this.next;
      this.next = null;
      this.generation++;
    }
    this.current.inspect(items, count, out);
  }

  flowEnded(flowId: number): void { this.current.flowEnded(flowId); }
}
