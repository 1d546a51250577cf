import { describe, expect, it } from "vitest";
import { fastIsoUtcMicros } from "../../src/iceberg/iso-fast.js";
import { parseLiteral } from "../../src/iceberg/literals.js";

describe("fastIsoUtcMicros", () => {
  it("agrees with parseLiteral on toISOString() output across 600 years", () => {
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor((Math.random() - 0.5) * 2 * 1.9e13); // about 1370…2570
      const s = new Date(ms).toISOString();
      if (s.startsWith("-") || s.startsWith("+")) continue;
      expect(fastIsoUtcMicros(s), s).toBe(parseLiteral("timestamptz", s));
    }
  });

  it("reads fractions of 1 to 9 digits, truncating past microseconds", () => {
    expect(fastIsoUtcMicros("1970-01-01T00:00:00.1Z")).toBe(100_000n);
    expect(fastIsoUtcMicros("1970-01-01T00:00:00.000001Z")).toBe(1n);
    expect(fastIsoUtcMicros("1970-01-01T00:00:00.123456789Z")).toBe(123_456n);
    expect(fastIsoUtcMicros("9999-12-31T23:59:59.999999Z")).toBe(parseLiteral("timestamptz", "9999-12-31T23:59:59.999999Z"));
    expect(fastIsoUtcMicros("1969-12-31T23:59:59.999999Z")).toBe(-1n);
  });

  it("declines every other shape, leaving it to the full parser", () => {
    for (const s of ["2017-02-29T00:00:00Z", "2016-02-30T00:00:00Z", "2017-13-01T00:00:00Z", "2017-11-16T24:00:00Z", "2017-11-16T22:31:08+00:00", "2017-11-16 22:31:08Z", "2017-11-16T22:31:08.Z", "2017-11-16T22:31:08.1234567890Z", "2017-11-16T22:31:0xZ", "2017-11-16T22:31:08"]) {
      expect(fastIsoUtcMicros(s), s).toBeUndefined();
    }
    expect(fastIsoUtcMicros("2016-02-29T00:00:00Z")).toBe(parseLiteral("timestamptz", "2016-02-29T00:00:00Z"));
  });
});
