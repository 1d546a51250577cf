import { describe, expect, test } from "vitest";
import { base64Decode, base64Encode } from "../../src/iceberg/bytes.js";

describe("helpers", () => {
  test("base64 matches the platform encoder for every length 0–20", () => {
    for (let n = 0; n <= 20; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 250) & 255);
      const text = base64Encode(bytes);
      expect(text).toBe(btoa(String.fromCharCode(...bytes)));
      expect([...base64Decode(text)!]).toEqual([...bytes]);
    }
    expect(base64Decode("a b=")).toBeUndefined();
  });
});
