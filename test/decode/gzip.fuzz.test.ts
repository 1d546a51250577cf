import { gzipSync as fflateGzip } from "fflate";
import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeRows, type DecodeOptions } from "../../src/decode/decode-rows.js";
import { concat, decodeOutcome, expectCleanRefusal, mutate, mutationArb, RUN, utf8 } from "./fuzz-helpers.js";

// Property tests of gzip-compressed uploads (src/decode/gzip.ts under decodeRows): corrupt,
// truncated or padded gzip ends in rows or a FloeError with a 4xx status; what survives is the
// original (every member's CRC-32 and length are checked); and a decompression bomb is cut off at
// the decoder's limit after reading a sliver of its compressed bytes.

const rowsArb = fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), { minLength: 1, maxLength: 15 });
const ndjsonOf = (rows: unknown[]) => utf8(rows.map((r) => JSON.stringify(r)).join("\n"));
const chunkArb = fc.integer({ min: 1, max: 256 });
const opts: DecodeOptions = { format: "ndjson", gzip: true, maxRecordBytes: 64 * 1024 };

/** Gzip members written by zlib or fflate at any level, the text split among several members. */
function gzipMembers(bytes: Uint8Array, cuts: number[], byFflate: boolean, level: number): Uint8Array {
  const ends = [...new Set([...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const gz = (p: Uint8Array) => (byFflate ? fflateGzip(p, { level: level as 0 }) : new Uint8Array(gzipSync(p, { level })));
  return concat(...ends.map((end, i) => gz(bytes.subarray(i === 0 ? 0 : ends[i - 1], end))));
}

describe("gzip uploads, properties", () => {
  it("arbitrary bytes, and arbitrary bytes after a gzip header: rows or a clean refusal (300 runs)", async () => {
    const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.boolean(), chunkArb, async (bytes, withHeader, chunk) => {
        await decodeOutcome(withHeader ? concat(header, bytes) : bytes, opts, chunk);
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("rows gzip-compressed by zlib or fflate, in one member or several, round-trip (200 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.array(fc.nat(), { maxLength: 3 }), fc.boolean(), fc.integer({ min: 0, max: 9 }), chunkArb, async (rows, cuts, byFflate, level, chunk) => {
        const got = await decodeOutcome(gzipMembers(ndjsonOf(rows), cuts, byFflate, level), opts, chunk);
        expect(got).toEqual({ ok: true, value: JSON.parse(JSON.stringify(rows)) });
      }),
      { ...RUN, numRuns: 200 },
    );
  });

  it("mutated gzip: a clean refusal, or (the CRC having held) exactly the original rows (400 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), chunkArb, async (rows, mutations, chunk) => {
        const text = ndjsonOf(rows);
        const bytes = mutate(new Uint8Array(gzipSync(text)), mutations);
        const got = await decodeOutcome(bytes, opts, chunk);
        // A mutation the checks let through touched only what does not matter (header fields,
        // padding after the member); a file cut to nothing is an empty upload: zero rows.
        if (got.ok) expect(got.value).toEqual(bytes.length === 0 ? [] : JSON.parse(JSON.stringify(rows)));
      }),
      { ...RUN, numRuns: 400 },
    );
  });
});

/** A stream over `bytes` that counts what its reader pulled. */
function counted(bytes: Uint8Array, chunk = 16 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => Math.min(at, bytes.length) };
}

describe("gzip bombs", () => {
  // 100 members of 10 MiB of zeros: 1 GiB inflated from about 1 MB. zlib reads concatenated
  // members as one stream (RFC 1952 §2.2), and so does gunzip.
  const member = new Uint8Array(gzipSync(new Uint8Array(10 * 1024 * 1024), { level: 9 }));
  const bomb = concat(...Array.from({ length: 100 }, () => member));

  for (const [format, limit] of [
    ["ndjson", { maxRecordBytes: 1 << 20 }],
    ["json", { maxRecordBytes: 1 << 20 }],
    ["csv", { maxRecordBytes: 1 << 20 }],
    ["parquet", { maxBufferBytes: 1 << 20 }],
    ["arrow", { maxBufferBytes: 1 << 20 }],
  ] as const) {
    it(`as ${format}: too_large (413) at the 1 MiB limit, having read a sliver of the input`, async () => {
      const { stream, pulled } = counted(bomb);
      const started = Date.now();
      const got = await expectCleanRefusal(async () => {
        for await (const _ of decodeRows(stream, { format, gzip: true, ...limit })) void _;
      });
      if (got.ok) throw new Error("the bomb decoded");
      // Zeros are one endless CSV record, JSON element or NDJSON line, or bytes read whole for
      // Parquet: each hits its limit. For Arrow they are an end-of-stream marker before any schema.
      if (format === "arrow") expect(got.error.message).toMatch(/^Arrow IPC: .*no schema message/);
      else expect([got.error.code, got.error.status]).toEqual(["too_large", 413]);
      expect(pulled()).toBeLessThan(bomb.length / 10);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }
});
