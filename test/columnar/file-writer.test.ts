import fc from "fast-check";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { describe, expect, it } from "vitest";
import { compileRowConverter } from "../../src/iceberg/rows.js";
import type { PrimitiveType, Schema } from "../../src/iceberg/types.js";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { ParquetWriter } from "hyparquet-writer/src/parquet-writer.js";
import { codecOptions } from "../../src/parquet/codecs.js";
import { fileMetrics } from "../../src/parquet/metrics.js";
import { parquetSchema } from "../../src/parquet/schema.js";
import { CREATED_BY, DataFileWriter, footerMetadata } from "../../src/parquet/writer.js";
import { bodyBytes } from "../../src/storage/object-store.js";
import { duckdb } from "../support/duckdb.js";
import { tempFile } from "../support/temp-file.js";

const FLAT: Schema = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "b", required: false, type: "boolean" },
    { id: 2, name: "i", required: false, type: "int" },
    { id: 3, name: "l", required: true, type: "long" },
    { id: 4, name: "f", required: false, type: "float" },
    { id: 5, name: "d", required: false, type: "double" },
    { id: 6, name: "dt", required: false, type: "date" },
    { id: 7, name: "t", required: false, type: "time" },
    { id: 8, name: "ts", required: false, type: "timestamp" },
    { id: 9, name: "tstz", required: false, type: "timestamptz" },
    { id: 10, name: "s", required: false, type: "string" },
  ],
};

const ROWS = [
  { b: true, i: -7, l: "9007199254740993", f: 1.5, d: 2.25, dt: "2017-11-16", t: "22:31:08.123456", ts: "2017-11-16T22:31:08.000001", tstz: "2017-11-16T22:31:08Z", s: "héllo 🌍 wörld, a string longer than sixteen characters" },
  { b: null, i: null, l: 0, f: null, d: "NaN", dt: null, t: null, ts: null, tstz: null, s: "" },
  { b: false, i: 2147483647, l: -1, f: -0.5, d: -1e300, dt: "1969-12-31", t: null, ts: "1969-12-31T23:59:59.999999", tstz: "1970-01-01T00:00:00Z", s: "zz" },
  { b: false, i: 0, l: "-9223372036854775808", f: -0, d: -0, dt: "1970-01-01", t: "00:00:00", ts: null, tstz: null, s: "zz" },
];

type Rows = Record<string, unknown>[];

/** The reference: the same converted values written by hyparquet-writer alone, as Floe wrote every file before its own column writer. */
function hyparquetWrite(schema: Schema, columns: unknown[][], rowCount: number, codec: string, rowGroupRows: number) {
  const out = new ByteWriter();
  const w = new ParquetWriter({ writer: out, schema: parquetSchema(schema), ...codecOptions(codec), kvMetadata: footerMetadata(schema) });
  if (rowCount) w.write({ columnData: schema.fields.map((f, i) => ({ name: f.name, data: columns[i] })), rowGroupSize: rowGroupRows });
  w.finish();
  return { bytes: new Uint8Array(out.getBuffer()), metrics: fileMetrics(schema, w.row_groups, rowCount, out.offset), rowGroups: w.row_groups };
}

async function write(schema: Schema, rows: Rows, opts: { codec?: string; rowGroupRows?: number; reference?: boolean } = {}) {
  const batch = compileRowConverter(schema, { unknownFields: "error" })(rows, 0);
  if (opts.reference) return hyparquetWrite(schema, batch.columns, batch.rowCount, opts.codec ?? "snappy", opts.rowGroupRows ?? 10_000);
  const w = new DataFileWriter({ schema, codec: opts.codec, rowGroupRows: opts.rowGroupRows ?? 10_000, rowGroupBytes: 8 << 20 });
  await w.write(batch);
  const { chunks, metrics } = await w.finish();
  const bytes = bodyBytes(chunks);
  return { bytes, metrics, rowGroups: w.rowGroups };
}

const read = (bytes: Uint8Array) => parquetReadObjects({ compressors, file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });

describe("our column writer (flat schemas)", () => {
  it("is chosen for flat schemas and read by DuckDB as written, for every codec", async () => {
    for (const codec of ["snappy", "gzip", "uncompressed"]) {
      const { bytes } = await write(FLAT, ROWS, { codec, rowGroupRows: 3 });
      const path = tempFile("flat.parquet", bytes);
      expect(await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`)).toEqual([{ compression: codec.toUpperCase() }]);
      expect(await duckdb(`SELECT created_by FROM parquet_file_metadata('${path}')`)).toEqual([{ created_by: CREATED_BY }]);
      expect(await duckdb(`SELECT * FROM read_parquet('${path}')`)).toEqual([
        { b: true, i: -7, l: "9007199254740993", f: 1.5, d: 2.25, dt: "2017-11-16", t: "22:31:08.123456", ts: "2017-11-16 22:31:08.000001", tstz: "2017-11-16 22:31:08+00", s: ROWS[0].s },
        { b: null, i: null, l: "0", f: null, d: "NaN", dt: null, t: null, ts: null, tstz: null, s: "" },
        { b: false, i: 2147483647, l: "-1", f: -0.5, d: -1e300, dt: "1969-12-31", t: null, ts: "1969-12-31 23:59:59.999999", tstz: "1970-01-01 00:00:00+00", s: "zz" },
        { b: false, i: 0, l: "-9223372036854775808", f: -0, d: -0, dt: "1970-01-01", t: "00:00:00", ts: null, tstz: null, s: "zz" },
      ]);
      const ids = await duckdb(`SELECT name, field_id FROM parquet_schema('${path}') WHERE field_id IS NOT NULL`);
      expect(ids.map((r) => Number(r.field_id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
  });

  it("writes statistics DuckDB reads as the manifest metrics, and dictionary pages where they pay", async () => {
    const rows: Rows = [];
    for (let n = 0; n < 5000; n++) rows.push({ l: n - 2500, s: ["click", "view", "purchase"][n % 3], d: n % 7 === 0 ? null : n / 8 });
    const { bytes, metrics } = await write(FLAT, rows, { rowGroupRows: 2000 });
    const path = tempFile("stats.parquet", bytes);
    const stats = await duckdb(`SELECT path_in_schema, encodings, stats_min_value, stats_max_value, stats_null_count, num_values FROM parquet_metadata('${path}') WHERE path_in_schema IN ('l', 's', 'd') ORDER BY row_group_id`);
    expect(stats.filter((r) => r.path_in_schema === "s").every((r) => String(r.encodings).includes("RLE_DICTIONARY"))).toBe(true);
    expect(stats.filter((r) => r.path_in_schema === "l").every((r) => !String(r.encodings).includes("DICTIONARY"))).toBe(true);
    const l = stats.filter((r) => r.path_in_schema === "l");
    expect(l.map((r) => [Number(r.stats_min_value), Number(r.stats_max_value)])).toEqual([[-2500, -501], [-500, 1499], [1500, 2499]]);
    expect(stats.filter((r) => r.path_in_schema === "s").map((r) => [r.stats_min_value, r.stats_max_value])).toEqual([["click", "view"], ["click", "view"], ["click", "view"]]);
    const dNulls = stats.filter((r) => r.path_in_schema === "d").reduce((n, r) => n + Number(r.stats_null_count), 0);
    expect(metrics.nullValueCounts.get(5)).toBe(dNulls);
    expect(dNulls).toBe(715);
    expect(metrics.valueCounts.get(10)).toBe(5000);
    expect(new TextDecoder().decode(metrics.lowerBounds.get(10))).toBe("click");
    expect(new TextDecoder().decode(metrics.upperBounds.get(10))).toBe("view");
    expect(await duckdb(`SELECT count(*)::INT AS n, sum(l)::BIGINT AS sl, count(DISTINCT s)::INT AS ds FROM read_parquet('${path}') WHERE s = 'view'`)).toEqual([{ n: 1667, sl: "0", ds: 1 }]);
  });

  it("cuts pages of about 1 MiB and reads back every value (strings too long for a dictionary to pay)", async () => {
    const rows: Rows = [];
    for (let n = 0; n < 3000; n++) rows.push({ l: n, s: `${n}:${"x".repeat(1000)}` });
    const { bytes } = await write(FLAT, rows, { rowGroupRows: 3000 });
    const path = tempFile("pages.parquet", bytes);
    const meta = await duckdb(`SELECT encodings FROM parquet_metadata('${path}') WHERE path_in_schema = 's'`);
    expect(String(meta[0].encodings)).not.toContain("DICTIONARY");
    expect(await duckdb(`SELECT count(*)::INT AS n, sum(length(s))::INT AS len, min(s[:3]) AS lo FROM read_parquet('${path}')`)).toEqual([{ n: 3000, len: 3000 * 1000 + rows.reduce((a, r) => a + String(r.l).length + 1, 0), lo: "0:x" }]);
    const back = await read(bytes);
    expect(back.map((r) => r.s)).toEqual(rows.map((r) => r.s));
  });

  // The property: for any flat schema and rows, our writer and hyparquet-writer produce files that
  // read back to the same rows and Iceberg metrics that are the same, field by field.
  it("matches hyparquet-writer: same rows read back, same metrics (property)", async () => {
    const kinds: PrimitiveType[] = ["boolean", "int", "long", "float", "double", "date", "time", "timestamp", "timestamptz", "string"];
    const instant = fc.date({ min: new Date(-30_000_000_000_000), max: new Date(30_000_000_000_000), noInvalidDate: true });
    const micros = fc.integer({ min: 0, max: 999 }).map((u) => String(u).padStart(3, "0"));
    const value = (t: PrimitiveType): fc.Arbitrary<unknown> => {
      switch (t) {
        case "boolean":
          return fc.boolean();
        case "int":
          return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
        case "long":
          return fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String));
        case "date":
          return instant.map((d) => d.toISOString().slice(0, 10));
        case "time":
          return fc.tuple(instant, micros).map(([d, u]) => `${d.toISOString().slice(11, 23)}${u}`);
        case "timestamp":
          return fc.tuple(instant, micros).map(([d, u]) => `${d.toISOString().slice(0, 23)}${u}`);
        case "timestamptz":
          return fc.tuple(instant, micros).map(([d, u]) => `${d.toISOString().slice(0, 23)}${u}Z`);
        case "float":
          return fc.float({ noDefaultInfinity: true }).map((x) => (Number.isNaN(x) ? "NaN" : x));
        case "double":
          return fc.oneof(fc.double({ noDefaultInfinity: true }), fc.constantFrom(0, -0, 1.5)).map((x) => (Number.isNaN(x) ? "NaN" : x));
        default:
          return fc.oneof(fc.constantFrom("a", "b", "é", "🌍", "", "\uffff", "zz"), fc.string({ unit: "grapheme", maxLength: 20 }));
      }
    };
    const schemaArb = fc.uniqueArray(fc.record({ type: fc.constantFrom(...kinds), required: fc.boolean() }), { minLength: 1, maxLength: 5, selector: (f) => f.type });
    await fc.assert(
      fc.asyncProperty(
        schemaArb.chain((fields) =>
          fc.tuple(
            fc.constant(fields),
            fc.array(fc.tuple(...fields.map((f) => (f.required ? value(f.type) : fc.option(value(f.type), { freq: 4 })))), { maxLength: 60 }),
            fc.integer({ min: 1, max: 25 }),
            fc.constantFrom("snappy", "gzip", "uncompressed"),
          ),
        ),
        async ([fields, tuples, rowGroupRows, codec]) => {
          const schema: Schema = { type: "struct", "schema-id": 0, fields: fields.map((f, i) => ({ id: i + 1, name: `c${i}`, required: f.required, type: f.type })) };
          const rows = tuples.map((t) => Object.fromEntries(fields.map((f, i) => [`c${i}`, t[i]])));
          const ours = await write(schema, rows, { rowGroupRows, codec });
          const theirs = await write(schema, rows, { rowGroupRows, codec, reference: true });
          // hyparquet-writer's dictionary of doubles keys a Map, where -0 and 0 are one key: it writes
          // -0 as 0 when both occur. Ours keeps -0 (the DuckDB test above reads it back).
          const zero = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Object.is(v, -0) ? 0 : v])));
          expect(zero(await read(ours.bytes))).toEqual(zero(await read(theirs.bytes)));
          const m = (x: typeof ours.metrics) => ({ ...x, fileSizeInBytes: 0, columnSizes: null, splitOffsets: null });
          expect(m(ours.metrics)).toEqual(m(theirs.metrics));
          expect(ours.metrics.recordCount).toBe(rows.length);
        },
      ),
      { numRuns: process.env.CI ? 60 : 120, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
  });

  it("writes nested and other value columns beside typed ones, read back as the reference writes them", async () => {
    const mixed: Schema = {
      type: "struct",
      "schema-id": 0,
      fields: [
        { id: 1, name: "id", required: true, type: "long" },
        { id: 2, name: "tags", required: false, type: { type: "list", "element-id": 5, element: "string", "element-required": false } },
        { id: 3, name: "geo", required: false, type: { type: "struct", fields: [{ id: 6, name: "lat", required: false, type: "double" }, { id: 7, name: "city", required: false, type: "string" }] } },
        { id: 4, name: "price", required: false, type: "decimal(9, 2)" },
      ],
    };
    const rows: Rows = [];
    for (let n = 0; n < 50; n++) rows.push({ id: n, tags: n % 5 === 0 ? null : ["a", n % 3 ? "b" : null], geo: n % 7 === 0 ? null : { lat: n / 3, city: n % 2 ? "Paris" : null }, price: n % 4 === 0 ? null : `${n}.25` });
    const ours = await write(mixed, rows, { rowGroupRows: 16 });
    const theirs = await write(mixed, rows, { rowGroupRows: 16, reference: true });
    expect(await read(ours.bytes)).toEqual(await read(theirs.bytes));
    const m = (x: typeof ours.metrics) => ({ ...x, fileSizeInBytes: 0, columnSizes: null, splitOffsets: null });
    expect(m(ours.metrics)).toEqual(m(theirs.metrics));
    const path = tempFile("mixed.parquet", ours.bytes);
    expect(await duckdb(`SELECT id, tags, geo, price::VARCHAR AS price FROM read_parquet('${path}') WHERE id IN (1, 5, 7)`)).toEqual([
      { id: "1", tags: ["a", "b"], geo: { lat: 1 / 3, city: "Paris" }, price: "1.25" },
      { id: "5", tags: null, geo: { lat: 5 / 3, city: "Paris" }, price: "5.25" },
      { id: "7", tags: ["a", "b"], geo: null, price: "7.25" },
    ]);
  });
});
