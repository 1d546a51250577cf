import { describe, expect, test } from "vitest";
import vectors from "../fixtures/iceberg-bucket-hash-vectors.json" with { type: "json" };
import { parseLiteral } from "../../src/iceberg/literals.js";
import { bucketOfHash, longBytesLE, murmur3Hash32 } from "../../src/iceberg/murmur3.js";
import { applyTransform } from "../../src/iceberg/transforms.js";
import type { PrimitiveType } from "../../src/iceberg/types.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("murmur3Hash32 (Murmur3 x86 32-bit, seed 0)", () => {
  test("known answers of the reference implementation (SMHasher), as signed ints", () => {
    expect(murmur3Hash32(new Uint8Array(0))).toBe(0);
    expect(murmur3Hash32(utf8("hello"))).toBe(0x248bfa47);
    expect(murmur3Hash32(utf8("The quick brown fox jumps over the lazy dog"))).toBe(0x2e4ff723);
    // four 0xff bytes: every byte takes the sign-extension path of the block read
    expect(murmur3Hash32(hex("ffffffff"))).toBe(0x76293b50);
  });

  test("covers every tail length (0–3 trailing bytes) without leaking high bits", () => {
    for (let len = 0; len < 12; len++) {
      const h = murmur3Hash32(Uint8Array.from({ length: len }, (_, i) => 0x80 + i));
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(-(2 ** 31));
      expect(h).toBeLessThan(2 ** 31);
    }
  });

  test("longBytesLE is 8-byte little-endian two's complement", () => {
    expect([...longBytesLE(34n)]).toEqual([34, 0, 0, 0, 0, 0, 0, 0]);
    expect([...longBytesLE(-1n)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });
});

describe("spec Appendix B test vectors (test/fixtures/iceberg-bucket-hash-vectors.json)", () => {
  for (const v of vectors.vectors) {
    const type = v.type as PrimitiveType;
    const label = "value" in v ? JSON.stringify(v.value) : `0x${v.value_hex}`;
    test(`${type} ${label} → ${v.hash}`, () => {
      const value = "value_hex" in v && v.value_hex !== undefined ? hex(v.value_hex) : parseLiteral(type, v.value);
      // bucket[2^31-1] keeps (hash & MAX) unchanged except for hash == MAX, which the vectors never hit
      expect(applyTransform("bucket[2147483647]", type, value)).toBe(v.hash & 0x7fffffff);
      // and the raw hash, through the byte representation the spec names for the type
      expect(bucketOfHash(v.hash, 16)).toBe(applyTransform("bucket[16]", type, value));
    });
  }

  test("the raw signed hashes match for the byte inputs the spec lists", () => {
    expect(murmur3Hash32(longBytesLE(34n))).toBe(2017239379);
    expect(murmur3Hash32(hex("058c"))).toBe(-500754589); // 14.20 → unscaled 1420 = 0x058c
    expect(murmur3Hash32(longBytesLE(17486n))).toBe(-653330422); // 2017-11-16
    expect(murmur3Hash32(longBytesLE(81068000000n))).toBe(-662762989); // 22:31:08
    expect(murmur3Hash32(longBytesLE(1510871468000000n))).toBe(-2047944441);
    expect(murmur3Hash32(longBytesLE(1510871468000001n))).toBe(-1207196810);
    expect(murmur3Hash32(utf8("iceberg"))).toBe(1210000089);
    expect(murmur3Hash32(hex("f79c3e09677c4bbda4793f349cb785e7"))).toBe(1488055340);
    expect(murmur3Hash32(hex("00010203"))).toBe(-188683207);
  });

  test("spec vectors for types that are not bucketed (boolean, double) still hold for the hash", () => {
    expect(murmur3Hash32(longBytesLE(1n))).toBe(1392991556); // true → hashInt(1) = hashLong(1)
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, 1.0, true);
    expect(murmur3Hash32(new Uint8Array(bits.buffer))).toBe(-142385009);
    expect(murmur3Hash32(longBytesLE(0n))).toBe(1669671676); // 0.0
  });

  for (const ex of vectors.bucket_examples) {
    test(`bucket[${ex.n}] of ${ex.type} ${ex.value} → ${ex.bucket}`, () => {
      expect(applyTransform(`bucket[${ex.n}]`, ex.type as PrimitiveType, parseLiteral(ex.type as PrimitiveType, ex.value))).toBe(ex.bucket);
    });
  }
});
