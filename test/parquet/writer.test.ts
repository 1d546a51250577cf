import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { compileRowConverter } from "../../src/iceberg/rows.js";
import { formatLiteral } from "../../src/iceberg/literals.js";
import { fromSingleValue } from "../../src/iceberg/values.js";
import type { PrimitiveType } from "../../src/iceberg/types.js";
import { DataFileWriter } from "../../src/parquet/writer.js";
import { bodyBytes } from "../../src/storage/object-store.js";
import { duckdb } from "../support/duckdb.js";
import { tempFile } from "../support/temp-file.js";
import { ALL_TYPES, ALL_TYPES_ROWS } from "./all-types.js";

async function writeFile(rows: Record<string, unknown>[], opts: { codec?: string; rowGroupRows?: number } = {}) {
  const w = new DataFileWriter({ schema: ALL_TYPES, ...opts });
  await w.write(compileRowConverter(ALL_TYPES, { unknownFields: "error" })(rows, 0));
  const { chunks, metrics } = await w.finish();
  const bytes = bodyBytes(chunks);
  return { bytes, metrics, path: tempFile("data.parquet", bytes) };
}

/** What DuckDB prints (as JSON) for ALL_TYPES_ROWS: written by hand from the inputs, not captured. */
const EXPECTED = [
  {
    b: true, i: -7, l: "9007199254740993", f: 1.5, d: 2.25, dec: "14.20", dec38: "1234567890123456789.0123456789",
    dt: "2017-11-16", t: "22:31:08.123456", ts: "2017-11-16 22:31:08.000001", tstz: "2017-11-16 22:31:08+00",
    s: "héllo 🌍 wörld, a string longer than sixteen characters", u: "f79c3e09-677c-4bbd-a479-3f349cb785e7",
    bin: "\\x00\\x01\\x02\\x03", fx: "\\x00\\x01\\x02\\x03", st: { x: "5", inner: { y: "deep" } }, lst: ["a", null, "c"],
    m: [{ key: "k1", value: "1" }, { key: "k2", value: null }],
  },
  {
    b: null, i: null, l: "0", f: null, d: "NaN", dec: null, dec38: null, dt: null, t: null, ts: null, tstz: null, s: "",
    u: null, bin: null, fx: null, st: { x: null, inner: null }, lst: [], m: [],
  },
  {
    b: false, i: 2147483647, l: "-1", f: -0.5, d: -1e300, dec: "-0.05", dec38: null, dt: "1969-12-31", t: null,
    ts: "1969-12-31 23:59:59.999999", tstz: "1970-01-01 00:00:00+00", s: "zz", u: null, bin: null, fx: null, st: null, lst: null, m: null,
  },
];

describe("DataFileWriter, read back by DuckDB and hyparquet", () => {
  for (const codec of ["snappy", "gzip", "uncompressed"]) {
    it(`round-trips every type, nulls, NaN, empty values, unicode and nesting (${codec})`, async () => {
      const { path } = await writeFile(ALL_TYPES_ROWS, { codec });
      expect(await duckdb(`SELECT * FROM read_parquet('${path}')`)).toEqual(EXPECTED);
      const codecs = await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
      expect(codecs).toEqual([{ compression: codec.toUpperCase() }]);
    });
  }

  it("carries the Iceberg field id on every element, lists' element and maps' key/value included", async () => {
    const { path } = await writeFile(ALL_TYPES_ROWS);
    const rows = await duckdb(`SELECT name, field_id FROM parquet_schema('${path}') WHERE field_id IS NOT NULL`);
    const byName = Object.fromEntries(rows.map((r) => [r.name, Number(r.field_id)]));
    expect(byName).toEqual({ b: 1, i: 2, l: 3, f: 4, d: 5, dec: 6, dec38: 7, dt: 8, t: 9, ts: 10, tstz: 11, s: 12, u: 13, bin: 14, fx: 15, st: 16, x: 17, inner: 18, y: 19, lst: 20, element: 21, m: 22, key: 23, value: 24 });
    const types = await duckdb(`SELECT name, type, logical_type FROM parquet_schema('${path}') WHERE name IN ('ts','tstz','u','dec38')`);
    expect(types.find((r) => r.name === "ts")!.logical_type).toMatch(/isAdjustedToUTC=0.*MICROS=MicroSeconds/);
    expect(types.find((r) => r.name === "tstz")!.logical_type).toMatch(/isAdjustedToUTC=1.*MICROS=MicroSeconds/);
    expect(types.find((r) => r.name === "u")).toMatchObject({ type: "FIXED_LEN_BYTE_ARRAY", logical_type: "UUIDType()" });
    expect(types.find((r) => r.name === "dec38")!.type).toBe("FIXED_LEN_BYTE_ARRAY");
  });

  it("writes the table schema into the footer as iceberg.schema", async () => {
    const { path } = await writeFile(ALL_TYPES_ROWS);
    const kv = await duckdb(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${path}')`);
    const entry = kv.find((r) => r.key === "iceberg.schema");
    expect(JSON.parse(entry!.value as string)).toEqual(ALL_TYPES);
  });

  it("produces manifest metrics that agree with the Parquet statistics DuckDB reads", async () => {
    const { path, metrics, bytes } = await writeFile(ALL_TYPES_ROWS, { rowGroupRows: 2 });
    expect(metrics.recordCount).toBe(3);
    expect(metrics.fileSizeInBytes).toBe(bytes.byteLength);
    const stats = await duckdb(`SELECT row_group_id, row_group_num_rows, path_in_schema, num_values, stats_min_value, stats_max_value, stats_null_count, total_compressed_size, column_id, file_offset FROM parquet_metadata('${path}')`);
    expect(new Set(stats.map((r) => r.row_group_id)).size).toBe(2);
    const ids: Record<string, number> = { b: 1, i: 2, l: 3, f: 4, d: 5, dec: 6, dec38: 7, dt: 8, t: 9, ts: 10, tstz: 11, s: 12, u: 13, bin: 14, fx: 15, "st, x": 17, "st, inner, y": 19, "lst, list, element": 21, "m, key_value, key": 23, "m, key_value, value": 24 };
    for (const [p, id] of Object.entries(ids)) {
      const chunks = stats.filter((r) => r.path_in_schema === p);
      const sum = (k: string) => chunks.reduce((n, r) => n + Number(r[k] ?? 0), 0);
      expect(metrics.valueCounts.get(id), p).toBe(sum("num_values"));
      expect(metrics.nullValueCounts.get(id), p).toBe(sum("stats_null_count"));
      expect(metrics.columnSizes.get(id), p).toBe(sum("total_compressed_size"));
    }
    // Bounds: decoded from Iceberg's binary form, they equal the min/max over DuckDB's row groups.
    const field = (id: number) => ALL_TYPES.fields.find((f) => f.id === id)!.type as PrimitiveType;
    const bound = (m: Map<number, Uint8Array>, id: number) => formatLiteral(field(id), fromSingleValue(field(id), m.get(id)!));
    expect(bound(metrics.lowerBounds, 2)).toBe(-7);
    expect(bound(metrics.upperBounds, 2)).toBe(2147483647);
    expect(bound(metrics.lowerBounds, 3)).toBe(-1);
    expect(bound(metrics.upperBounds, 3)).toBe("9007199254740993");
    expect(bound(metrics.lowerBounds, 5)).toBe(-1e300);
    expect(bound(metrics.upperBounds, 5)).toBe(2.25); // NaN is no bound…
    expect(metrics.nanValueCounts.get(5)).toBe(1); // …it is counted
    expect(metrics.nanValueCounts.get(4)).toBe(0);
    expect(bound(metrics.lowerBounds, 6)).toBe("-0.05");
    expect(bound(metrics.upperBounds, 6)).toBe("14.20");
    expect(bound(metrics.lowerBounds, 8)).toBe("1969-12-31");
    expect(bound(metrics.upperBounds, 11)).toBe("2017-11-16T22:31:08+00:00");
    expect(bound(metrics.lowerBounds, 12)).toBe("");
    expect(bound(metrics.upperBounds, 12)).toBe("zz");
    expect(bound(metrics.lowerBounds, 13)).toBe("f79c3e09-677c-4bbd-a479-3f349cb785e7");
    // Integer bounds are exactly the min/max over the row groups' statistics that DuckDB reads.
    for (const [p, id] of Object.entries({ i: 2, l: 3 })) {
      const chunks = stats.filter((r) => r.path_in_schema === p && r.stats_min_value !== null);
      const lo = chunks.map((r) => BigInt(r.stats_min_value as string)).reduce((a, b) => (b < a ? b : a));
      const hi = chunks.map((r) => BigInt(r.stats_max_value as string)).reduce((a, b) => (b > a ? b : a));
      expect(BigInt(bound(metrics.lowerBounds, id)!), p).toBe(lo);
      expect(BigInt(bound(metrics.upperBounds, id)!), p).toBe(hi);
    }
    // Values inside lists and maps get counts but no bounds (they describe elements, not rows).
    expect(metrics.lowerBounds.has(21)).toBe(false);
    expect(metrics.upperBounds.has(24)).toBe(false);
    // Split offsets are the row groups' starts.
    expect(metrics.splitOffsets).toHaveLength(2);
    expect(metrics.splitOffsets![0]).toBe(4);
  });

  it("truncates string bounds to 16 characters as Iceberg's truncate(16) does", async () => {
    const long = "abcdefghijklmnopqrstuvwxyz";
    const w = new DataFileWriter({ schema: ALL_TYPES });
    await w.write(compileRowConverter(ALL_TYPES, { unknownFields: "error" })([{ l: 1, s: long }], 0));
    const { metrics } = await w.finish();
    expect(new TextDecoder().decode(metrics.lowerBounds.get(12))).toBe("abcdefghijklmnop");
    expect(new TextDecoder().decode(metrics.upperBounds.get(12))).toBe("abcdefghijklmnoq");
  });

  it("writes 0 rows and 1 row as valid files", async () => {
    const empty = await writeFile([]);
    expect(await duckdb(`SELECT count(*)::INT AS n FROM read_parquet('${empty.path}')`)).toEqual([{ n: 0 }]);
    expect(empty.metrics.recordCount).toBe(0);
    const one = await writeFile([{ l: 42 }]);
    expect(await duckdb(`SELECT l, s FROM read_parquet('${one.path}')`)).toEqual([{ l: "42", s: null }]);
  });

  it("is read identically by hyparquet", async () => {
    const { bytes } = await writeFile(ALL_TYPES_ROWS);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows).toHaveLength(3);
    expect(rows[0].l).toBe(9007199254740993n);
    expect(rows[0].s).toBe(ALL_TYPES_ROWS[0].s);
    expect(rows[0].st).toEqual({ x: 5n, inner: { y: "deep" } });
    expect(rows[0].lst).toEqual(["a", null, "c"]);
    expect(rows[1].d).toBeNaN();
    expect(rows[2].dt).toEqual(new Date("1969-12-31T00:00:00Z"));
  });

  it("bounds memory: cuts row groups at the row limit", async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ l: i, s: `row ${i}` }));
    const { path } = await writeFile(rows, { rowGroupRows: 1000 });
    const groups = await duckdb(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}') ORDER BY 1`);
    expect(groups.map((g) => Number(g.row_group_num_rows))).toEqual([1000, 1000, 500]);
  });
});
