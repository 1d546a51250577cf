import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { decodeRows } from "../../src/decode/decode-rows.js";
import { fileOfBytes, parquetFieldIds, parquetMetadataOf, type RandomAccessFile } from "../../src/decode/parquet.js";
import { duckdb } from "../support/duckdb.js";
import { batches, failure, fixture, rows, SOURCE } from "./helpers.js";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const uuidOfMd5 = (s: string) => {
  const h = createHash("md5").update(s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** What went into duckdb-nested.parquet (make.mjs, table `wide`), in the decoders' value conventions. */
const NESTED = SOURCE.map((r) => ({
  ...r,
  id: BigInt(r.id),
  seen_tz: r.seen === null ? null : `${r.seen}+00:00`,
  seen_time: r.seen === null ? null : r.seen.slice(11),
  big: 9223372036854775807n - BigInt(r.id),
  uid: uuidOfMd5(String(r.id)),
  raw: b64(r.name ?? ""),
  attrs: r.id % 3 === 0 ? null : { n: r.id, sq: r.id * r.id },
  pairs: [
    { k: BigInt(r.id), v: r.name },
    { k: -BigInt(r.id), v: null },
  ],
}));

/** A file that counts the bytes read through it. */
function counting(bytes: Uint8Array): RandomAccessFile & { read: number; calls: number } {
  const inner = fileOfBytes(bytes);
  const f = {
    byteLength: bytes.byteLength,
    read: 0,
    calls: 0,
    async slice(start: number, end?: number) {
      f.calls++;
      const ab = await inner.slice(start, end);
      f.read += ab.byteLength;
      return ab;
    },
  };
  return f;
}

describe("Parquet written by DuckDB", () => {
  it("reads nested columns (struct, list, map, list of struct) and every type exactly (snappy)", async () => {
    const got = await rows(fixture("duckdb-nested.parquet"), { format: "parquet" });
    expect(got).toEqual(NESTED);
    // What hyparquet alone would have got wrong: micros, pre-1970 rounding, decimals as floats.
    expect(got[0].seen).toBe("2024-01-02T03:04:05.123456");
    expect(got[2].seen).toBe("1969-12-31T23:59:59.999999");
    expect(got[0].price).toBe("12.30");
    expect(got[3].price).toBe("99999999.99");
  });

  it("reads the same through random access, without the stream", async () => {
    const file = counting(fixture("duckdb-nested.parquet"));
    const out = [];
    for await (const b of decodeRows(null, { format: "parquet", file })) out.push(...b.rows);
    expect(out).toEqual(NESTED);
    expect(file.calls).toBeGreaterThan(0);
  });

  it("reads a gzip-compressed Parquet file (the whole file, not its pages)", async () => {
    expect(await rows(gzipSync(fixture("duckdb-nested.parquet")), { format: "parquet", gzip: true }, 333)).toEqual(NESTED);
  });

  it("decompresses GZIP pages (fflate)", async () => {
    const meta = await parquetMetadataOf(fileOfBytes(fixture("duckdb-gzip.parquet")));
    expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe("GZIP");
    const got = await rows(fixture("duckdb-gzip.parquet"), { format: "parquet" });
    expect(got).toEqual(SOURCE.map((r) => ({ ...r, id: BigInt(r.id) })));
  });

  it("reads ZSTD pages (fzstd) one row group at a time, in batches that never span two groups", async () => {
    const bytes = fixture("duckdb-multi-zstd.parquet");
    const meta = await parquetMetadataOf(fileOfBytes(bytes));
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([2048, 2048, 904]);
    expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe("ZSTD");
    const got = await batches(bytes, { format: "parquet", batchRows: 1000 });
    expect(got.map((b) => [b.first, b.rows.length])).toEqual([
      [0, 1000], [1000, 1000], [2000, 48],
      [2048, 1000], [3048, 1000], [4048, 48],
      [4096, 904],
    ]);
    const all = got.flatMap((b) => b.rows);
    // `i * 0.5` is DECIMAL(20,1) in DuckDB (BIGINT × a decimal literal): exact text.
    expect(all).toEqual(
      Array.from({ length: 5000 }, (_, i) => ({
        id: BigInt(i),
        label: `row ${i}`,
        half: `${Math.floor(i / 2)}.${i % 2 ? 5 : 0}`,
        lucky: i % 7 === 0,
        pair: i % 5 === 0 ? null : [BigInt(i), BigInt(i + 1)],
      })),
    );
  });

  it("gives the field ids by column path, as DuckDB reports them", async () => {
    const bytes = fixture("duckdb-nested.parquet");
    const ids = parquetFieldIds(await parquetMetadataOf(fileOfBytes(bytes)));
    expect(ids).toMatchObject({ id: 1, tags: 9, "tags.list.element": 20, address: 10, "address.city": 21, "attrs.key_value.key": 23, "pairs.list.element.v": 27 });
    // DuckDB's parquet_schema() lists the elements depth-first with their child counts: rebuild the paths.
    const path = fileURLToPath(new URL("../fixtures/uploads/duckdb-nested.parquet", import.meta.url));
    const schema = await duckdb(`SELECT name, num_children, field_id FROM parquet_schema('${path}')`);
    const fromDuckdb: Record<string, number> = {};
    const stack: { path: string[]; left: number }[] = [];
    for (const [i, e] of schema.entries()) {
      while (stack.length && stack[stack.length - 1].left === 0) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) parent.left--;
      const path = i === 0 ? [] : [...(parent?.path ?? []), String(e.name)];
      if (e.field_id !== null && i > 0) fromDuckdb[path.join(".")] = Number(e.field_id);
      if (Number(e.num_children ?? 0) > 0) stack.push({ path, left: Number(e.num_children) });
    }
    expect(Object.keys(fromDuckdb).length).toBe(25); // ids 1–17 and 20–27 (make.mjs)
    expect(ids).toEqual(fromDuckdb);
  });

  it("gives no field ids for a file written without them", async () => {
    expect(parquetFieldIds(await parquetMetadataOf(fileOfBytes(fixture("duckdb-gzip.parquet"))))).toEqual({});
  });
});

describe("broken Parquet", () => {
  it("refuses a truncated file, saying so", async () => {
    const bytes = fixture("duckdb-nested.parquet");
    for (const cut of [bytes.length - 1, bytes.length - 9, 100, 4]) {
      const e = await failure(bytes.subarray(0, cut), { format: "parquet" });
      expect(e.code).toBe("invalid_input");
      expect(e.message).toMatch(/^Parquet: .*truncated/);
    }
  });

  it("refuses a file that is not Parquet", async () => {
    const e = await failure(fixture("python.json"), { format: "parquet" });
    expect(e.message).toContain("not a Parquet file");
  });

  it("names the row group whose pages are damaged", async () => {
    const bytes = fixture("duckdb-multi-zstd.parquet").slice();
    const meta = await parquetMetadataOf(fileOfBytes(bytes));
    const chunk = meta.row_groups[1].columns[1].meta_data!;
    const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
    bytes.fill(0xff, start + 20, start + Number(chunk.total_compressed_size));
    const got: number[] = [];
    await expect(async () => {
      for await (const b of decodeRows(new Blob([bytes]).stream(), { format: "parquet", batchRows: 5000 })) got.push(b.first);
    }).rejects.toThrow(/^Parquet: row group 1 \(rows 2048 to 4095\) is unreadable/);
    expect(got).toEqual([0]); // row group 0 came out before the damage was found
  });

  it("refuses two top-level columns of one name (a row could hold only one), naming it", async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "a", data: [1, 2], type: "INT32" }, { name: "a", data: [3, 4], type: "INT32" }] }));
    const e = await failure(bytes, { format: "parquet" });
    expect(e.message).toBe('Parquet: two top-level columns are named "a"');
    expect(e.details).toEqual({ format: "parquet", column: "a" });
  });

  it("keeps a column named __proto__ as a field of the row, not its prototype", async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "__proto__", data: ["x", null], type: "STRING" }, { name: "b", data: [1, 2], type: "INT32" }] }));
    const got = await rows(bytes, { format: "parquet" });
    expect(got.map((r) => Object.getPrototypeOf(r))).toEqual([Object.prototype, Object.prototype]);
    expect(got.map((r) => Object.getOwnPropertyDescriptor(r, "__proto__")?.value)).toEqual(["x", null]);
    expect(got.map((r) => r.b)).toEqual([1, 2]);
  });

  it("refuses a file larger than maxBufferBytes when it has to be read whole", async () => {
    const e = await failure(fixture("duckdb-nested.parquet"), { format: "parquet", maxBufferBytes: 1000 });
    expect(e.code).toBe("too_large");
  });
});

describe("parquetFieldIds of a corrupt footer schema", () => {
  it("refuses it as invalid_input (400), not a TypeError", () => {
    const metadata = { version: 2, schema: [{ name: "root", num_children: 3 }, { name: "a", type: "INT32", repetition_type: "OPTIONAL" }], num_rows: 1n, row_groups: [], metadata_length: 0 } as never;
    let caught: unknown;
    try {
      parquetFieldIds(metadata);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: "invalid_input", status: 400, message: expect.stringMatching(/^Parquet: the schema in the footer is unreadable: /) });
  });
});
