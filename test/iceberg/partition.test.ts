import { describe, expect, test } from "vitest";
import { isFloeError } from "../../src/errors.js";
import { parseLiteral } from "../../src/iceberg/literals.js";
import {
  partitionPath, partitionTuple, partitionType, partitioner, urlEncode, validatePartitionSpec,
} from "../../src/iceberg/partition.js";
import type { PartitionField, PartitionSpec, Schema } from "../../src/iceberg/types.js";

const schema: Schema = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "id", required: true, type: "long" },
    { id: 2, name: "ts", required: false, type: "timestamptz" },
    { id: 3, name: "tag", required: false, type: "string" },
    {
      id: 4, name: "ctx", required: false,
      type: { type: "struct", fields: [{ id: 5, name: "region", required: false, type: "string" }, { id: 6, name: "day", required: false, type: "date" }] },
    },
    { id: 7, name: "tags", required: false, type: { type: "list", "element-id": 8, "element-required": true, element: "string" } },
    { id: 9, name: "blob", required: false, type: "binary" },
  ],
};

let nextId = 1000;
const field = (sourceId: number, name: string, transform: string): PartitionField => ({ "source-id": sourceId, "field-id": nextId++, name, transform });
const spec = (...fields: PartitionField[]): PartitionSpec => ({ "spec-id": 0, fields });

describe("partitionType", () => {
  test("partition field ids, names and result types, all optional", () => {
    const s = spec(field(2, "ts_day", "day"), field(1, "id_bucket", "bucket[16]"), field(5, "region", "identity"), field(3, "tag_trunc", "truncate[4]"));
    expect(partitionType(s, schema)).toEqual([
      { id: s.fields[0]["field-id"], name: "ts_day", required: false, type: "date" },
      { id: s.fields[1]["field-id"], name: "id_bucket", required: false, type: "int" },
      { id: s.fields[2]["field-id"], name: "region", required: false, type: "string" },
      { id: s.fields[3]["field-id"], name: "tag_trunc", required: false, type: "string" },
    ]);
    expect(partitionType(spec(), schema)).toEqual([]);
  });
});

describe("validatePartitionSpec", () => {
  const refused = (s: PartitionSpec): string => {
    try {
      validatePartitionSpec(s, schema);
    } catch (e) {
      expect(isFloeError(e, "invalid_input")).toBe(true);
      return (e as Error).message;
    }
    throw new Error("spec was accepted");
  };

  test("accepts a good spec, nested struct sources included", () => {
    expect(() => validatePartitionSpec(spec(field(2, "ts_hour", "hour"), field(6, "ctx_day", "identity")), schema)).not.toThrow();
  });

  test("names what is wrong", () => {
    expect(refused(spec(field(42, "x", "identity")))).toBe('partition field "x": source-id 42 is not a field of schema 0');
    expect(refused(spec(field(1, "p", "identity"), field(3, "p", "identity")))).toBe('partition field "p": duplicate partition field name');
    expect(refused(spec(field(3, "tag_year", "year")))).toBe(
      'partition field "tag_year": transform year cannot apply to string (it applies to date, timestamp, timestamptz) (column tag)',
    );
    expect(refused(spec(field(8, "t", "identity")))).toMatch(/inside a list or map/);
    expect(refused(spec(field(4, "c", "identity")))).toMatch(/source column ctx is not a primitive type/);
    expect(refused(spec(field(2, "ts_x", "week")))).toMatch(/unknown partition transform "week"/);
    expect(refused(spec(field(2, "a", "day"), field(2, "b", "day")))).toMatch(/day of ts is already a partition field/);
    expect(refused(spec(field(2, "tag", "day")))).toMatch(/the name is a column of the schema/);
    expect(refused(spec(field(3, "", "identity")))).toMatch(/non-empty/);
    const dupId = spec(field(1, "a", "identity"), field(3, "b", "identity"));
    dupId.fields[1]["field-id"] = dupId.fields[0]["field-id"];
    expect(refused(dupId)).toMatch(/duplicate partition field-id/);
  });

  test("an identity partition may reuse its own column's name, as in Java", () => {
    expect(() => validatePartitionSpec(spec(field(3, "tag", "identity")), schema)).not.toThrow();
    expect(() => validatePartitionSpec(spec(field(5, "ctx.region", "identity")), schema)).not.toThrow();
  });
});

describe("partitionTuple", () => {
  const s = spec(field(2, "ts_day", "day"), field(1, "id_bucket", "bucket[16]"), field(5, "region", "identity"), field(3, "tag_trunc", "truncate[3]"));
  const ts = parseLiteral("timestamptz", "2017-11-16T22:31:08Z");

  test("reads top-level and nested values by field id and applies the transforms", () => {
    expect(partitionTuple(s, schema, { id: 34n, ts, tag: "iceberg", ctx: { region: "eu" } })).toEqual([17486, 3, "eu", "ice"]);
  });

  test("missing values, null values and null structs give null", () => {
    expect(partitionTuple(s, schema, { id: 34n })).toEqual([null, 3, null, null]);
    expect(partitionTuple(s, schema, { id: 34n, ts: null, ctx: null, tag: null })).toEqual([null, 3, null, null]);
  });

  test("a partitioner resolves the spec once for many rows", () => {
    const p = partitioner(s, schema);
    expect(p({ id: 1n, ts: -1n })[0]).toBe(-1);
    expect(p({ id: 1n, ts: 0n })[0]).toBe(0);
  });
});

describe("partitionPath", () => {
  test("name=value joined by /, values in human form", () => {
    const s = spec(field(2, "ts_day", "day"), field(2, "ts_hour", "hour"), field(1, "id_bucket", "bucket[16]"));
    const tuple = partitionTuple(s, schema, { id: 34n, ts: parseLiteral("timestamptz", "2017-11-16T22:31:08Z") });
    expect(partitionPath(s, schema, tuple)).toBe("ts_day=2017-11-16/ts_hour=2017-11-16-22/id_bucket=3");
  });

  test("spaces, slashes, unicode and null, URL-encoded as Java's URLEncoder", () => {
    const s = spec(field(3, "tag", "identity"), field(5, "reg ion", "identity"), field(9, "blob", "identity"), field(2, "ts", "identity"));
    const path = partitionPath(s, schema, ["a b/c?d=e&f%", "Zürich 🧊", Uint8Array.of(0xfb, 0xff), null]);
    expect(path).toBe("tag=a+b%2Fc%3Fd%3De%26f%25/reg+ion=Z%C3%BCrich+%F0%9F%A7%8A/blob=%2B%2F8%3D/ts=null");
    // each segment decodes back to the human string
    const values = path.split("/").map((seg) => decodeURIComponent(seg.split("=").slice(1).join("=").replace(/\+/g, " ")));
    expect(values).toEqual(["a b/c?d=e&f%", "Zürich 🧊", "+/8=", "null"]);
  });

  test("timestamps keep Java's ISO form, with ':' encoded", () => {
    const s = spec(field(2, "ts", "identity"));
    expect(partitionPath(s, schema, [1510871468000001n])).toBe("ts=2017-11-16T22%3A31%3A08.000001%2B00%3A00");
  });

  test("an unpartitioned spec has an empty path; a tuple of the wrong size is a bug", () => {
    expect(partitionPath(spec(), schema, [])).toBe("");
    expect(() => partitionPath(spec(field(3, "tag", "identity")), schema, [])).toThrow(/partition tuple has 0 values/);
  });

  test("urlEncode keeps exactly A-Za-z0-9.-*_ and turns space into +", () => {
    expect(urlEncode("AZaz09.-*_")).toBe("AZaz09.-*_");
    expect(urlEncode("!'()~ ")).toBe("%21%27%28%29%7E+");
    expect(urlEncode("\ud800x")).toBe("%3Fx"); // lone surrogate → "?" as in Java
  });
});
