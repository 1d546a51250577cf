/**
 * Murmur3, x86 variant, 32-bit result, seed 0: the hash the Iceberg table spec prescribes for the
 * `bucket[N]` transform ("Bucket Transform Details" and "Appendix B: 32-bit Hash Requirements").
 *
 * Pure 32-bit integer math (`Math.imul`, `>>> 0`), so it gives the same answer in Node and workerd.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mixK1(k1: number): number {
  k1 = Math.imul(k1, C1);
  k1 = rotl32(k1, 15);
  return Math.imul(k1, C2);
}

/**
 * Murmur3 x86 32-bit hash of `bytes` with seed 0, as a signed 32-bit integer (what Java's
 * `Hashing.murmur3_32_fixed().hashBytes(b).asInt()` returns, and what the spec's test values show).
 *
 * @example
 * murmur3Hash32(new TextEncoder().encode("iceberg")); // 1210000089 (spec Appendix B)
 */
export function murmur3Hash32(bytes: Uint8Array): number {
  const len = bytes.length;
  const nblocks = len >>> 2;
  let h1 = 0;

  // Body: little-endian 4-byte blocks.
  for (let i = 0; i < nblocks; i++) {
    const o = i << 2;
    const k1 = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
    h1 ^= mixK1(k1);
    h1 = rotl32(h1, 13);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }

  // Tail: the remaining 1–3 bytes, little-endian.
  const tail = nblocks << 2;
  const rest = len & 3;
  if (rest > 0) {
    let k1 = bytes[tail];
    if (rest > 1) k1 ^= bytes[tail + 1] << 8;
    if (rest > 2) k1 ^= bytes[tail + 2] << 16;
    h1 ^= mixK1(k1);
  }

  // Finalization: force all bits of the hash to avalanche.
  h1 ^= len;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 | 0;
}

/** The 8-byte little-endian form of a long, which the spec hashes for int, long, date, time and timestamps. */
export function longBytesLE(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, v), true);
  return out;
}

/**
 * `bucket_N(x) = (murmur3_x86_32_hash(x) & Integer.MAX_VALUE) % N` (spec "Bucket Transform Details"):
 * the sign bit is discarded so the result is never negative.
 */
export function bucketOfHash(hash: number, n: number): number {
  return (hash & 0x7fffffff) % n;
}
