// Per-flow state kept in module memory, keyed by the host's flow id. Every
// FlowMap registers itself so the SDK drops a flow's entries when the host
// calls on_flow_end: modules cannot leak state for flows that are gone.

export abstract class FlowStore {
  abstract deleteFlow(flowId: u64): void;
}

const stores = new Array<FlowStore>();

/** Called by the SDK's on_flow_end after the inspector's onFlowEnd, so it can still read its state. */
export function forgetFlow(flowId: u64): void {
  for (let i = 0, n = stores.length; i < n; i++) stores[i].deleteFlow(flowId);
}

/** Map from flow id to a state object T (T must be a class). */
export class FlowMap<T> extends FlowStore {
  private map: Map<u64, T> = new Map<u64, T>();

  constructor() {
    super();
    stores.push(this);
  }

  has(flowId: u64): bool { return this.map.has(flowId); }
  get(flowId: u64): T | null { return this.map.has(flowId) ? this.map.get(flowId) : null; }
  set(flowId: u64, state: T): void { this.map.set(flowId, state); }
  delete(flowId: u64): void { this.map.delete(flowId); }
  get size(): i32 { return this.map.size; }
  deleteFlow(flowId: u64): void { this.map.delete(flowId); }
}
