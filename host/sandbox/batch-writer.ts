// Writes InspectItems as ABI v1 meta records plus frame/stream bytes into a
// buffer laid out exactly like the module's batch area, so the worker can copy
// it into module memory unchanged. Pointers are module addresses
// (metaPtr + offset in the buffer). Per packet: no allocation, one set() per
// frame and one per stream.
import { META } from '../wasm/abi.js';
import type { InspectItem } from '../wasm/types.js';
import { writeMetaRecord } from '../wasm/meta-writer.js';

export class BatchWriter {
  readonly capacity: number;
  readonly dataCapacity: number;
  /** Module address of the batch area; set once the worker is ready. */
  metaPtr = 0;
  readonly u8: Uint8Array;
  /** The view meta records are written through (see meta-writer.ts). */
  readonly i32: Int32Array;
  private readonly dataStart: number;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, capacity: number, dataCapacity: number) {
    this.capacity = capacity;
    this.dataCapacity = dataCapacity;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.dataStart = capacity * META.SIZE;
  }

  static bufferSize(capacity: number, dataCapacity: number): number {
    return (capacity * META.SIZE + dataCapacity + 7) & ~7;
  }

  /** Bytes the item needs in the data region. */
  static need(item: InspectItem): number {
    return item.pkt.data.length + (item.stream ? item.stream.length : 0);
  }

  /** Writes record `slot`; returns the data bytes it used. */
  write(slot: number, item: InspectItem, dataUsed: number): number {
    return writeMetaRecord(this, slot * META.SIZE, this.dataStart + dataUsed, this.metaPtr, this.dataCapacity - dataUsed, item);
  }
}
