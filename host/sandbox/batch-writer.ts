// Packs InspectItems as ABI v1 meta records plus frame/stream bytes into a
// buffer laid out exactly like the module's batch area, so the worker can
// copy it into module memory unchanged. Pointers are module addresses (the
// batch area's address plus the offset in the buffer). The packing is the
// in-thread instance's (wasm/batch-packer.ts), so modules get the same
// records either way.
import { META } from '../wasm/abi.js';
import type { InspectItem } from '../wasm/types.js';
import { BatchPacker, type BatchArea } from '../wasm/batch-packer.js';

export class BatchWriter {
  private readonly area: BatchArea;
  private readonly packer = new BatchPacker();

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, capacity: number, dataCapacity: number) {
    this.area = {
      u8: new Uint8Array(buffer), i32: new Int32Array(buffer, 0, buffer.byteLength >>> 2),
      metaAt: 0, dataAt: capacity * META.SIZE, base: 0, capacity, dataCapacity,
    };
  }

  /** Module address of the batch area; set once the worker is ready. */
  set metaPtr(address: number) {
    this.area.base = address;
  }

  static bufferSize(capacity: number, dataCapacity: number): number {
    return (capacity * META.SIZE + dataCapacity + 7) & ~7;
  }

  /** Packs as many of items[from..count) as the area holds: how many, and the data bytes they use. */
  fill(items: readonly InspectItem[], from: number, count: number): { n: number; used: number } {
    const n = this.packer.pack(this.area, items, from, count);
    return { n, used: this.packer.used };
  }
}
