import { describe, expect, test } from "vitest";
import { isFloeError } from "../../src/errors.js";
import { parseLiteral } from "../../src/iceberg/literals.js";
import {
  applyTransform, parseTransform, toHumanString, transformResultType, transformToString,
} from "../../src/iceberg/transforms.js";
import type { PrimitiveType } from "../../src/iceberg/types.js";

const ts = (s: string) => parseLiteral("timestamp", s);
const date = (s: string) => parseLiteral("date", s);

describe("parseTransform", () => {
  test("the spec's transforms round-trip", () => {
    for (const s of ["identity", "bucket[16]", "truncate[3]", "year", "month", "day", "hour", "void"]) {
      expect(transformToString(parseTransform(s))).toBe(s);
    }
    expect(parseTransform("bucket[16]")).toEqual({ kind: "bucket", n: 16 });
    expect(parseTransform("truncate[10]")).toEqual({ kind: "truncate", width: 10 });
  });

  test("anything else is refused with the list of known transforms", () => {
    for (const s of ["week", "bucket[0]", "bucket", "truncate[-1]", "Bucket[16]", "bucket[ 16]", "bucket[2147483648]"]) {
      expect(() => parseTransform(s)).toThrow(/unknown partition transform .*expected identity, bucket\[N\]/);
    }
  });
});

describe("transformResultType", () => {
  test("result types as in the spec (day → date, as Java and pyiceberg)", () => {
    expect(transformResultType("identity", "decimal(9,2)")).toBe("decimal(9,2)");
    expect(transformResultType("bucket[4]", "string")).toBe("int");
    expect(transformResultType("truncate[4]", "string")).toBe("string");
    expect(transformResultType("year", "timestamptz")).toBe("int");
    expect(transformResultType("month", "date")).toBe("int");
    expect(transformResultType("day", "timestamp")).toBe("date");
    expect(transformResultType("hour", "timestamp")).toBe("int");
    expect(transformResultType("void", "uuid")).toBe("uuid");
  });

  test("a transform that does not fit its source says so", () => {
    const cases: [string, PrimitiveType, RegExp][] = [
      ["year", "string", /transform year cannot apply to string \(it applies to date, timestamp, timestamptz\)/],
      ["hour", "date", /transform hour cannot apply to date/],
      ["truncate[4]", "uuid", /transform truncate\[4\] cannot apply to uuid/],
      ["truncate[4]", "fixed[8]", /cannot apply to fixed\[8\]/],
      ["bucket[4]", "double", /transform bucket\[4\] cannot apply to double/],
      ["bucket[4]", "boolean", /cannot apply to boolean/],
    ];
    for (const [t, type, re] of cases) {
      expect(() => transformResultType(t, type)).toThrow(re);
    }
    try {
      transformResultType("identity", { type: "list", "element-id": 3, "element-required": true, element: "int" });
      expect.unreachable();
    } catch (e) {
      expect(isFloeError(e, "invalid_input")).toBe(true);
      expect((e as Error).message).toBe("transform identity needs a primitive source column, got list<int>");
    }
  });
});

describe("applyTransform", () => {
  test("null in, null out; void always null; identity unchanged", () => {
    expect(applyTransform("bucket[16]", "int", null)).toBeNull();
    expect(applyTransform("year", "timestamp", null)).toBeNull();
    expect(applyTransform("void", "int", 5)).toBeNull();
    expect(applyTransform("identity", "long", 5n)).toBe(5n);
  });

  test("truncate examples from the spec", () => {
    expect(applyTransform("truncate[10]", "int", 1)).toBe(0);
    expect(applyTransform("truncate[10]", "int", -1)).toBe(-10);
    expect(applyTransform("truncate[10]", "long", 1n)).toBe(0n);
    expect(applyTransform("truncate[10]", "long", -1n)).toBe(-10n);
    expect(applyTransform("truncate[50]", "decimal(9,2)", parseLiteral("decimal(9,2)", "10.65"))).toBe(1050n); // 10.50
    expect(applyTransform("truncate[3]", "string", "iceberg")).toBe("ice");
    expect(applyTransform("truncate[3]", "binary", Uint8Array.of(1, 2, 3, 4, 5))).toEqual(Uint8Array.of(1, 2, 3));
  });

  test("truncate: negative decimals floor, strings count code points, int wraps like Java", () => {
    expect(applyTransform("truncate[10]", "decimal(9,2)", -5n)).toBe(-10n); // -0.05 → -0.10
    expect(applyTransform("truncate[2]", "string", "🧊🧊🧊")).toBe("🧊🧊");
    expect(applyTransform("truncate[5]", "string", "ab")).toBe("ab");
    expect(applyTransform("truncate[10]", "int", -2147483648)).toBe(2147483646);
  });

  test("time transforms after 1970", () => {
    const v = ts("2017-11-16T22:31:08");
    expect(applyTransform("year", "timestamp", v)).toBe(47);
    expect(applyTransform("month", "timestamp", v)).toBe(574);
    expect(applyTransform("day", "timestamp", v)).toBe(17486);
    expect(applyTransform("hour", "timestamp", v)).toBe(419686);
    expect(applyTransform("day", "date", date("2017-11-16"))).toBe(17486);
    expect(applyTransform("month", "date", date("2017-11-16"))).toBe(574);
    expect(applyTransform("year", "timestamptz", parseLiteral("timestamptz", "2017-12-31T20:00:00-05:00"))).toBe(48); // 2018 in UTC
  });

  test("time transforms before 1970 floor towards the past", () => {
    const justBefore = ts("1969-12-31T23:59:59.999999");
    expect(applyTransform("year", "timestamp", justBefore)).toBe(-1);
    expect(applyTransform("month", "timestamp", justBefore)).toBe(-1);
    expect(applyTransform("day", "timestamp", justBefore)).toBe(-1);
    expect(applyTransform("hour", "timestamp", justBefore)).toBe(-1);
    expect(applyTransform("year", "timestamp", ts("1969-01-01T00:00:00"))).toBe(-1);
    expect(applyTransform("year", "timestamp", ts("1968-12-31T23:59:59.999999"))).toBe(-2);
    expect(applyTransform("month", "timestamp", ts("1969-01-01T00:00:00"))).toBe(-12);
    expect(applyTransform("hour", "timestamp", ts("1969-12-31T00:00:00"))).toBe(-24);
    expect(applyTransform("year", "date", date("1969-12-31"))).toBe(-1);
    expect(applyTransform("month", "date", date("1900-02-28"))).toBe(-839);
    expect(applyTransform("year", "date", date("0001-01-01"))).toBe(-1969);
  });

  test("bucket[N] takes the hash's low 31 bits modulo N", () => {
    expect(applyTransform("bucket[16]", "int", 34)).toBe(3);
    expect(applyTransform("bucket[16]", "long", 34n)).toBe(3); // int and long agree (Appendix B note 1)
    // -653330422 is the date vector's hash: (h & 0x7fffffff) % 100
    expect(applyTransform("bucket[100]", "date", date("2017-11-16"))).toBe((-653330422 & 0x7fffffff) % 100);
    expect(applyTransform("bucket[1]", "string", "anything")).toBe(0);
  });

  test("a wrong internal value is refused, not hashed", () => {
    expect(() => applyTransform("bucket[16]", "long", 34)).toThrow(/must be a bigint/);
  });
});

describe("toHumanString", () => {
  test("time transforms, as Java's TransformUtil", () => {
    expect(toHumanString("year", "int", 47)).toBe("2017");
    expect(toHumanString("month", "int", 574)).toBe("2017-11");
    expect(toHumanString("day", "date", 17486)).toBe("2017-11-16");
    expect(toHumanString("hour", "int", 419686)).toBe("2017-11-16-22");
    expect(toHumanString("year", "int", -1)).toBe("1969");
    expect(toHumanString("month", "int", -1)).toBe("1969-12");
    expect(toHumanString("month", "int", -12)).toBe("1969-01");
    expect(toHumanString("day", "date", -1)).toBe("1969-12-31");
    expect(toHumanString("hour", "int", -1)).toBe("1969-12-31-23");
    expect(toHumanString("year", "int", -1969)).toBe("0001");
  });

  test("null, void, bucket, truncate", () => {
    expect(toHumanString("identity", "string", null)).toBe("null");
    expect(toHumanString("void", "int", null)).toBe("null");
    expect(toHumanString("bucket[16]", "int", 3)).toBe("3");
    expect(toHumanString("truncate[10]", "long", -10n)).toBe("-10");
    expect(toHumanString("truncate[50]", "decimal(9,2)", 1050n)).toBe("10.50");
    expect(toHumanString("truncate[3]", "binary", Uint8Array.of(1, 2, 3))).toBe("AQID");
  });

  test("identity by type: timestamps as ISO_LOCAL_DATE_TIME, time as LocalTime.toString", () => {
    expect(toHumanString("identity", "timestamp", 1510871468000000n)).toBe("2017-11-16T22:31:08");
    expect(toHumanString("identity", "timestamp", 1510871468000001n)).toBe("2017-11-16T22:31:08.000001");
    expect(toHumanString("identity", "timestamp", 1510871468500000n)).toBe("2017-11-16T22:31:08.5");
    expect(toHumanString("identity", "timestamptz", 1510871468000000n)).toBe("2017-11-16T22:31:08+00:00");
    expect(toHumanString("identity", "timestamp", -1n)).toBe("1969-12-31T23:59:59.999999");
    expect(toHumanString("identity", "date", 17486)).toBe("2017-11-16");
    expect(toHumanString("identity", "time", 81060000000n)).toBe("22:31");
    expect(toHumanString("identity", "time", 81068000000n)).toBe("22:31:08");
    expect(toHumanString("identity", "time", 81068500000n)).toBe("22:31:08.500");
    expect(toHumanString("identity", "time", 81068000001n)).toBe("22:31:08.000001");
  });

  test("identity by type: uuid, bytes, decimal, floats, others", () => {
    expect(toHumanString("identity", "uuid", parseLiteral("uuid", "F79C3E09-677C-4BBD-A479-3F349CB785E7"))).toBe(
      "f79c3e09-677c-4bbd-a479-3f349cb785e7",
    );
    expect(toHumanString("identity", "fixed[4]", Uint8Array.of(0, 1, 2, 3))).toBe("AAECAw==");
    expect(toHumanString("identity", "decimal(9,2)", -5n)).toBe("-0.05");
    expect(toHumanString("identity", "decimal(38,10)", 1n)).toBe("1E-10"); // BigDecimal.toString
    expect(toHumanString("identity", "decimal(38,10)", 0n)).toBe("0E-10");
    expect(toHumanString("identity", "boolean", true)).toBe("true");
    expect(toHumanString("identity", "long", 9223372036854775807n)).toBe("9223372036854775807");
    expect(toHumanString("identity", "string", "a b/c")).toBe("a b/c");
    const doubles: [number, string][] = [
      [1, "1.0"], [-0, "-0.0"], [0.001, "0.001"], [1e-4, "1.0E-4"], [123456.789, "123456.789"],
      [1e7, "1.0E7"], [12345678.9, "1.23456789E7"], [-1.5e-10, "-1.5E-10"], [NaN, "NaN"], [-Infinity, "-Infinity"],
    ];
    for (const [v, s] of doubles) expect(toHumanString("identity", "double", v)).toBe(s);
    expect(toHumanString("identity", "float", Math.fround(0.1))).toBe("0.1"); // Float.toString, not Double's 0.10000000149011612
    expect(toHumanString("identity", "float", Math.fround(3.4e38))).toBe("3.4E38");
  });
});
