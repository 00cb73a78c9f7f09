// Room for a multipart part's decoded content. Quoted-printable and base64
// only shrink, so the buffer never outgrows the largest part seen, which
// lies in a body text bounded by body_depth; it is grown, never reallocated
// per request, so a stream of requests allocates nothing.

let buffer = new Uint8Array(0);

/** A buffer of at least n bytes, valid until the next call. */
export function decodedBuffer(n: i32): usize {
  if (buffer.length < n) buffer = new Uint8Array(n);
  return buffer.dataStart;
}
