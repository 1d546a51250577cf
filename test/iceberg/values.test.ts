import { describe, expect, test } from "vitest";
import { isFloeError } from "../../src/errors.js";
import { parseLiteral } from "../../src/iceberg/literals.js";
import type { InternalValue, PrimitiveType } from "../../src/iceberg/types.js";
import {
  compareValues, decimalToBytes, fromSingleValue, toSingleValue, truncateLowerBound, truncateUpperBound,
} from "../../src/iceberg/values.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (...b: number[]) => Uint8Array.from(b);

describe("toSingleValue: Appendix D byte layouts", () => {
  const cases: [PrimitiveType, InternalValue, string][] = [
    ["boolean", false, "00"],
    ["boolean", true, "01"],
    ["int", 1, "01 00 00 00"],
    ["int", -2, "fe ff ff ff"],
    ["date", 17486, "4e 44 00 00"], // 2017-11-16, 4-byte LE
    ["long", 34n, "22 00 00 00 00 00 00 00"],
    ["long", -9223372036854775808n, "00 00 00 00 00 00 00 80"],
    ["time", 81068000000n, "00 83 07 e0 12 00 00 00"], // 22:31:08 (bytes checked with Python struct.pack("<q"))
    ["timestamp", 1510871468000001n, "01 c3 26 2d 21 5e 05 00"],
    ["timestamptz", -1n, "ff ff ff ff ff ff ff ff"],
    ["float", 1, "00 00 80 3f"],
    ["double", -2, "00 00 00 00 00 00 00 c0"],
    ["string", "iceberg", "69 63 65 62 65 72 67"],
    ["string", "é🧊", "c3 a9 f0 9f a7 8a"], // UTF-8, no length prefix
    ["uuid", parseLiteral("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"), "f7 9c 3e 09 67 7c 4b bd a4 79 3f 34 9c b7 85 e7"],
    ["fixed[3]", bytes(1, 2, 3), "01 02 03"],
    ["binary", bytes(), ""],
    ["decimal(9,2)", 1420n, "05 8c"], // 14.20: minimal big-endian two's complement
    ["decimal(9,2)", 0n, "00"],
    ["decimal(9,2)", 127n, "7f"],
    ["decimal(9,2)", 128n, "00 80"], // needs a sign byte
    ["decimal(9,2)", -128n, "80"],
    ["decimal(9,2)", -129n, "ff 7f"],
    ["decimal(9,2)", -1n, "ff"],
  ];
  for (const [type, v, want] of cases) {
    test(`${type} ${typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? hex(v) : JSON.stringify(v)} → [${want}]`, () => {
      const out = toSingleValue(type, v);
      expect(hex(out)).toBe(want);
      const back = fromSingleValue(type, out);
      expect(back).toEqual(v);
    });
  }

  test("38-digit decimals fit in 16 bytes both ways", () => {
    const max = 10n ** 38n - 1n;
    expect(decimalToBytes(max).length).toBe(16);
    expect(fromSingleValue("decimal(38,0)", toSingleValue("decimal(38,0)", -max))).toBe(-max);
  });

  test("fromSingleValue reads any non-zero byte as true and refuses wrong lengths and bad UTF-8", () => {
    expect(fromSingleValue("boolean", bytes(7))).toBe(true);
    expect(() => fromSingleValue("int", bytes(1, 2))).toThrow(/must have 4 bytes, got 2/);
    expect(() => fromSingleValue("fixed[4]", bytes(1))).toThrow(/must have 4 bytes/);
    expect(() => fromSingleValue("decimal(9,2)", bytes())).toThrow(/at least 1/);
    expect(() => fromSingleValue("string", bytes(0xc3))).toThrow(/not valid UTF-8/);
    expect(fromSingleValue("string", bytes(0xef, 0xbb, 0xbf, 0x61))).toBe("\ufeffa"); // BOM kept as data
  });

  test("wrong internal values are a caller bug (code internal)", () => {
    for (const [type, v] of [["long", 1], ["int", 1n], ["uuid", bytes(1)], ["fixed[2]", bytes(1, 2, 3)], ["date", "2017-11-16"]] as const) {
      try {
        toSingleValue(type, v);
        expect.unreachable();
      } catch (e) {
        expect(isFloeError(e, "internal")).toBe(true);
      }
    }
  });
});

describe("compareValues", () => {
  test("numbers, -0 before 0, bigints", () => {
    expect(compareValues("int", 1, 2)).toBe(-1);
    expect(compareValues("double", -0, 0)).toBe(-1);
    expect(compareValues("double", 0, 0)).toBe(0);
    expect(compareValues("long", 10n, -10n)).toBe(1);
    expect(compareValues("boolean", false, true)).toBe(-1);
  });

  test("strings by code point, the order of their UTF-8 bytes", () => {
    // U+FF21 (fullwidth A) is one UTF-16 unit 0xFF21, U+1F9CA is the pair D83E DDCA: code-unit order
    // would put the emoji first, code-point / UTF-8 order puts it last.
    expect("🧊" < "Ａ").toBe(true);
    expect(compareValues("string", "🧊", "Ａ")).toBe(1);
    const words = ["b", "a", "🧊", "Ａ", "", "ab", "é", "\u{10FFFF}", "\uE000"];
    const byUtf8 = [...words].sort((x, y) => {
      const [a, b] = [new TextEncoder().encode(x), new TextEncoder().encode(y)];
      return compareValues("binary", a, b);
    });
    expect([...words].sort((x, y) => compareValues("string", x, y))).toEqual(byUtf8);
  });

  test("bytes unsigned and lexicographic, a prefix first", () => {
    expect(compareValues("binary", bytes(0x7f), bytes(0x80))).toBe(-1);
    expect(compareValues("binary", bytes(1, 2), bytes(1, 2, 0))).toBe(-1);
    expect(compareValues("fixed[2]", bytes(2, 0), bytes(1, 255))).toBe(1);
    expect(compareValues("uuid", new Uint8Array(16), new Uint8Array(16))).toBe(0);
  });
});

describe("bound truncation, metrics mode truncate(16)", () => {
  const long = "abcdefghijklmnopqrstuvwxyz";

  test("short values are kept as they are", () => {
    expect(truncateLowerBound("string", "iceberg", 16)).toBe("iceberg");
    expect(truncateUpperBound("string", "iceberg", 16)).toBe("iceberg");
    expect(truncateUpperBound("binary", bytes(255, 255), 2)).toEqual(bytes(255, 255));
  });

  test("strings: lower keeps a prefix, upper increments the last code point", () => {
    expect(truncateLowerBound("string", long)).toBe("abcdefghijklmnop");
    expect(truncateUpperBound("string", long)).toBe("abcdefghijklmnoq");
  });

  test("strings count code points, so surrogate pairs are never split", () => {
    const s = "🧊".repeat(20); // 20 code points, 40 UTF-16 units
    expect(truncateLowerBound("string", s, 16)).toBe("🧊".repeat(16));
    expect(truncateUpperBound("string", s, 16)).toBe("🧊".repeat(15) + "\u{1F9CB}");
    expect(truncateUpperBound("string", "ab\u{FFFF}cd", 3)).toBe("ab\u{10000}"); // BMP max → first astral
  });

  test("upper bound skips code points that cannot be incremented, and the surrogate block", () => {
    expect(truncateUpperBound("string", "a\u{10FFFF}\u{10FFFF}zz", 3)).toBe("b");
    expect(truncateUpperBound("string", "\u{D7FF}zz", 1)).toBe("\u{E000}");
    expect(truncateUpperBound("string", "\u{10FFFF}".repeat(17), 16)).toBeNull();
  });

  test("truncated bounds really bound the value", () => {
    for (const s of [long, "🧊".repeat(20), "a\u{10FFFF}\u{10FFFF}zz", "ÿ".repeat(30)]) {
      expect(compareValues("string", truncateLowerBound("string", s, 3), s)).toBeLessThanOrEqual(0);
      expect(compareValues("string", truncateUpperBound("string", s, 3), s)).toBeGreaterThan(0);
    }
  });

  test("binary: bytes, the last non-0xff byte incremented, all 0xff → null", () => {
    const b = Uint8Array.from({ length: 20 }, (_, i) => i);
    expect(truncateLowerBound("binary", b)).toEqual(b.slice(0, 16));
    expect(truncateUpperBound("binary", b)).toEqual(Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 16 : i)));
    expect(truncateUpperBound("binary", bytes(1, 255, 255, 9), 3)).toEqual(bytes(2));
    expect(truncateUpperBound("binary", new Uint8Array(17).fill(255))).toBeNull();
  });

  test("fixed, uuid and other types are not truncated; null stays null", () => {
    const f = new Uint8Array(32).fill(7);
    expect(truncateLowerBound("fixed[32]", f)).toBe(f);
    expect(truncateUpperBound("fixed[32]", f)).toBe(f);
    expect(truncateUpperBound("long", 5n)).toBe(5n);
    expect(truncateUpperBound("string", null)).toBeNull();
  });
});
