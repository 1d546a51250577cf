import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { skipValue, validUtf8 } from "../../src/decode/json-bytes.js";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const decodes = (b: Uint8Array) => {
  try {
    fatal.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe("byte-level JSON pieces of the scanner", () => {
  it("validUtf8 accepts exactly what a fatal TextDecoder accepts (property)", () => {
    // Bytes biased toward the edges of UTF-8: lead bytes, continuations, overlongs, surrogates, past U+10FFFF.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x8f, 0x90));
    fc.assert(
      fc.property(fc.oneof(fc.array(byte, { maxLength: 12 }), fc.string({ unit: "binary" }).map((s) => [...new TextEncoder().encode(s)])), (bytes) => {
        const b = Uint8Array.from(bytes);
        expect(validUtf8(b, 0, b.length)).toBe(decodes(b));
      }),
      { numRuns: 5000, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
  });

  it("skipValue finds the end of any JSON value JSON.stringify writes, and stops at a line's end", () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const b = enc.encode(`${text},"next":1}`);
        expect(skipValue(b, 0, b.length)).toBe(enc.encode(text).length);
      }),
      { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
    const cut = enc.encode('{"a":[1,\n2]}');
    expect(skipValue(cut, 0, cut.length)).toBe(-1);
  });
});
