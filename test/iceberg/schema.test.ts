import { describe, expect, it } from "vitest";
import { FloeError } from "../../src/errors.js";
import { unionByName } from "../../src/iceberg/evolve.js";
import { inferStruct } from "../../src/iceberg/infer.js";
import { DEFAULT_POLICY } from "../../src/iceberg/ingest-policy.js";
import { compileRowConverter } from "../../src/iceberg/rows.js";
import { assignFreshIds, idCounter, makeSchema, validateSchema } from "../../src/iceberg/schema.js";
import type { Schema, StructType } from "../../src/iceberg/types.js";

const schemaOf = (t: StructType): Schema => ({ ...assignFreshIds(t, idCounter(0)), "schema-id": 0 });

function error(fn: () => unknown): FloeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FloeError);
    return e as FloeError;
  }
  throw new Error("expected a FloeError");
}

describe("inference from JSON rows", () => {
  it("infers double, string, boolean, structs and lists by default, all optional; integral numbers as long only with the long policy", () => {
    const row = { a: 1, b: 1.5, c: "2024-01-01T00:00:00Z", d: true, e: { x: [1, 2] } };
    const shape = (numbers: "double" | "long") => inferStruct([row], 0, undefined, { ...DEFAULT_POLICY, numbers }).fields.map((f) => [f.name, f.type, f.required]);
    const list = (element: string) => ({ type: "struct", fields: [{ id: 0, name: "x", required: false, type: { type: "list", "element-id": 0, "element-required": false, element } }] });
    expect(inferStruct([row]).fields.map((f) => [f.name, f.type, f.required])).toEqual(shape("double"));
    expect(shape("double")).toEqual([["a", "double", false], ["b", "double", false], ["c", "string", false], ["d", "boolean", false], ["e", list("double"), false]]);
    expect(shape("long")).toEqual([["a", "long", false], ["b", "double", false], ["c", "string", false], ["d", "boolean", false], ["e", list("long"), false]]);
  });

  it("with the long policy, widens long to double across rows and merges struct fields", () => {
    const t = inferStruct([{ a: 1, s: { x: 1 } }, { a: 2.5, s: { y: "q" } }], 0, undefined, { ...DEFAULT_POLICY, numbers: "long" });
    expect(t.fields[0].type).toBe("double");
    expect((t.fields[1].type as StructType).fields.map((f) => f.name)).toEqual(["x", "y"]);
  });

  it("refuses names over the length limit and nesting over the depth limit, naming the limit, row and field", () => {
    const policy = { ...DEFAULT_POLICY, maxDepth: 3, maxNameLength: 8 };
    const long = error(() => inferStruct([{ ok: 1 }, { ok: 1, abcdefghi: 2 }], 0, undefined, policy));
    expect(long.code).toBe("invalid_input");
    expect(long.details).toMatchObject({ limit: "floe.limit.field-name-length", value: 8, row: 1, field: "abcdefghi" });
    expect(long.message).toMatch(/row 1, field "abcdefghi…": the name has 9 characters, over the limit of 8 \(property floe.limit.field-name-length\)/);
    // Three levels of structs or lists are allowed, a fourth is refused.
    expect(inferStruct([{ a: { b: { c: { d: 1 } } } }], 0, undefined, policy).fields).toHaveLength(1);
    const deep = error(() => inferStruct([{ a: { b: { c: { d: { e: 1 } } } } }], 0, undefined, policy));
    expect(deep.details).toMatchObject({ limit: "floe.limit.depth", value: 3, row: 0, field: "a.b.c.d" });
    const lists = error(() => inferStruct([{ a: [[[[1]]]] }], 0, undefined, policy));
    expect(lists.details).toMatchObject({ limit: "floe.limit.depth", field: "a.element.element.element" });
    // 100,000 levels: refused at the limit, not by a stack overflow.
    const hostile = JSON.parse("[".repeat(100_000) + "]".repeat(100_000));
    expect(error(() => inferStruct([{ x: hostile }])).details).toMatchObject({ limit: "floe.limit.depth", value: 16 });
  });

  it("leaves out objects with no field of known type (a struct of no fields has no Parquet form)", () => {
    // Found by the columnar scanner's differential test: {"é": {}} made a struct<> that no Parquet writer can write.
    expect(inferStruct([{ id: 1, e: {}, n: { a: null, b: {} }, l: [{}] }]).fields.map((f) => f.name)).toEqual(["id"]);
    expect(inferStruct([{ e: {} }, { e: { x: 1 } }]).fields.map((f) => [f.name, f.type])).toEqual([["e", { type: "struct", fields: [{ id: 0, name: "x", required: false, type: "double" }] }]]);
  });

  it("leaves out fields that are null in every row", () => {
    expect(inferStruct([{ a: null, b: [] }]).fields).toEqual([]);
  });

  it("refuses a non-object row and conflicting types, naming row and field", () => {
    expect(error(() => inferStruct([{ a: 1 }, [1, 2]])).message).toBe("row 1: expected a JSON object, got an array");
    const e = error(() => inferStruct([{ a: { b: 1 } }, { a: { b: "x" } }], 10));
    expect(e.message).toBe('row 11, field "a.b": expected double as in earlier rows, got string "x"');
    expect(e.details).toMatchObject({ row: 11, field: "a.b" });
  });

  it("with the table's struct, infers only new fields (nested ones too), leaving known ones to the converter", () => {
    const known: StructType = { type: "struct", fields: [{ id: 1, name: "a", required: false, type: "string" }, { id: 2, name: "s", required: false, type: { type: "struct", fields: [{ id: 3, name: "x", required: false, type: "long" }] } }] };
    const t = inferStruct([{ a: 1, s: { x: "q", y: true } }, { a: "b", z: 2.5 }], 0, known);
    expect(t).toEqual({ type: "struct", fields: [
      { id: 0, name: "s", required: false, type: { type: "struct", fields: [{ id: 0, name: "y", required: false, type: "boolean" }] } },
      { id: 0, name: "z", required: false, type: "double" },
    ] });
  });

  it("assigns ids 1..n to top-level fields first, then nested ones", () => {
    const s = schemaOf(inferStruct([{ a: 1, n: { x: 1 }, l: ["q"] }]));
    expect(s.fields.map((f) => f.id)).toEqual([1, 2, 3]);
    expect((s.fields[1].type as StructType).fields[0].id).toBe(4);
    expect(s.fields[2].type).toMatchObject({ "element-id": 5 });
  });
});

describe("schema validation", () => {
  it("refuses duplicate names and ids", () => {
    expect(error(() => makeSchema([{ id: 1, name: "a", required: false, type: "long" }, { id: 2, name: "a", required: false, type: "string" }])).message).toBe('field "a": duplicate field name');
    expect(error(() => validateSchema({ type: "struct", fields: [{ id: 1, name: "a", required: false, type: "long" }, { id: 1, name: "b", required: false, type: "long" }] })).message).toBe('field "b": id 1 is used twice');
  });
});

describe("schema evolution (unionByName)", () => {
  const base = makeSchema([
    { id: 1, name: "id", required: true, type: "int" },
    { id: 2, name: "price", required: false, type: "float" },
    { id: 3, name: "name", required: false, type: "string" },
    { id: 4, name: "amount", required: false, type: "decimal(9,2)" },
  ]);

  it("adds new fields as optional columns with fresh ids, nested ones too", () => {
    const u = unionByName(base, { type: "struct", fields: [{ id: 0, name: "extra", required: true, type: { type: "struct", fields: [{ id: 0, name: "k", required: false, type: "string" }] } }] }, 4, { inferred: false });
    expect(u.changed).toBe(true);
    expect(u.schema["schema-id"]).toBe(1);
    expect(u.schema.fields[4]).toEqual({ id: 5, name: "extra", required: false, type: { type: "struct", fields: [{ id: 6, name: "k", required: false, type: "string" }] } });
    expect(u.lastColumnId).toBe(6);
  });

  it("promotes int→long, float→double, decimal precision, and required→optional", () => {
    const u = unionByName(base, { type: "struct", fields: [
      { id: 0, name: "id", required: false, type: "long" },
      { id: 0, name: "price", required: false, type: "double" },
      { id: 0, name: "amount", required: false, type: "decimal(12,2)" },
    ] }, 4, { inferred: false });
    expect(u.schema.fields.map((f) => [f.id, f.type, f.required])).toEqual([[1, "long", false], [2, "double", false], [3, "string", false], [4, "decimal(12,2)", false]]);
  });

  it("refuses any other change, naming the field and both types", () => {
    const e = error(() => unionByName(base, { type: "struct", fields: [{ id: 0, name: "name", required: false, type: "long" }] }, 4, { inferred: false }));
    expect(e.code).toBe("schema_conflict");
    expect(e.message).toMatch(/^field "name": cannot change type from string to long/);
    expect(error(() => unionByName(base, { type: "struct", fields: [{ id: 0, name: "amount", required: false, type: "decimal(9,3)" }] }, 4, { inferred: false })).message).toMatch(/from decimal\(9, 2\) to decimal\(9, 3\)/);
    expect(error(() => unionByName(base, { type: "struct", fields: [{ id: 0, name: "price", required: false, type: "long" }] }, 4, { inferred: false })).message).toMatch(/from float to long/);
  });

  it("leaves an inferred mismatch to the row converter and reports no change", () => {
    const u = unionByName(base, { type: "struct", fields: [{ id: 0, name: "name", required: false, type: "long" }] }, 4, { inferred: true });
    expect(u.changed).toBe(false);
    expect(u.schema).toEqual(base);
  });
});

describe("row conversion", () => {
  const schema = makeSchema([
    { id: 1, name: "id", required: true, type: "long" },
    { id: 2, name: "n", required: false, type: "int" },
    { id: 3, name: "at", required: false, type: "timestamptz" },
    { id: 4, name: "tags", required: false, type: { type: "list", "element-id": 5, "element-required": true, element: "string" } },
  ]);
  const convert = compileRowConverter(schema, { unknownFields: "error" });

  it("converts JSON values to internal values column by column", () => {
    const b = convert([{ id: 1, n: 2, at: "2024-01-01T00:00:00Z", tags: ["a"] }, { id: "9007199254740993" }], 0);
    expect(b.rowCount).toBe(2);
    expect(b.columns[0]).toEqual([1n, 9007199254740993n]);
    expect(b.columns[2]).toEqual([1704067200000000n, null]);
    expect(b.columns[3]).toEqual([["a"], null]);
  });

  it("names the row and field of a value that does not fit", () => {
    const cases: [unknown, string][] = [
      [{ id: "x" }, 'row 7, field "id": '],
      [{ id: 1, n: 2 ** 31 }, 'row 7, field "n": '],
      [{ id: 1, at: 1700000000 }, 'row 7, field "at": '],
      [{ id: 1, tags: ["a", null] }, 'row 7, field "tags[1]": list element is required'],
      [{ id: 1, tags: "a" }, 'row 7, field "tags": expected list, got string "a"'],
      [{ n: 1 }, 'row 7, field "id": required field is missing'],
      [{ id: 1, other: 1 }, 'row 7, field "other": field is not in the table schema'],
      ["text", "row 7: expected a JSON object, got string"],
    ];
    for (const [row, prefix] of cases) {
      const e = error(() => convert([{ id: 1 }, row], 6));
      expect(e.code).toBe("invalid_input");
      expect(e.message.startsWith(prefix), `${e.message} / ${prefix}`).toBe(true);
    }
  });
});
