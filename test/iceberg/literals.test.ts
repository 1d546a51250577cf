import { describe, expect, test } from "vitest";
import { isFloeError } from "../../src/errors.js";
import { formatLiteral, parseLiteral } from "../../src/iceberg/literals.js";
import type { PrimitiveType } from "../../src/iceberg/types.js";

function refusal(type: PrimitiveType, value: unknown): string {
  try {
    parseLiteral(type, value);
  } catch (e) {
    expect(isFloeError(e, "invalid_input")).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`parseLiteral(${type}, ${String(value)}) did not throw`);
}

describe("parseLiteral", () => {
  test("boolean accepts only booleans", () => {
    expect(parseLiteral("boolean", true)).toBe(true);
    expect(refusal("boolean", "true")).toBe('expected boolean, got "true"');
    expect(refusal("boolean", 1)).toBe("expected boolean, got 1");
  });

  test("float and double: a string names only NaN and the infinities, never a property of Object.prototype", () => {
    expect(parseLiteral("double", "-Infinity")).toBe(-Infinity);
    expect(refusal("double", "toString")).toBe('expected double, got "toString"');
    expect(refusal("float", "constructor")).toBe('expected float, got "constructor"');
  });

  test("int: integral numbers inside int32", () => {
    expect(parseLiteral("int", 34)).toBe(34);
    expect(parseLiteral("int", -2147483648)).toBe(-2147483648);
    expect(refusal("int", 2147483648)).toMatch(/^expected int, got 2147483648: out of the 32-bit range/);
    expect(refusal("int", 1.5)).toBe("expected int, got 1.5");
    expect(refusal("int", "34")).toBe('expected int, got "34"');
    // 64-bit integers in range (a CSV column typed by an int field is read as bigints): found when CSV uploads into an int column were all refused.
    expect(parseLiteral("int", 34n)).toBe(34);
    expect(parseLiteral("int", -2147483648n)).toBe(-2147483648);
    expect(refusal("int", 2147483648n)).toMatch(/^expected int, got 2147483648: out of the 32-bit range/);
  });

  test("long: safe numbers, bigints and integer strings inside int64", () => {
    expect(parseLiteral("long", 34)).toBe(34n);
    expect(parseLiteral("long", "9223372036854775807")).toBe(9223372036854775807n);
    expect(parseLiteral("long", -5n)).toBe(-5n);
    expect(refusal("long", "9223372036854775808")).toMatch(/out of the 64-bit range/);
    expect(refusal("long", 2 ** 53)).toMatch(/send it as a string/);
    expect(refusal("long", "1e3")).toBe('expected long, got "1e3"');
  });

  test("float and double: numbers and the special strings", () => {
    expect(parseLiteral("double", 1.1)).toBe(1.1);
    expect(parseLiteral("double", "NaN")).toBeNaN();
    expect(parseLiteral("double", "-Infinity")).toBe(-Infinity);
    expect(parseLiteral("float", 1.1)).toBe(Math.fround(1.1));
    expect(refusal("float", 1e39)).toMatch(/32-bit float range/);
    expect(refusal("double", "1.5")).toBe('expected double, got "1.5"');
  });

  test("decimal: exact from text, scale and precision enforced", () => {
    expect(parseLiteral("decimal(9,2)", "14.20")).toBe(1420n);
    expect(parseLiteral("decimal(9, 2)", 14.2)).toBe(1420n);
    expect(parseLiteral("decimal(9,2)", "-0.05")).toBe(-5n);
    expect(parseLiteral("decimal(9,2)", "7")).toBe(700n);
    expect(parseLiteral("decimal(9,2)", "1.5e2")).toBe(15000n);
    expect(parseLiteral("decimal(9,1)", "1.50")).toBe(15n); // trailing zero: no rounding
    expect(parseLiteral("decimal(38,0)", "99999999999999999999999999999999999999")).toBe(10n ** 38n - 1n);
    // 0.1 + 0.2 as a string is kept digit for digit, never through a float
    expect(parseLiteral("decimal(20,17)", "0.30000000000000004")).toBe(30000000000000004n);
    expect(refusal("decimal(9,2)", "1.234")).toBe('expected decimal(9,2), got "1.234": more than 2 fraction digits');
    expect(refusal("decimal(4,2)", "123.4")).toMatch(/more than 4 digits/);
    expect(refusal("decimal(9,2)", "1e999999999")).toMatch(/more than 9 digits/);
    expect(refusal("decimal(9,2)", "abc")).toMatch(/not a decimal number/);
    expect(refusal("decimal(9,2)", NaN)).toBe("expected decimal(9,2), got NaN");
  });

  test("date: YYYY-MM-DD, calendar-checked, years 0001–9999", () => {
    expect(parseLiteral("date", "2017-11-16")).toBe(17486);
    expect(parseLiteral("date", "1970-01-01")).toBe(0);
    expect(parseLiteral("date", "1969-12-31")).toBe(-1);
    expect(parseLiteral("date", "0001-01-01")).toBe(-719162);
    expect(parseLiteral("date", "9999-12-31")).toBe(2932896);
    expect(parseLiteral("date", "2024-02-29")).toBe(19782);
    expect(refusal("date", "2023-02-29")).toBe('expected date, got "2023-02-29"');
    expect(refusal("date", "0000-01-01")).toMatch(/^expected date/);
    expect(refusal("date", "2017-11-16T00:00:00")).toMatch(/^expected date/);
    expect(refusal("date", 17486)).toMatch(/^expected date/);
  });

  test("time: HH:MM:SS[.ffffff]", () => {
    expect(parseLiteral("time", "22:31:08")).toBe(81068000000n);
    expect(parseLiteral("time", "00:00:00.000001")).toBe(1n);
    expect(parseLiteral("time", "23:59:59.9999999")).toBe(86399999999n); // truncated to micros
    expect(refusal("time", "24:00:00")).toMatch(/^expected time/);
    expect(refusal("time", "22:31")).toMatch(/^expected time/);
  });

  test("timestamp and timestamptz: ISO-8601, offsets applied, stored as UTC micros", () => {
    const micros = 1510871468000000n; // 2017-11-16T22:31:08Z
    expect(parseLiteral("timestamp", "2017-11-16T22:31:08")).toBe(micros);
    expect(parseLiteral("timestamp", "2017-11-16T22:31:08.000001")).toBe(micros + 1n);
    expect(parseLiteral("timestamptz", "2017-11-16T14:31:08-08:00")).toBe(micros);
    expect(parseLiteral("timestamptz", "2017-11-17T04:01:08.5+05:30")).toBe(micros + 500000n);
    expect(parseLiteral("timestamptz", "2017-11-16T22:31:08Z")).toBe(micros);
    expect(parseLiteral("timestamptz", "2017-11-16T22:31:08")).toBe(micros); // no offset: UTC
    expect(parseLiteral("timestamp", "2017-11-16T22:31:08Z")).toBe(micros); // offset given: converted
    expect(parseLiteral("timestamp", "2017-11-16T22:31:08.123456789")).toBe(micros + 123456n);
    expect(parseLiteral("timestamp", "1969-12-31T23:59:59.999999")).toBe(-1n);
    expect(parseLiteral("timestamp", "0001-01-01T00:00:00")).toBe(-62135596800000000n);
    expect(parseLiteral("timestamptz", "9999-12-31T23:59:59.999999-18:00")).toBe(253402365599999999n);
    expect(refusal("timestamptz", 1510871468000)).toBe(
      'expected timestamptz, got 1510871468000: send an ISO-8601 string such as "2017-11-16T22:31:08.000001Z" (a number is ambiguous: seconds, millis or micros?)',
    );
    expect(refusal("timestamp", 1510871468n)).toMatch(/such as "2017-11-16T22:31:08.000001" \(a number/);
    expect(refusal("timestamp", "2017-11-16")).toMatch(/^expected timestamp/);
    expect(refusal("timestamptz", "2017-11-16T22:31:08+19:00")).toMatch(/^expected timestamptz/);
    expect(refusal("timestamptz", "2017-11-16 22:31:08Z")).toMatch(/^expected timestamptz/);
  });

  test("string, uuid, binary, fixed", () => {
    expect(parseLiteral("string", "iceberg")).toBe("iceberg");
    expect(refusal("string", "bad \ud800 half")).toMatch(/lone surrogate/);
    const uuid = parseLiteral("uuid", "F79C3E09-677C-4BBD-A479-3F349CB785E7") as Uint8Array;
    expect([...uuid.slice(0, 4)]).toEqual([0xf7, 0x9c, 0x3e, 0x09]);
    expect(uuid.length).toBe(16);
    expect(refusal("uuid", "f79c3e09677c4bbda4793f349cb785e7")).toMatch(/^expected uuid/);
    expect([...(parseLiteral("binary", "AAECAw==") as Uint8Array)]).toEqual([0, 1, 2, 3]);
    expect([...(parseLiteral("fixed[4]", "AAECAw==") as Uint8Array)]).toEqual([0, 1, 2, 3]);
    expect(refusal("fixed[3]", "AAECAw==")).toMatch(/decodes to 4 bytes, not 3/);
    expect(refusal("binary", "AAECAw")).toMatch(/padded base64/);
  });

  test("long values are previewed and truncated in messages", () => {
    const msg = refusal("int", "x".repeat(200));
    expect(msg.length).toBeLessThan(90);
    expect(msg).toMatch(/\.\.\.$/);
  });

  test("unsupported types are named", () => {
    expect(() => parseLiteral("timestamp_ns" as PrimitiveType, "x")).toThrow(/unsupported type timestamp_ns/);
  });
});

describe("formatLiteral", () => {
  test("the JSON forms", () => {
    expect(formatLiteral("long", 34n)).toBe(34);
    expect(formatLiteral("long", 9007199254740993n)).toBe("9007199254740993");
    expect(formatLiteral("double", NaN)).toBe("NaN");
    expect(formatLiteral("decimal(9,2)", 1420n)).toBe("14.20");
    expect(formatLiteral("decimal(9,2)", -5n)).toBe("-0.05");
    expect(formatLiteral("decimal(9,0)", -5n)).toBe("-5");
    expect(formatLiteral("date", 17486)).toBe("2017-11-16");
    expect(formatLiteral("time", 81068000000n)).toBe("22:31:08");
    expect(formatLiteral("time", 81068123400n)).toBe("22:31:08.1234");
    expect(formatLiteral("timestamp", 1510871468000001n)).toBe("2017-11-16T22:31:08.000001");
    expect(formatLiteral("timestamptz", 1510871468000000n)).toBe("2017-11-16T22:31:08+00:00");
    expect(formatLiteral("timestamp", -1n)).toBe("1969-12-31T23:59:59.999999");
    expect(formatLiteral("uuid", parseLiteral("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"))).toBe("f79c3e09-677c-4bbd-a479-3f349cb785e7");
    expect(formatLiteral("binary", Uint8Array.of(0, 1, 2, 255))).toBe("AAEC/w==");
    expect(formatLiteral("string", null)).toBe(null);
  });

  test("parse ∘ format round-trips", () => {
    const cases: [PrimitiveType, unknown][] = [
      ["boolean", false], ["int", -7], ["long", "-9223372036854775808"], ["double", 0.1], ["decimal(38,10)", "-12345.0000000001"],
      ["date", "0001-01-01"], ["date", "9999-12-31"], ["time", "00:00:00.000001"], ["timestamp", "1900-02-28T12:00:00.5"],
      ["timestamptz", "2017-11-16T22:31:08.123456+00:00"], ["string", "héllo 🧊"], ["fixed[2]", "//8="], ["binary", ""],
    ];
    for (const [type, json] of cases) expect(formatLiteral(type, parseLiteral(type, json))).toEqual(json);
  });
});
