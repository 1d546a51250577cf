import fc from "fast-check";
import { parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { readSource } from "../../src/columnar/column-source.js";
import type { ColumnSource } from "../../src/decode/columns.js";
import { csvGroups, csvRows, type CsvType } from "../../src/decode/csv.js";
import { fileOfBytes, parquetGroups } from "../../src/decode/parquet.js";
import type { PrimitiveType, Schema } from "../../src/iceberg/types.js";
import { DataFileWriter } from "../../src/parquet/writer.js";
import { isFloeError } from "../../src/errors.js";
import { BatchWriter, freshSchema, specFor } from "../../src/iceberg/batch-writer.js";
import { DEFAULT_POLICY } from "../../src/iceberg/ingest-policy.js";
import { maxFieldId } from "../../src/iceberg/schema.js";
import { tableLocation } from "../../src/iceberg/table.js";
import { PartitionedFileWriter } from "../../src/iceberg/write-files.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { DECLARED } from "./declared.js";

const loc = tableLocation("lake", "warehouse", "default", "groups");


type Outcome = { ok: true; rows: unknown[]; schema: unknown } | { ok: false; code: string; message: string; details: unknown };

/**
 * What a column of a Parquet row group holds, as `parquetGroups` gives it: mostly values of the
 * column's own kind (as hyparquet and values.ts make them), now and then a null, a missing value,
 * or a value of another kind (a column of the table's that the file types otherwise).
 */
const kinds: Record<string, fc.Arbitrary<unknown>> = {
  long: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  smallLong: fc.bigInt({ min: -1000n, max: 1000n }),
  int: fc.integer({ min: -5000, max: 5000 }),
  double: fc.double({ noNaN: true, noDefaultInfinity: true }),
  integralDouble: fc.integer({ min: -99, max: 99 }),
  string: fc.oneof(fc.constantFrom("click", "view", "é", "🌍", ""), fc.string({ maxLength: 8 })),
  timestamp: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 23)}000+00:00`),
  boolean: fc.boolean(),
  decimal: fc.integer({ min: -99999, max: 99999 }).map((n) => (n / 100).toFixed(2)),
  struct: fc.record({ lat: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)), city: fc.constantFrom("Paris", "Oslo", "é") }),
  // `"a.b"`: a field name the schema's checks refuse once it is added to a known struct.
  oddStruct: fc.constantFrom({ city: "Rome" }, { lat: 1 }, { city: "Rome", zip: "00100" }, { city: 5 }, {}, { city: "x", "a.b": 1 }),
  list: fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 3 }),
  oddList: fc.constantFrom([1], ["a", []], [], [null]),
};
const kindNames = Object.keys(kinds);
// Array-index names ("1", "0") come first among an object's keys: the row path orders by them.
const NAMES = ["id", "ts", "name", "amount", "n", "flag", "geo", "tags", "price", "extra", "é", "1", "0", "2024"];

/** Columns of one source: names (a subset of NAMES and some new ones, in some order) and their kinds. */
const columnsArb = fc.uniqueArray(fc.constantFrom(...NAMES, "x".repeat(300)), { minLength: 1, maxLength: 7 }).chain((names) =>
  fc.tuple(fc.constant(names), fc.array(fc.constantFrom(...kindNames), { minLength: names.length, maxLength: names.length })),
);

function valuesArb(kind: string, rows: number): fc.Arbitrary<unknown[]> {
  const cell = fc.oneof({ weight: 30, arbitrary: kinds[kind] }, { weight: 4, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(...Object.values(kinds)) });
  return fc.array(cell, { minLength: rows, maxLength: rows });
}

const groupsArb = fc.tuple(columnsArb, fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 3 })).chain(([[names, ks], sizes]) =>
  fc.tuple(fc.constant(names), fc.tuple(...sizes.map((n) => fc.tuple(...ks.map((k) => valuesArb(k, n)))))),
);

/** The rows a group's columns make, as `parquetRows` makes them (every name a key, in the file's order). */
function rowsOf(names: string[], columns: unknown[][]): Record<string, unknown>[] {
  const n = columns[0]?.length ?? 0;
  return Array.from({ length: n }, (_, r) => Object.fromEntries(names.map((name, c) => [name, columns[c][r]])));
}

async function run(input: "rows" | "columns", names: string[], groups: unknown[][][], opts: { declared: boolean; mode: "evolve" | "strict"; partitioned: boolean }): Promise<Outcome> {
  const store = new MemoryStore();
  const schema = opts.declared ? freshSchema(DECLARED) : null;
  const by = opts.partitioned ? [{ source: "name", transform: "identity" }] : [];
  // A declared table has its spec; an inferred one gets it from the first rows (refused if they lack the column).
  const spec = schema ? specFor(schema, by) : null;
  const w = new BatchWriter(schema, spec, schema ? maxFieldId(schema) : 0, { mode: opts.mode, infer: { ...DEFAULT_POLICY, numbers: "long" }, partitionBy: schema ? [] : by, files: (s, sp) => new PartitionedFileWriter(store, loc, s, sp, { rowGroupRows: 4 }) });
  try {
    let first = 0;
    for (const columns of groups) {
      const rowCount = columns[0]?.length ?? 0;
      if (input === "rows") await w.write(rowsOf(names, columns), first);
      else {
        const reads: number[] = [];
        const src: ColumnSource = { first, rowCount, names, read: async (i) => (reads.push(i), columns[i]) };
        await w.writeColumns(src);
        // Each column is read once, in order (one column's values alive at a time).
        expect(reads).toEqual(names.map((_, i) => i));
      }
      first += rowCount;
    }
    const rows: unknown[] = [];
    for (const f of await w.finish()) {
      const b = (await store.get(f.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
      rows.push(...(await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer })));
    }
    return { ok: true, rows, schema: w.schema };
  } catch (e) {
    if (!isFloeError(e)) throw e;
    return { ok: false, code: e.code, message: e.message, details: e.details };
  }
}

describe("rows given a column at a time (Parquet row groups) against the same rows as objects", () => {
  // The column-wise reading infers and converts each column alone; this holds it to the row path's
  // rows, schema (field order and ids included) and first refusal, code, message and details.
  it("same rows, schema and refusals as BatchWriter.write of the rows (property)", async () => {
    const outcomes = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(groupsArb, fc.boolean(), fc.constantFrom<"evolve" | "strict">("evolve", "strict"), fc.boolean(), async ([names, groups], declared, mode, partitioned) => {
        const opts = { declared, mode, partitioned };
        const reference = await run("rows", names, groups, opts);
        const columnar = await run("columns", names, groups, opts);
        expect(columnar).toEqual(reference);
        outcomes[reference.ok ? "ok" : "refused"]++;
      }),
      { numRuns: process.env.CI ? 300 : 500, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
    expect(outcomes.ok).toBeGreaterThan(30);
    expect(outcomes.refused).toBeGreaterThan(30);
  });

  // Cases the generator seldom draws, each once where the two paths used to part.
  it.each([
    // At one row a value's own refusal (b: a list of two types) comes before a type clash with earlier rows (a).
    ["a value's refusal before a merge's at one row", ["a", "b"], [[[1n, "x"], [null, [1n, "s"]]]], { declared: false, mode: "evolve" as const, partitioned: false }],
    // A known struct gaining a field the schema's checks refuse ("a.b"), beside a later column's conversion refusal.
    ["an inference refusal before the union's", ["geo", "n"], [[[{ city: "x", "a.b": 1 }, null], [1n, "str"]]], { declared: true, mode: "evolve" as const, partitioned: false }],
    // A strict table created by its first rows: the partition spec is refused before the unknown field.
    ["the spec's refusal before an unknown field's", ["ts", "x"], [[[null], [{}]]], { declared: false, mode: "strict" as const, partitioned: true }],
    // Array-index names come first among a row's keys.
    ["array-index names first", ["b", "1"], [[["x"], [2n]]], { declared: false, mode: "evolve" as const, partitioned: false }],
  ])("agrees with the row path: %s", async (_name, names, groups, opts) => {
    expect(await run("columns", names, groups as unknown[][][], opts)).toEqual(await run("rows", names, groups as unknown[][][], opts));
  });

  it("orders new fields as the rows first give them a type, not as the file lists them", async () => {
    const names = ["a", "b"];
    const groups = [[[null, 1n], ["x", "y"]]];
    const r = await run("columns", names, groups, { declared: false, mode: "evolve", partitioned: false });
    expect(r.ok && (r.schema as { fields: { name: string; id: number }[] }).fields.map((f) => [f.name, f.id])).toEqual([["b", 1], ["a", 2]]);
  });
});

/** A Parquet column's type, its values' arbitrary (internal values, as our writer takes them), and table types to read it as. */
const FILE_TYPES: { type: PrimitiveType; values: fc.Arbitrary<unknown>; readAs: PrimitiveType[] }[] = [
  { type: "long", values: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), readAs: ["long", "string", "double"] },
  { type: "int", values: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), readAs: ["int", "long", "double"] },
  { type: "double", values: fc.double(), readAs: ["double", "float", "long"] },
  { type: "float", values: fc.float(), readAs: ["float", "double"] },
  { type: "boolean", values: fc.boolean(), readAs: ["boolean", "string"] },
  { type: "string", values: fc.string({ unit: "grapheme", maxLength: 6 }), readAs: ["string", "long"] },
  // Beyond 0001–9999 too: those columns go the long way.
  { type: "timestamptz", values: fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n }) }, { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }) }), readAs: ["timestamptz", "timestamp", "string"] },
  { type: "timestamp", values: fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n }), readAs: ["timestamp", "timestamptz"] },
  { type: "date", values: fc.integer({ min: -100000, max: 100000 }), readAs: ["date", "string"] },
];

describe("Parquet groups' own typed values (readInternal)", () => {
  // The values a Parquet column holds go to the typed column without the text in between where the
  // pair of types allows it; this holds them to the long way (hyparquet's values, values.ts' text,
  // the field's converter): the same values in every row, or the same refusal.
  it("give what the long way gives, for every pair of file and table types (property)", async () => {
    let typed = 0;
    let long = 0;
    const columnArb = fc.nat({ max: FILE_TYPES.length - 1 }).chain((k) =>
      fc.record({ k: fc.constant(k), readAs: fc.constantFrom(...FILE_TYPES[k].readAs), required: fc.boolean(), nulls: fc.boolean() }),
    );
    const caseArb = fc.tuple(fc.array(columnArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 40 })).chain(([cols, rows]) =>
      fc.tuple(
        fc.constant(cols),
        fc.tuple(...cols.map((c) => fc.array(c.nulls ? fc.option(FILE_TYPES[c.k].values, { freq: 4 }) : FILE_TYPES[c.k].values, { minLength: rows, maxLength: rows }))),
      ),
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async ([cols, values]) => {
        const file: Schema = { type: "struct", "schema-id": 0, fields: cols.map((c, i) => ({ id: i + 1, name: `c${i}`, required: false, type: FILE_TYPES[c.k].type })) };
        const table: Schema = { type: "struct", "schema-id": 0, fields: cols.map((c, i) => ({ id: i + 1, name: `c${i}`, required: c.required, type: c.readAs })) };
        const w = new DataFileWriter({ schema: file, rowGroupRows: 16, rowGroupBytes: 1 << 20 });
        await w.write({ columns: values as unknown[][], rowCount: values[0].length, approxBytes: 0 });
        const { chunks } = await w.finish();
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
        for await (const group of parquetGroups(fileOfBytes(bytes))) {
          const outcome = async (src: ColumnSource) => {
            try {
              const batch = (await readSource(src, { schema: table, infer: null, unknownFields: "ignore" })).batch(table);
              return { rows: batch.columns.map((col) => Array.from({ length: batch.rowCount }, (_, r) => col.valueAt(r))), approxBytes: batch.approxBytes };
            } catch (e) {
              if (!isFloeError(e)) throw e;
              return { code: e.code, message: e.message, details: e.details };
            }
          };
          const counted: ColumnSource = {
            ...group,
            readInternal: async (i, type) => {
              const got = await group.readInternal!(i, type);
              if (got) typed++;
              else long++;
              return got;
            },
          };
          expect(await outcome(counted)).toEqual(await outcome({ ...group, readInternal: undefined }));
        }
      }),
      { numRuns: process.env.CI ? 200 : 300, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
    // Both ways were taken, often.
    expect(typed).toBeGreaterThan(100);
    expect(long).toBeGreaterThan(100);
  });
});

describe("Parquet footers whose two annotations disagree", () => {
  // Found by review: the typed reading trusted one annotation where hyparquet reads a column as
  // unsigned if either says so. A 64-bit all-ones value then went into a long column as -1.
  it("go the long way, which refuses what does not fit", async () => {
    const cases: { element: Record<string, unknown>; data: unknown[]; type: PrimitiveType }[] = [
      { element: { type: "INT64", converted_type: "UINT_64", logical_type: { type: "INTEGER", bitWidth: 64, isSigned: true } }, data: [2n ** 64n - 1n, 5n], type: "long" },
      { element: { type: "INT32", converted_type: "UINT_32", logical_type: { type: "INTEGER", bitWidth: 32, isSigned: true } }, data: [4294967295, 5], type: "int" },
      { element: { type: "INT64", converted_type: "DECIMAL", scale: 2, precision: 18, logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } }, data: [1234n, 5n], type: "timestamptz" },
    ];
    for (const c of cases) {
      const bytes = new Uint8Array(
        parquetWriteBuffer({
          columnData: [{ name: "a", data: c.data }],
          schema: [{ name: "root", num_children: 1 }, { name: "a", repetition_type: "REQUIRED", ...c.element }],
        } as never),
      );
      const table: Schema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "a", required: true, type: c.type }] };
      const outcome = async (src: ColumnSource) => {
        try {
          const batch = (await readSource(src, { schema: table, infer: null, unknownFields: "ignore" })).batch(table);
          return { rows: Array.from({ length: batch.rowCount }, (_, r) => batch.columns[0].valueAt(r)) };
        } catch (e) {
          if (!isFloeError(e)) throw e;
          return { message: e.message };
        }
      };
      for await (const group of parquetGroups(fileOfBytes(bytes))) {
        const got = await outcome(group);
        expect(got, JSON.stringify(c.element)).toEqual(await outcome({ ...group, readInternal: undefined }));
        if (c.type === "long") expect(got).toMatchObject({ message: expect.stringMatching(/out of the 64-bit range/) });
      }
    }
  });
});

describe("CSV batches as column sources", () => {
  // Declared CSV columns hand their values over as the field's own (readInternal) when the types
  // match; this holds the whole path to writing the same CSV's rows.
  it("write what the CSV's rows write, declared types matching the table's or not (property)", async () => {
    const cell: Record<CsvType, fc.Arbitrary<string>> = {
      long: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.constantFrom("", "+5", "007", "1.5", "x", "99999999999999999999")),
      double: fc.oneof(fc.double({ noNaN: true }).map(String), fc.constantFrom("", "NaN", "-Infinity", "1e3", "abc")),
      boolean: fc.constantFrom("true", "FALSE", "1", "0", "", "yes"),
      string: fc.oneof(fc.string({ maxLength: 5 }).filter((t) => !/[",\r\n]/.test(t)), fc.constantFrom("", '""', "é")),
    };
    const tableTypes: PrimitiveType[] = ["long", "int", "double", "float", "boolean", "string", "timestamptz"];
    const colArb = fc.record({ csv: fc.constantFrom<CsvType>("long", "double", "boolean", "string"), table: fc.constantFrom(...tableTypes), required: fc.boolean(), declared: fc.boolean() });
    const caseArb = fc.tuple(fc.array(colArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 5 })).chain(([cols, rows, batchRows]) =>
      fc.tuple(fc.constant(cols), fc.array(fc.tuple(...cols.map((c) => cell[c.csv])), { minLength: rows, maxLength: rows }), fc.constant(batchRows)),
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async ([cols, records, batchRows]) => {
        const names = cols.map((_, i) => `c${i}`);
        const text = [names.join(","), ...records.map((r) => r.join(","))].join("\n");
        const types = Object.fromEntries(cols.flatMap((c, i) => (c.declared ? [[names[i], c.csv]] : [])));
        const schema = freshSchema({ type: "struct", fields: cols.map((c, i) => ({ id: 0, name: names[i], required: c.required, type: c.table })) });
        const outcome = async (how: "rows" | "columns") => {
          const store = new MemoryStore();
          const w = new BatchWriter(schema, { "spec-id": 0, fields: [] }, maxFieldId(schema), { mode: "evolve", infer: DEFAULT_POLICY, partitionBy: [], files: (sc, sp) => new PartitionedFileWriter(store, loc, sc, sp, { rowGroupRows: 4 }) });
          const body = () => new Blob([text]).stream();
          try {
            if (how === "rows") {
              let first = 0;
              for await (const rows of csvRows(body(), { types, batchRows })) {
                await w.write(rows, first);
                first += rows.length;
              }
            } else for await (const g of csvGroups(body(), { types, batchRows })) await w.writeColumns(g);
            const out: unknown[] = [];
            for (const f of await w.finish()) {
              const b = (await store.get(f.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
              out.push(...(await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer })));
            }
            return { ok: true, rows: out };
          } catch (e) {
            if (!isFloeError(e)) throw e;
            return { ok: false, code: e.code, message: e.message, details: e.details };
          }
        };
        expect(await outcome("columns")).toEqual(await outcome("rows"));
      }),
      { numRuns: process.env.CI ? 200 : 300, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
  });
});
