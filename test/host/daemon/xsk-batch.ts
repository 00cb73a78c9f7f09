// Frames laid out as XskSocket.receive hands a batch to the queue worker: one
// per 2048-byte socket frame, with (offset, length) descriptor pairs.
export const XSK_FRAME = 2048;

export function xskBatch(frames: readonly Uint8Array[]): { data: Uint8Array; descs: Uint32Array } {
  const data = new Uint8Array(frames.length * XSK_FRAME);
  const descs = new Uint32Array(frames.length * 2);
  frames.forEach((f, i) => {
    data.set(f, i * XSK_FRAME);
    descs[2 * i] = i * XSK_FRAME;
    descs[2 * i + 1] = f.length;
  });
  return { data, descs };
}
