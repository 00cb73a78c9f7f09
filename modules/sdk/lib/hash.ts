// Non-cryptographic hashes for the lookup structures of this folder. FNV-1a is
// byte-at-a-time and needs no tables, which suits short keys (domains, tokens);
// the mixers spread integer keys whose low bits are poorly distributed (flow
// ids, IPv4 addresses) before they index a power-of-two table.

const FNV32_OFFSET: u32 = 0x811c9dc5;
const FNV32_PRIME: u32 = 0x01000193;
const FNV64_OFFSET: u64 = 0xcbf29ce484222325;
const FNV64_PRIME: u64 = 0x00000100000001b3;

/** FNV-1a, 32 bit, over len bytes at ptr. */
export function fnv1a32(ptr: usize, len: i32): u32 {
  let h = FNV32_OFFSET;
  for (let i = 0; i < len; i++) h = (h ^ <u32>load<u8>(ptr + <usize>i)) * FNV32_PRIME;
  return h;
}

/** FNV-1a, 64 bit, over len bytes at ptr. */
export function fnv1a64(ptr: usize, len: i32): u64 {
  let h = FNV64_OFFSET;
  for (let i = 0; i < len; i++) h = (h ^ <u64>load<u8>(ptr + <usize>i)) * FNV64_PRIME;
  return h;
}

/** FNV-1a 64 of the ASCII-lower-cased bytes: equal for keys that differ only in case. */
export function fnv1a64NoCase(ptr: usize, len: i32): u64 {
  let h = FNV64_OFFSET;
  for (let i = 0; i < len; i++) {
    let c = load<u8>(ptr + <usize>i);
    if (<u8>(c - 65) < 26) c |= 0x20;
    h = (h ^ <u64>c) * FNV64_PRIME;
  }
  return h;
}

/**
 * An IP address (4 or 16 bytes at ptr, as Packet.srcAddrPtr gives it) as a
 * table key: IPv4 exactly, tagged in bits its 32 do not reach; IPv6 hashed.
 */
export function addrKey(ptr: usize, version: u8): u64 {
  if (version == 4) return <u64>bswap<u32>(load<u32>(ptr)) | (<u64>4 << 56);
  return fnv1a64(ptr, 16);
}

/**
 * A packet's source (4 or 16 bytes at ptr) as the key of a per-source count:
 * IPv4 as addrKey, an IPv4-mapped IPv6 address as its IPv4 address, other
 * IPv6 by its /64. A host given a /64 can send every packet from a new
 * address of it, and the host's penalty box blocks an IPv6 source's /64, so
 * counting per address would let it stay under every threshold for free.
 */
export function sourceKey(ptr: usize, version: u8): u64 {
  if (version == 4) return addrKey(ptr, 4);
  if (isV4Mapped(ptr)) return addrKey(ptr + 12, 4);
  return fnv1a64(ptr, 8) | (<u64>6 << 56);
}

/** ::ffff:a.b.c.d (RFC 4291 2.5.5.2): ten zero bytes, then two 0xff. */
export function isV4Mapped(ptr: usize): bool {
  return load<u64>(ptr) == 0 && load<u16>(ptr + 8) == 0 && load<u16>(ptr + 10) == 0xffff;
}

/** splitmix64's finaliser: a bijection, so distinct keys never collide before masking. */
export function mix64(x: u64): u64 {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// The seed of the growing tables' index hash (U64Map, and through it the
// key slots of the sliding windows and token buckets). Their keys are
// addresses a sender picks: under a fixed hash it could pick thousands that
// share one probe run, and every lookup would walk them all.
let tableSeed: u64 = 0;

/** Sets the tables' seed; the SDK does it once, before on_init, from get_time_ns (0 under a packet clock, so offline runs replay the same). */
export function seedTables(seed: u64): void { tableSeed = seed; }

/** The index hash of the growing tables: mix64 of the key under the seed. */
@inline export function tableHash(key: u64): u64 { return mix64(key ^ tableSeed); }

/**
 * For a delete in a linear-probing table (U64Map, FlowMap): whether the key
 * at slot j, later in the probe run, may move back into the hole. Not when
 * its home slot lies after the hole (cyclically, in (hole, j]): a lookup
 * starting there would no longer pass the hole to reach it.
 */
@inline export function fillsHole(key: u64, hole: i32, j: i32, mask: i32): bool {
  return ((j - (<i32>tableHash(key) & mask)) & mask) >= ((j - hole) & mask);
}

/** A 32-bit integer finaliser (lowbias32), also a bijection. */
export function mix32(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  return x ^ (x >> 16);
}
