import { describe, expect, it } from "vitest";
import { streamOf } from "../../src/decode/bytes.js";
import { inferCsvValue } from "../../src/decode/csv.js";
import { decodeRows } from "../../src/decode/decode-rows.js";
import { batches, failure, fixture, pick, rows, SOURCE, utf8 } from "./helpers.js";

const COLUMNS = ["id", "name", "score", "active", "born", "seen", "price", "zip"] as const;

// What a source value becomes once written as CSV text and read back with inference, by the rule
// documented on inferCsvValue, applied here to the source values rather than to the CSV text.
// `emptyIsNull`: Python's csv module writes "" and None alike (an unquoted empty field).
function inferred(v: unknown, emptyIsNull: boolean): unknown {
  if (v === null || (v === "" && emptyIsNull)) return null;
  if (typeof v !== "string") return v;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return Number(v);
  if (v === "true") return true;
  return v;
}

const expectedRows = (emptyIsNull: boolean, seen: (s: string) => string = (s) => s) =>
  pick(COLUMNS).map((r) =>
    Object.fromEntries(COLUMNS.map((k) => [k, k === "seen" && typeof r[k] === "string" ? seen(r[k] as string) : inferred(r[k], emptyIsNull)])),
  );

describe("CSV written by Python's csv module", () => {
  it("reads a file with a BOM, CRLF, blank lines and quoted newlines exactly, in any chunking", async () => {
    const bytes = fixture("python-bom-crlf.csv");
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const expected = expectedRows(true);
    for (const chunk of [1, 2, 3, 7, 64, 1 << 20]) {
      expect(await rows(bytes, { format: "csv" }, chunk)).toEqual(expected);
    }
    const got = await rows(bytes, { format: "csv" });
    expect(Object.keys(got[0])).toEqual([...COLUMNS]); // the BOM is not part of the first name
    expect(got[3].name).toBe("line one\nline two");
    expect(got[4].name).toBe('crlf\r\ninside and "quotes"');
    expect(got[5].name).toBe("Zoë 🚀 日本語");
    expect(got[8].name).toBe("  padded, with spaces  ");
    // Inference, value by value: a zip code keeps its leading zero, "true" becomes a boolean.
    expect(got.map((r) => r.zip)).toEqual(["02134", 10001, null, null, 75001, "100-0001", 0, 99501, true, 12.5]);
    expect(got.map((r) => r.active)).toEqual([true, false, true, false, true, false, true, null, true, false]);
  });

  it("reads the same rows gzip-compressed", async () => {
    expect(await rows(fixture("python.csv.gz"), { format: "csv", gzip: true }, 50)).toEqual(expectedRows(true));
  });

  it("reads a TSV (tab delimiter; fields with quotes or newlines quoted)", async () => {
    const got = await rows(fixture("python.tsv"), { format: "csv", csv: { delimiter: "\t" } }, 5);
    expect(got).toEqual(expectedRows(true));
    expect(got[9].name).toBe("tab\there;semi|pipe");
  });

  it("keeps declared types: long → bigint, string stays text, boolean and double", async () => {
    const got = await rows(fixture("python-bom-crlf.csv"), {
      format: "csv",
      csv: { types: { id: "long", zip: "string", price: "string", active: "boolean", score: "double" } },
    });
    expect(got.map((r) => r.id)).toEqual(SOURCE.map((r) => BigInt(r.id)));
    expect(got.map((r) => r.zip)).toEqual(SOURCE.map((r) => (r.zip === "" ? null : r.zip)));
    expect(got.map((r) => r.price)).toEqual(SOURCE.map((r) => r.price));
    expect(got.map((r) => r.score)).toEqual(SOURCE.map((r) => r.score));
    expect(got.map((r) => r.active)).toEqual(SOURCE.map((r) => r.active));
  });

  it("keeps everything as text with infer: false", async () => {
    const got = await rows(fixture("python-bom-crlf.csv"), { format: "csv", csv: { infer: false } });
    expect(got[0]).toEqual({ id: "1", name: "Ada Lovelace", score: "97.5", active: "True", born: "1815-12-10", seen: "2024-01-02T03:04:05.123456", price: "12.30", zip: "02134" });
    expect(got[7].name).toBeNull();
  });

  it("refuses a ragged row, naming the physical line it starts on and both counts", async () => {
    const e = await failure(fixture("python-ragged.csv"), { format: "csv" });
    expect(e.code).toBe("invalid_input");
    expect(e.message).toBe("CSV line 5: expected 3 fields, got 2");
    expect(e.details).toMatchObject({ line: 5, expected: 3, got: 2 });
  });

  it("yields the rows before a ragged row in earlier batches, never the bad one", async () => {
    const got: unknown[] = [];
    await expect(async () => {
      for await (const b of decodeRows(streamOf(fixture("python-ragged.csv"), 1), { format: "csv", batchRows: 1 })) got.push(...b.rows);
    }).rejects.toThrow("CSV line 5");
    expect(got).toEqual([
      { a: 1, b: "one", c: "x" },
      { a: 2, b: "two\nlines", c: "y" },
    ]);
  });
});

describe("CSV written by DuckDB", () => {
  it("tells an empty string (quoted) from null (empty), and reads everything else exactly", async () => {
    const got = await rows(fixture("duckdb.csv"), { format: "csv" }, 13);
    expect(got).toEqual(expectedRows(false, (s) => s.replace("T", " ")));
    expect(got[6].name).toBe("");
    expect(got[7].name).toBeNull();
    expect(got[3].zip).toBe("");
    expect(got[2].zip).toBeNull();
  });
});

describe("the CSV dialect", () => {
  const csv = (text: string, csv = {}) => rows(utf8(text), { format: "csv", csv }, 1);

  it("reads RFC 4180 quoting: delimiters, doubled quotes and line breaks inside quotes", async () => {
    expect(await csv('a,b\n"x,y","say ""hi"""\n"multi\r\nline",2\n')).toEqual([
      { a: "x,y", b: 'say "hi"' },
      { a: "multi\r\nline", b: 2 },
    ]);
  });

  it("ends records at LF, CRLF or a lone CR, and needs no final line break", async () => {
    expect(await csv("a,b\r1,2\r\n3,4\n5,6")).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
      { a: 5, b: 6 },
    ]);
  });

  it("skips empty lines anywhere, but not a line of separators", async () => {
    expect(await csv("\n\na,b\n\n1,2\r\n\r\n\n,\n\n")).toEqual([
      { a: 1, b: 2 },
      { a: null, b: null },
    ]);
  });

  it("reads an unquoted empty field as null and a quoted one as the empty string", async () => {
    expect(await csv('a,b,c\n,"",x\n')).toEqual([{ a: null, b: "", c: "x" }]);
    expect(await csv('a,b\n"",\n', { types: { a: "long", b: "string" } })).toEqual([{ a: null, b: null }]);
  });

  it("names columns column0… without a header, and refuses rows that differ from the first", async () => {
    expect(await csv("1,x\n2,y\n", { header: false })).toEqual([
      { column0: 1, column1: "x" },
      { column0: 2, column1: "y" },
    ]);
    const e = await failure(utf8("1,x\n2,y,z\n"), { format: "csv", csv: { header: false } });
    expect(e.details).toMatchObject({ line: 2, expected: 2, got: 3 });
  });

  it("names empty header cells by position and refuses a repeated name", async () => {
    expect(await csv("a,,c\n1,2,3\n")).toEqual([{ a: 1, column1: 2, c: 3 }]);
    const e = await failure(utf8("a,b,a\n1,2,3\n"), { format: "csv" });
    expect(e.message).toContain('names column "a" twice');
  });

  it("counts physical lines across quoted newlines and CRLF in error messages", async () => {
    const e = await failure(utf8('a,b\r\n"1\r\n2\r\n3",x\r\n\r\n4\r\n'), { format: "csv" }, 1);
    expect(e.message).toBe("CSV line 6: expected 2 fields, got 1");
  });

  it("refuses an unterminated quoted field, naming where it opened", async () => {
    const e = await failure(utf8('a,b\n1,2\n3,"never closed\n\n'), { format: "csv" });
    expect(e.code).toBe("invalid_input");
    expect(e.details).toMatchObject({ line: 3, fieldLine: 3 });
    expect(e.message).toContain("never closed");
  });

  it("refuses text after a closing quote", async () => {
    const e = await failure(utf8('a,b\n1,"x"y\n'), { format: "csv" });
    expect(e.message).toContain("CSV line 2");
    expect(e.message).toContain("after the closing quote");
  });

  it("keeps a stray quote inside an unquoted field as text", async () => {
    expect(await csv('size,n\n5",1\n')).toEqual([{ size: '5"', n: 1 }]);
  });

  it("refuses values that do not fit a declared type, naming line and column", async () => {
    const e = await failure(utf8("id,n\n1,2\n2,x\n"), { format: "csv", csv: { types: { n: "long" } } });
    expect(e.message).toBe('CSV line 3, column "n": expected long, got "x"');
    expect(e.details).toMatchObject({ line: 3, field: "n" });
    const big = await failure(utf8("n\n9223372036854775808\n"), { format: "csv", csv: { types: { n: "long" } } });
    expect(big.message).toContain("expected long");
  });

  it("refuses bytes that are not UTF-8 (a Latin-1 export)", async () => {
    const latin1 = new Uint8Array([...utf8("name\nZo"), 0xeb, ...utf8("\n")]);
    const e = await failure(latin1, { format: "csv" });
    expect(e.message).toContain("not valid UTF-8");
  });

  it("reads a header-only file, or only a BOM, as zero rows", async () => {
    expect(await csv("a,b,c\r\n")).toEqual([]);
    expect(await rows(new Uint8Array([0xef, 0xbb, 0xbf]), { format: "csv" })).toEqual([]);
  });

  it("bounds a record's size", async () => {
    const e = await failure(utf8(`a\n"${"x".repeat(5000)}`), { format: "csv", maxRecordBytes: 1000 }, 100);
    expect(e.code).toBe("too_large");
    expect(e.details).toMatchObject({ line: 2 });
  });

  it("hands out batches of batchRows, numbered from 0", async () => {
    const text = "n\n" + Array.from({ length: 25 }, (_, i) => `${i}\n`).join("");
    const got = await batches(utf8(text), { format: "csv", batchRows: 10 }, 7);
    expect(got.map((b) => [b.first, b.rows.length])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    expect(got[2].rows[4]).toEqual({ n: 24 });
  });
});

describe("inferCsvValue", () => {
  it.each([
    ["42", false, 42],
    ["-7", false, -7],
    ["0", false, 0],
    ["9007199254740993", false, 9007199254740993n],
    ["3.25", false, 3.25],
    ["1e-07", false, 1e-7],
    ["-1.5e+300", false, -1.5e300],
    ["0.1234567890123456789", false, "0.1234567890123456789"],
    ["02134", false, "02134"],
    ["+1", false, "+1"],
    [".5", false, ".5"],
    ["1.", false, "1."],
    ["0x1F", false, "0x1F"],
    ["NaN", false, "NaN"],
    ["TRUE", false, true],
    ["False", false, false],
    ["yes", false, "yes"],
    ["", false, null],
    ["", true, ""],
    ["2024-01-02", false, "2024-01-02"],
  ])("%s (quoted: %s) → %s", (text, quoted, expected) => {
    expect(inferCsvValue(text, quoted)).toEqual(expected);
  });
});
