import { describe, expect, it } from "vitest";
import { decodeRows, type DecodeOptions } from "../../src/decode/index.js";
import { EMBEDDED } from "../fixtures/uploads/embedded.js";

// The decoders inside workerd: no Node APIs, no code compiled from strings (apache-arrow's
// reader, hyparquet and its snappy), DecompressionStream as workerd implements it. Fixtures come
// base64-embedded (workerd has no file system; test/decode/decode-rows.test.ts checks the copy).
const bytesOf = (name: string) => Uint8Array.from(atob(EMBEDDED[name]), (c) => c.charCodeAt(0));
const streamOf = (bytes: Uint8Array, chunk = 97) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
      controller.close();
    },
  });
async function rows(bytes: Uint8Array, opts: DecodeOptions) {
  const out: Record<string, unknown>[] = [];
  for await (const b of decodeRows(streamOf(bytes), opts)) {
    expect(b.first).toBe(out.length);
    out.push(...b.rows);
  }
  return out;
}

describe("decoders inside workerd", () => {
  it("reads DuckDB's snappy Parquet with nested columns", async () => {
    const got = await rows(bytesOf("duckdb-nested.parquet"), { format: "parquet" });
    expect(got.length).toBe(10);
    expect(got[0]).toMatchObject({
      id: 1n,
      name: "Ada Lovelace",
      seen: "2024-01-02T03:04:05.123456",
      seen_tz: "2024-01-02T03:04:05.123456+00:00",
      price: "12.30",
      tags: ["math", "poetry"],
      address: { city: "London", zip: "W1" },
      attrs: { n: 1, sq: 1 },
      pairs: [{ k: 1n, v: "Ada Lovelace" }, { k: -1n, v: null }],
      big: 9223372036854775806n,
    });
    expect(got[2]).toMatchObject({ seen: "1969-12-31T23:59:59.999999", tags: null, address: null, attrs: null });
  });

  it("reads an Arrow IPC stream a record batch at a time", async () => {
    const batches = [];
    for await (const b of decodeRows(streamOf(bytesOf("arrow-js.arrows")), { format: "arrow" })) batches.push(b);
    expect(batches.map((b) => [b.first, b.rows.length])).toEqual([[0, 4], [4, 6]]);
    expect(batches[1].rows[1]).toMatchObject({ id: 6n, name: "Zoë 🚀 日本語", price: "1.10", zip: "100-0001", tags: ["🚀"], address: { city: "東京" } });
  });

  it("reads a gzip CSV with a BOM, CRLF, blank lines and quoted newlines", async () => {
    const got = await rows(bytesOf("python.csv.gz"), { format: "csv", gzip: true });
    expect(got.length).toBe(10);
    expect(Object.keys(got[0])).toEqual(["id", "name", "score", "active", "born", "seen", "price", "zip"]);
    expect(got[3]).toMatchObject({ id: 4, name: "line one\nline two", score: 1e-7, active: false });
    expect(got[4].name).toBe('crlf\r\ninside and "quotes"');
  });

  it("refuses corrupt gzip with a FloeError", async () => {
    const bad = bytesOf("python.csv.gz");
    bad.fill(0x55, 30, 60);
    await expect(rows(bad, { format: "csv", gzip: true })).rejects.toMatchObject({ name: "FloeError", code: "invalid_input", message: expect.stringMatching(/^gzip: /) });
  });
});
