import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeRows } from "../../src/decode/decode-rows.js";
import type { UploadFormat } from "../../src/decode/format.js";
import { FloeError } from "../../src/errors.js";
import { EMBEDDED } from "../fixtures/uploads/embedded.js";
import { failure, fixture, rows } from "./helpers.js";

const FORMATS: UploadFormat[] = ["ndjson", "json", "csv", "parquet", "arrow"];

describe("zero-byte uploads", () => {
  it.each(FORMATS)("are zero rows, not an error (%s), compressed or not", async (format) => {
    expect(await rows(new Uint8Array(0), { format })).toEqual([]);
    expect(await rows(new Uint8Array(0), { format, gzip: true })).toEqual([]);
    expect(await rows(gzipSync(new Uint8Array(0)), { format, gzip: true })).toEqual([]);
  });
});

describe("gzip", () => {
  it("refuses corrupt data, saying it is gzip and how far it got", async () => {
    const good = fixture("python.csv.gz");
    const bad = good.slice();
    bad.fill(0x55, 30, 60);
    const e = await failure(bad, { format: "csv", gzip: true });
    expect(e.code).toBe("invalid_input");
    expect(e.message).toMatch(/^gzip: not valid gzip data \(corrupt/);
    expect(e.details).toMatchObject({ format: "gzip" });
  });

  it("refuses a truncated file", async () => {
    const good = fixture("duckdb.ndjson.gz");
    const e = await failure(good.subarray(0, good.length - 30), { format: "ndjson", gzip: true }, 100);
    expect(e.message).toMatch(/^gzip: not valid gzip data \(truncated/);
    expect(Number(e.details?.byte)).toBeGreaterThan(0);
  });

  it("refuses data that is not gzip at all", async () => {
    const e = await failure(fixture("duckdb.csv"), { format: "csv", gzip: true });
    expect(e.message).toMatch(/^gzip: /);
  });

  it("refuses a damaged checksum (the last block decodes, the trailer does not match)", async () => {
    const bad = fixture("python.csv.gz").slice();
    bad[bad.length - 6] ^= 0xff;
    expect((await failure(bad, { format: "csv", gzip: true })).message).toMatch(/^gzip: /);
  });

  it("reads concatenated gzip members as one file", async () => {
    const two = new Uint8Array([...gzipSync('{"a":1}\n'), ...gzipSync('{"a":2}\n')]);
    expect(await rows(two, { format: "ndjson", gzip: true })).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("lets an error of the input stream itself through unchanged", async () => {
    const boom = new Error("R2 read failed");
    let sent = false;
    const input = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(fixture("python.csv.gz").subarray(0, 100));
        } else controller.error(boom);
      },
    });
    await expect(async () => {
      for await (const _ of decodeRows(input, { format: "csv", gzip: true })) void _;
    }).rejects.toBe(boom);
  });
});

describe("decodeRows", () => {
  it("refuses an unknown format and a bad batch size", async () => {
    const e = await failure(fixture("duckdb.csv"), { format: "xml" as UploadFormat });
    expect(e.message).toContain('unknown upload format "xml"');
    await expect(rows(fixture("duckdb.csv"), { format: "csv", batchRows: 0 })).rejects.toBeInstanceOf(FloeError);
  });

  it("embeds for workerd exactly the bytes of the fixture files", () => {
    for (const [name, b64] of Object.entries(EMBEDDED)) {
      expect(Buffer.from(b64, "base64").equals(Buffer.from(fixture(name))), name).toBe(true);
    }
  });
});
