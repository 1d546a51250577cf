import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { batches, failure, fixture, rows, SOURCE, utf8 } from "./helpers.js";

// DuckDB writes timestamps with a space and decimals as JSON numbers.
const AS_DUCKDB = SOURCE.map((r) => ({ ...r, seen: r.seen?.replace("T", " ") ?? null, price: r.price === null ? null : Number(r.price) }));

describe("JSON arrays", () => {
  it("reads Python's pretty-printed array exactly, in any chunking", async () => {
    const bytes = fixture("python.json");
    for (const chunk of [1, 3, 17, 1 << 20]) expect(await rows(bytes, { format: "json" }, chunk)).toEqual(SOURCE);
  });

  it("reads Python's compact ASCII array (\\u escapes, surrogate pairs)", async () => {
    const bytes = fixture("python-ascii.json");
    expect(new TextDecoder().decode(bytes)).toContain("\\ud83d\\ude80"); // 🚀 as escapes
    expect(await rows(bytes, { format: "json" }, 5)).toEqual(SOURCE);
  });

  it("reads DuckDB's array (tab-indented, one element a line)", async () => {
    expect(await rows(fixture("duckdb-array.json"), { format: "json" }, 64)).toEqual(AS_DUCKDB);
  });

  it("reads JSON Lines under a .json name, and NDJSON gzip-compressed", async () => {
    expect(await rows(fixture("duckdb.jsonl"), { format: "json" }, 10)).toEqual(AS_DUCKDB);
    expect(await rows(fixture("duckdb.jsonl"), { format: "ndjson" }, 10)).toEqual(AS_DUCKDB);
    expect(await rows(fixture("duckdb.ndjson.gz"), { format: "ndjson", gzip: true }, 10)).toEqual(AS_DUCKDB);
  });

  it("reads an array gzip-compressed", async () => {
    expect(await rows(gzipSync(fixture("python.json")), { format: "json", gzip: true }, 100)).toEqual(SOURCE);
  });

  it("reads concatenated pretty-printed objects, a BOM, and brackets and quotes inside strings", async () => {
    const text = '\ufeff{\n  "a": "}]\\"[{",\n  "b": [1, {"c": 2}]\n}\n{"a": "\\\\"}  {"a": null}';
    expect(await rows(utf8(text), { format: "json" }, 1)).toEqual([{ a: '}]"[{', b: [1, { c: 2 }] }, { a: "\\" }, { a: null }]);
    expect(await rows(utf8('\ufeff[{"x": 1}]'), { format: "json" }, 1)).toEqual([{ x: 1 }]);
  });

  it("reads objects written back to back without whitespace", async () => {
    expect(await rows(utf8('{"a":1}{"a":2}\n{"a":3}'), { format: "json" })).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it("reads [] and whitespace as zero rows", async () => {
    expect(await rows(utf8(" [ \n ] \n"), { format: "json" })).toEqual([]);
    expect(await rows(utf8(" \n\t"), { format: "json" })).toEqual([]);
  });

  it("hands out batches of batchRows", async () => {
    const text = JSON.stringify(Array.from({ length: 23 }, (_, i) => ({ i })));
    const got = await batches(utf8(text), { format: "json", batchRows: 10 }, 8);
    expect(got.map((b) => [b.first, b.rows.length])).toEqual([
      [0, 10],
      [10, 10],
      [20, 3],
    ]);
    expect(got[2].rows[2]).toEqual({ i: 22 });
  });
});

describe("broken JSON", () => {
  it("refuses every truncation of an array, saying it is incomplete", async () => {
    const bytes = fixture("python.json");
    // Cut points inside an element, between elements, and just before the closing bracket.
    const cuts = [1, 2, 40, 300, 301, 302, bytes.length - 2, bytes.length - 1];
    for (const cut of cuts) {
      const e = await failure(bytes.subarray(0, cut), { format: "json" }, 64);
      expect(e.code).toBe("invalid_input");
      expect(e.message).toMatch(/truncated\?/);
    }
  });

  it("names the element, line and byte offset of invalid JSON", async () => {
    const text = '[\n{"a": 1},\n{"a": 2},\n{"a": tru}\n]';
    const e = await failure(utf8(text), { format: "json" }, 4);
    expect(e.message).toMatch(/^JSON: element 2 \(line 4, byte 22\): invalid JSON/);
    expect(e.details).toMatchObject({ element: 2, line: 4, byte: 22 });
    expect(text.slice(22, 26)).toBe('{"a"');
  });

  it("reports the first problem of a chunk, not a later one", async () => {
    const text = '[{"a": 1}, {"a": x}, {"a": 3} {"a": 4}]';
    const e = await failure(utf8(text), { format: "json" }, 1 << 20);
    expect(e.details).toMatchObject({ element: 1, byte: 11 });
    expect(e.message).toContain("invalid JSON");
  });

  it("refuses elements that are not objects", async () => {
    const e = await failure(utf8('[{"a": 1}, 2]'), { format: "json" });
    expect(e.message).toBe("JSON: element 1 (line 1, byte 11): expected an object, got number");
    const arr = await failure(utf8('[{"a": 1}, [1]]'), { format: "json" });
    expect(arr.message).toContain("expected an object, got an array");
  });

  it("refuses a missing comma, a trailing comma, and data after the array", async () => {
    expect((await failure(utf8('[{"a":1} {"a":2}]'), { format: "json" })).message).toContain("expected ',' or ']' after element 0");
    expect((await failure(utf8('[{"a":1},]'), { format: "json" })).message).toContain("expected element 1 after ','");
    expect((await failure(utf8('[{"a":1}] {"a":2}'), { format: "json" })).message).toContain("after the array's closing ']'");
  });

  it("refuses invalid UTF-8 inside an element", async () => {
    const bytes = new Uint8Array([...utf8('[{"a": "'), 0xff, ...utf8('"}]')]);
    expect((await failure(bytes, { format: "json" })).message).toContain("element 0 (line 1, byte 1): not valid UTF-8");
  });

  it("bounds an element's size", async () => {
    const e = await failure(utf8(`[{"a": "${"x".repeat(5000)}"}]`), { format: "json", maxRecordBytes: 1000 }, 100);
    expect(e.code).toBe("too_large");
    expect(e.details).toMatchObject({ element: 0, byte: 1 });
  });

  it("names the NDJSON line of invalid JSON, and the row of a non-object", async () => {
    const e = await failure(utf8('{"a":1}\n\n{"a":\n'), { format: "ndjson" });
    expect(e.message).toContain("line 3");
    const scalar = await failure(utf8('{"a":1}\n"x"\n'), { format: "ndjson" });
    expect(scalar.message).toBe("NDJSON row 1: expected a JSON object, got string");
  });
});
