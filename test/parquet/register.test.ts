import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fileOfBytes, parquetMetadataOf } from "../../src/decode/parquet.js";
import { freshSchema } from "../../src/iceberg/batch-writer.js";
import type { PartitionSpec, Schema } from "../../src/iceberg/types.js";
import { fromSingleValue } from "../../src/iceberg/values.js";
import { planRegistration, RAW_STATISTICS, type RegisterTarget } from "../../src/parquet/register.js";
import { compileRowConverter } from "../../src/iceberg/rows.js";
import { DataFileWriter } from "../../src/parquet/writer.js";
import { bodyBytes } from "../../src/storage/object-store.js";
import { duckdb } from "../support/duckdb.js";
import { tempPath } from "../support/temp-file.js";

// Files written by DuckDB (a writer we did not write), planned for registration: the Iceberg
// types read from their Parquet schema, the metrics from their footers compared with what DuckDB
// itself reports about the same file (parquet_metadata), and the cases that must be rewritten.

/** A Parquet file DuckDB writes from `select`, and its footer as registration reads it. */
async function duck(select: string, opts = "") {
  const path = tempPath("reg.parquet");
  await duckdb(`SET TimeZone = 'UTC'; COPY (${select}) TO '${path}' (FORMAT parquet${opts})`);
  const bytes = new Uint8Array(readFileSync(path));
  return { path, bytes, metadata: await parquetMetadataOf(fileOfBytes(bytes), RAW_STATISTICS) };
}

const NEW: RegisterTarget = { schema: null, lastColumnId: 0, spec: null, partitionBy: [], mode: "evolve" };

const FLAT = `SELECT i::BIGINT AS id, 'name ' || i AS name, (i * 1.5)::DOUBLE AS score, i % 2 = 0 AS active,
  DATE '2024-01-01' + i::INTEGER AS born, TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 HOUR AS seen,
  (TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 HOUR)::TIMESTAMPTZ AS seen_tz, (i / 4)::DECIMAL(9,2) AS price,
  (i * 100)::DECIMAL(18,3) AS amount, (i * 3)::INTEGER AS qty, md5(i::VARCHAR)::UUID AS uid, encode('b' || i) AS raw,
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'z' || i END AS maybe, i::FLOAT AS f
  FROM range(1, 101) r(i)`;

describe("planRegistration: a flat DuckDB file", () => {
  it("reads every column as the Iceberg type the spec maps it from, in a new table", async () => {
    const { metadata } = await duck(FLAT);
    const plan = planRegistration(metadata, 1234, NEW);
    expect(plan.fits, plan.fits ? "" : plan.why).toBe(true);
    if (!plan.fits) return;
    expect(Object.fromEntries(plan.schema.fields.map((f) => [f.name, f.type]))).toEqual({
      id: "long", name: "string", score: "double", active: "boolean",
      born: "date", seen: "timestamp", seen_tz: "timestamptz", price: "decimal(9, 2)", amount: "decimal(18, 3)", qty: "int",
      uid: "uuid", raw: "binary", maybe: "string", f: "float",
    });
    expect(plan.schema.fields.every((f) => !f.required)).toBe(true);
    expect(plan.schema.fields.map((f) => f.id)).toEqual(plan.schema.fields.map((_, i) => i + 1));
    expect(plan.partition).toEqual([]);
    expect(plan.partitionPath).toBe("");
  });

  it("has the metrics DuckDB reports for its own file: counts, sizes, and bounds in Iceberg's binary form", async () => {
    const { path, metadata } = await duck(FLAT);
    const plan = planRegistration(metadata, 1234, NEW);
    if (!plan.fits) throw new Error(plan.why);
    const m = plan.metrics;
    expect(m.recordCount).toBe(100);
    expect(m.fileSizeInBytes).toBe(1234);
    const ids = Object.fromEntries(plan.schema.fields.map((f) => [f.name, f.id]));
    const theirs = await duckdb(`SELECT path_in_schema AS col, sum(total_compressed_size)::BIGINT AS size, sum(num_values)::BIGINT AS n, sum(stats_null_count)::BIGINT AS nulls,
      min(stats_min_value) AS lo, max(stats_max_value) AS hi FROM parquet_metadata('${path}') GROUP BY path_in_schema`);
    for (const t of theirs) {
      const id = ids[String(t.col)];
      expect(m.columnSizes.get(id), String(t.col)).toBe(Number(t.size));
      expect(m.valueCounts.get(id), String(t.col)).toBe(Number(t.n));
      expect(m.nullValueCounts.get(id), String(t.col)).toBe(Number(t.nulls));
    }
    expect(m.nullValueCounts.get(ids.maybe)).toBe(33);
    const bound = (name: string, which: "lowerBounds" | "upperBounds") => {
      const f = plan.schema.fields.find((x) => x.name === name)!;
      const b = m[which].get(f.id);
      return b === undefined ? undefined : fromSingleValue(f.type as never, b);
    };
    expect([bound("id", "lowerBounds"), bound("id", "upperBounds")]).toEqual([1n, 100n]);
    expect([bound("qty", "lowerBounds"), bound("qty", "upperBounds")]).toEqual([3, 300]);
    expect([bound("born", "lowerBounds"), bound("born", "upperBounds")]).toEqual([19724, 19823]); // 2024-01-02 .. 2024-04-10 in days
    expect(bound("seen", "lowerBounds")).toBe(1704070800000000n); // 2024-01-01T01:00:00Z in µs
    expect(bound("seen_tz", "upperBounds")).toBe(1704067200000000n + 100n * 3600n * 1000000n);
    expect([bound("name", "lowerBounds"), bound("name", "upperBounds")]).toEqual(["name 1", "name 99"]);
    expect([bound("f", "lowerBounds"), bound("f", "upperBounds")]).toEqual([1, 100]);
    expect(bound("active", "lowerBounds")).toBe(false);
    // Decimal statistics come out of the footer parser as floats: no bound rather than an inexact one.
    expect(bound("price", "lowerBounds")).toBeUndefined();
    // A footer says nothing about NaN: no count is claimed.
    expect(m.nanValueCounts.size).toBe(0);
  });

  it("uses the file's field ids for a new table when it has them", async () => {
    const { metadata } = await duck("SELECT 1::BIGINT AS a, 'x' AS b", ", FIELD_IDS {a: 7, b: 3}");
    const plan = planRegistration(metadata, 10, NEW);
    if (!plan.fits) throw new Error(plan.why);
    expect(plan.schema.fields.map((f) => [f.name, f.id])).toEqual([["a", 7], ["b", 3]]);
  });
});

describe("planRegistration: fitting an existing table", () => {
  const table = (fields: [string, string, boolean?][]): Schema => freshSchema({ type: "struct", fields: fields.map(([name, type, required]) => ({ id: 0, name, type: type as never, required: required ?? false })) });
  const target = (schema: Schema, more: Partial<RegisterTarget> = {}): RegisterTarget => ({ schema, lastColumnId: schema.fields.length, spec: { "spec-id": 0, fields: [] }, partitionBy: [], mode: "evolve", ...more });

  it("keeps the table's schema object when the file's columns are the table's", async () => {
    const schema = table([["id", "long"], ["name", "string"], ["extra", "double"]]);
    const { metadata } = await duck("SELECT 1::BIGINT AS id, 'a' AS name");
    const plan = planRegistration(metadata, 10, target(schema));
    expect(plan.fits && plan.schema).toBe(schema);
  });

  it("adds new columns and promotes int to long in the table (evolve)", async () => {
    const schema = table([["id", "int"], ["name", "string"]]);
    const { metadata } = await duck("SELECT 1::BIGINT AS id, 'a' AS name, 2.5::DOUBLE AS added");
    const plan = planRegistration(metadata, 10, target(schema));
    if (!plan.fits) throw new Error(plan.why);
    expect(plan.schema.fields.map((f) => [f.name, f.id, f.type])).toEqual([["id", 1, "long"], ["name", 2, "string"], ["added", 3, "double"]]);
  });

  it("reads an int file column into a long table field as it is", async () => {
    const schema = table([["id", "long"]]);
    const { metadata } = await duck("SELECT 1::INTEGER AS id");
    const plan = planRegistration(metadata, 10, target(schema));
    expect(plan.fits && plan.schema).toBe(schema);
  });

  it.each([
    ["a type the table cannot take", [["id", "long"]], "SELECT 'x' AS id", "", /id/],
    ["a new column in a strict table", [["id", "long"]], "SELECT 1::BIGINT AS id, 2 AS more", "strict", /more is not in the table \(mode strict\)/],
    ["an optional column for a required field", [["id", "long", true]], "SELECT 1::BIGINT AS id", "", /optional in the file and required in the table/],
  ] as const)("is refused for %s, with the reason", async (_, fields, select, mode, why) => {
    const { metadata } = await duck(select);
    const plan = planRegistration(metadata, 10, target(table(fields as unknown as [string, string, boolean?][]), mode === "strict" ? { mode: "strict" } : {}));
    expect(plan.fits).toBe(false);
    if (!plan.fits) expect(plan.why).toMatch(why);
  });

  it("refuses field ids that are not the table's", async () => {
    const { metadata } = await duck("SELECT 1::BIGINT AS id", ", FIELD_IDS {id: 9}");
    const plan = planRegistration(metadata, 10, target(table([["id", "long"]])));
    expect(plan.fits || plan.why).toBe("column id has field id 9 in the file and 1 in the table");
  });
});

describe("planRegistration: files that are rewritten instead", () => {
  it.each([
    ["a nested column", "SELECT 1 AS id, [1, 2] AS xs", /column xs is nested/],
    ["a struct", "SELECT {'a': 1} AS s", /column s is nested/],
    ["an unsigned integer", "SELECT 1::UTINYINT AS u", /column u has a Parquet type \(INT32 (INTEGER|UINT_8)\)/],
    ["a millisecond timestamp", "SELECT TIMESTAMP_MS '2024-01-01 00:00:00' AS t", /column t has a Parquet type \(INT64 TIMESTAMP\(MILLIS\)\)/],
    ["no rows", "SELECT 1 AS id WHERE false", /holds no rows/],
  ])("%s", async (_, select, why) => {
    const { metadata } = await duck(select);
    const plan = planRegistration(metadata, 10, NEW);
    expect(plan.fits).toBe(false);
    if (!plan.fits) expect(plan.why).toMatch(why);
  });
});

describe("planRegistration: partitioned tables", () => {
  const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "ts", required: false, type: "timestamp" }, { id: 0, name: "kind", required: false, type: "string" }] });
  const spec = (transform: string, source = 2): PartitionSpec => ({ "spec-id": 0, fields: [{ "source-id": source, "field-id": 1000, name: "p", transform }] });
  const target = (s: PartitionSpec): RegisterTarget => ({ schema, lastColumnId: 3, spec: s, partitionBy: [], mode: "evolve" });
  const oneDay = "SELECT i::BIGINT AS id, TIMESTAMP '2024-03-05 00:00:00' + i * INTERVAL 1 MINUTE AS ts, 'a' AS kind FROM range(0, 600) r(i)";
  const twoDays = "SELECT i::BIGINT AS id, TIMESTAMP '2024-03-05 20:00:00' + i * INTERVAL 1 MINUTE AS ts, 'a' AS kind FROM range(0, 600) r(i)";

  it("places a file whose rows share one day in that partition", async () => {
    const { metadata } = await duck(oneDay);
    const plan = planRegistration(metadata, 10, target(spec("day")));
    if (!plan.fits) throw new Error(plan.why);
    expect(plan.partition).toEqual([19787]);
    expect(plan.partitionPath).toBe("p=2024-03-05");
  });

  it("rewrites a file spanning two days, one partitioned by bucket, and one by a string column", async () => {
    expect(planRegistration((await duck(twoDays)).metadata, 10, target(spec("day")))).toMatchObject({ fits: false, why: "the file's rows are in more than one partition" });
    expect(planRegistration((await duck(oneDay)).metadata, 10, target(spec("bucket[4]", 1)))).toMatchObject({ fits: false, why: expect.stringMatching(/bucket\[4\]/) });
    expect(planRegistration((await duck(oneDay)).metadata, 10, target(spec("identity", 3)))).toMatchObject({ fits: false, why: expect.stringMatching(/string source/) });
  });

  it("puts a file without the partition column in the null partition, and one mixing nulls and values nowhere", async () => {
    const without = await duck("SELECT 1::BIGINT AS id");
    expect(planRegistration(without.metadata, 10, target(spec("day")))).toMatchObject({ fits: true, partition: [null], partitionPath: "p=null" });
    const mixed = await duck("SELECT i::BIGINT AS id, CASE WHEN i = 0 THEN NULL ELSE TIMESTAMP '2024-03-05 01:00:00' END AS ts FROM range(0, 3) r(i)");
    expect(planRegistration(mixed.metadata, 10, target(spec("day")))).toMatchObject({ fits: false, why: expect.stringMatching(/mixes nulls and values/) });
  });
});

describe("planRegistration: our own writer's files", () => {
  it("registers a file Floe wrote for the same schema (field ids equal)", async () => {
    const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: true, type: "long" }, { id: 0, name: "s", required: false, type: "string" }] });
    const w = new DataFileWriter({ schema });
    await w.write(compileRowConverter(schema, { unknownFields: "error" })([{ id: 1, s: "a" }, { id: 2, s: null }], 0));
    const bytes = bodyBytes((await w.finish()).chunks);
    const plan = planRegistration(await parquetMetadataOf(fileOfBytes(bytes), RAW_STATISTICS), bytes.byteLength, { schema, lastColumnId: 2, spec: { "spec-id": 0, fields: [] }, partitionBy: [], mode: "strict" });
    expect(plan.fits && plan.schema).toBe(schema);
  });
});

describe("a corrupt footer schema", () => {
  it("is not registered (the rewrite path then refuses it with the reason), never a TypeError", () => {
    // The root claims three children where the footer holds one element after it (hyparquet trusts num_children).
    const metadata = { version: 2, schema: [{ name: "root", num_children: 3 }, { name: "a", type: "INT32", repetition_type: "OPTIONAL" }], num_rows: 1n, row_groups: [], metadata_length: 0 } as never;
    const target: RegisterTarget = { schema: null, lastColumnId: 0, spec: null, partitionBy: [], mode: "evolve" };
    expect(planRegistration(metadata, 100, target)).toEqual({ fits: false, why: "the schema in the footer is unreadable" });
  });
});
