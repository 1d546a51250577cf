import fc from "fast-check";
import { parquetMetadata } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { ColumnSource } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import type { DecodeOptions } from "../../src/decode/decode-rows.js";
import { fileOfBytes } from "../../src/decode/parquet.js";
import { concat, decodeOutcome, mutate, mutationArb, RUN } from "./fuzz-helpers.js";

// Property tests of the Parquet decoder (src/decode/parquet.ts on hyparquet): whatever the bytes,
// read whole or through random access, rows or a FloeError with a 4xx status; what
// hyparquet-writer wrote reads back. Fewer runs than the text formats: each run writes a file.

type Kind = "INT32" | "INT64" | "DOUBLE" | "STRING" | "BOOLEAN";
const VALUE: Record<Kind, fc.Arbitrary<unknown>> = {
  INT32: fc.integer(),
  INT64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  DOUBLE: fc.double(),
  STRING: fc.string({ unit: "grapheme", maxLength: 12 }),
  BOOLEAN: fc.boolean(),
};
// "__proto__" is left out: hyparquet assigns row[name] itself, so that column is lost before
// parquet.ts sees the row (not fixed here: reported).
const nameArb = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }).filter((n) => !n.includes(".") && n !== "__proto__"), fc.constantFrom("constructor", "toString"));

/** A table: unique column names, a type each, rows of values (or null). */
const tableArb = fc
  .uniqueArray(fc.record({ name: nameArb, kind: fc.constantFrom<Kind>("INT32", "INT64", "DOUBLE", "STRING", "BOOLEAN") }), { minLength: 1, maxLength: 4, selector: (c) => c.name })
  .chain((cols) =>
    fc.record({
      cols: fc.constant(cols),
      rows: fc.array(fc.tuple(...cols.map((c) => fc.option(VALUE[c.kind]))), { minLength: 1, maxLength: 30 }),
      rowGroupSize: fc.integer({ min: 1, max: 12 }),
      codec: fc.constantFrom("SNAPPY" as const, "UNCOMPRESSED" as const),
    }),
  );

function write({ cols, rows, rowGroupSize, codec }: { cols: { name: string; kind: Kind }[]; rows: unknown[][]; rowGroupSize: number; codec: "SNAPPY" | "UNCOMPRESSED" }): Uint8Array {
  const columnData: ColumnSource[] = cols.map((c, j) => ({ name: c.name, type: c.kind, nullable: true, data: rows.map((r) => r[j]) as ColumnSource["data"] }));
  return new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize, codec }));
}

const expected = (cols: { name: string }[], rows: unknown[][]) =>
  rows.map((r) => {
    const o: Record<string, unknown> = {};
    cols.forEach((c, j) => Object.defineProperty(o, c.name, { value: r[j], enumerable: true, writable: true, configurable: true }));
    return o;
  });

/** Where the first data page's bytes (after its header) start, in a file of one column. */
function pageDataStart(bytes: Uint8Array): number {
  const meta = parquetMetadata(bytes.slice().buffer).row_groups[0].columns[0].meta_data!;
  const start = Number(meta.data_page_offset);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start), offset: 0 };
  parquetHeader(reader);
  return start + reader.offset;
}

/** Read whole from the stream (under a small buffer limit), or through random access. */
const readArb = fc.constantFrom("whole", "ranged");
const readOpts = (bytes: Uint8Array, how: string): DecodeOptions =>
  how === "whole" ? { format: "parquet", maxBufferBytes: 1 << 20, batchRows: 7 } : { format: "parquet", file: fileOfBytes(bytes), batchRows: 7 };

describe("Parquet decoder, properties", () => {
  it("arbitrary bytes, also between PAR1 magics: rows or a clean refusal (200 runs)", async () => {
    const PAR1 = new Uint8Array([0x50, 0x41, 0x52, 0x31]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), readArb, async (body, framed, how) => {
        const bytes = framed ? concat(PAR1, body, PAR1) : body;
        await decodeOutcome(bytes, readOpts(bytes, how));
      }),
      { ...RUN, numRuns: 200 },
    );
  });

  it("what hyparquet-writer wrote reads back, every row group (100 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, readArb, async (table, how) => {
        const bytes = write(table);
        const got = await decodeOutcome(bytes, readOpts(bytes, how));
        expect(got).toEqual({ ok: true, value: expected(table.cols, table.rows) });
      }),
      { ...RUN, numRuns: 100 },
    );
  });

  it("mutated files: rows or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), readArb, async (table, mutations, how) => {
        const bytes = mutate(write(table), mutations);
        await decodeOutcome(bytes, readOpts(bytes, how));
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("a mutated footer (the Thrift metadata): rows or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), readArb, async (table, edits, how) => {
        const bytes = write(table);
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        const footer = view.getUint32(bytes.length - 8, true);
        // Bytes inside the metadata only: the reader gets past the frame and parses what it claims.
        for (const [at, value] of edits) bytes[bytes.length - 8 - footer + (at % footer)] = value;
        await decodeOutcome(bytes, readOpts(bytes, how));
      }),
      {
        ...RUN,
        numRuns: 300,
        examples: [
          // Found by this property: a schema element claiming more children than the footer holds
          // failed in hyparquet's parquetSchema with a TypeError ("reading 'name'").
          [
            {
              cols: [{ name: "_~", kind: "STRING" }, { name: "k?b", kind: "DOUBLE" }, { name: "constructor", kind: "BOOLEAN" }, { name: 'n_C:\\1"', kind: "INT32" }],
              rows: [[null, 0, null, null], [null, null, false, 0]],
              rowGroupSize: 2,
              codec: "SNAPPY",
            },
            [[1545162591, 48]],
            "whole",
          ],
        ],
      },
    );
  });
});

describe("Parquet decoder, hostile shapes", () => {
  it("a data page header with mistyped level lengths is refused, not read as a run of 2^31 values", async () => {
    // Found by "mutated files": hyparquet took the missing length from the data, then an RLE run
    // of ~2^31 values grew a plain Array until V8 aborted the process ("invalid size error").
    const bytes = Uint8Array.from(atob("UEFSMRUGFWQVTlwVDhUAFQ4VACIEFQAAAANvMCAGC9iMwK+7/wANAQgb/v8FAQ0PAQEwAQAAAAD+/////////xUGFSQVKH2t/+9nXBUEFQAVBBUAFQQVAAAAAwMQPCEilCu97wEA7f////////8VBBksSARyb290FQIAFQQlAhgLY29uc3RydWN0b3IAFhIZLBkcJggcFQQZFQAZGAtjb25zdHJ1Y3RvchUCFg4WjgEWeCYIPDYCKAgAAAABAAAAABgIBgvYjMCvu/8AGRwVBhUAFQIAAAAWjgEWDjZ4ABkcJoABHBUEGRUAGRgLY29uc3RydWN0b3IVAhYEFk4WUiaAATw2ACgIISKUK73vAQAYCO3/////////ABkcFQYVABUCAAAAFk4WBDZSACgJaHlwYXJxdWV0GRwcAAAA0AAAAFBBUjE="), (c) => c.charCodeAt(0));
    for (const how of ["whole", "ranged"]) {
      const got = await decodeOutcome(bytes, readOpts(bytes, how));
      expect(!got.ok && got.error.message).toMatch(/^Parquet: row group 0 .* is unreadable: column constructor: a data page header/);
    }
  });

  it("an RLE run longer than its page is refused, naming the row group and column", async () => {
    // One optional INT32 column, V2 pages, uncompressed: the definition levels are the page's first
    // bytes. Their first run header becomes "RLE, 2^27 values" (varint 0x80 0x80 0x80 0x80 0x01 → ≫ 1).
    const bytes = write({ cols: [{ name: "a", kind: "INT32" }], rows: [[1], [null], [3]], rowGroupSize: 3, codec: "UNCOMPRESSED" });
    const at = pageDataStart(bytes);
    const hostile = concat(bytes.subarray(0, at), new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x01]), bytes.subarray(at + 5));
    for (const how of ["whole", "ranged"]) {
      const got = await decodeOutcome(hostile, readOpts(hostile, how));
      expect(!got.ok && got.error.message).toMatch(/^Parquet: row group 0 \(rows 0 to 2\) is unreadable: column a: a run of \d+ values where the page has 3 left/);
    }
  });

  const sample = write({ cols: [{ name: "a", kind: "INT32" }], rows: [[1], [2]], rowGroupSize: 1, codec: "SNAPPY" });

  it("a footer claiming a huge length is refused as unreadable", async () => {
    for (const length of [0xffffffff, 0x7fffffff, sample.length - 7, sample.length]) {
      const bytes = sample.slice();
      new DataView(bytes.buffer).setUint32(bytes.length - 8, length, true);
      for (const how of ["whole", "ranged"]) {
        const got = await decodeOutcome(bytes, readOpts(bytes, how));
        expect(!got.ok && got.error.message).toMatch(/^Parquet: not a Parquet file, or truncated/);
      }
    }
  });

  it("a file over the buffer limit is too_large (413) before it is parsed", async () => {
    const got = await decodeOutcome(sample, { format: "parquet", maxBufferBytes: 16 });
    expect(!got.ok && [got.error.code, got.error.status]).toEqual(["too_large", 413]);
  });
});
