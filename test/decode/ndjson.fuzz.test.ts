import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeOutcome, mutate, mutationArb, RUN, utf8 } from "./fuzz-helpers.js";

// Property tests of the NDJSON decoder (src/decode/ndjson.ts through decodeRows): whatever the
// bytes, the outcome is the rows or a FloeError with a 4xx status; for text, exactly the rows a
// line-by-line JSON.parse gives, refused exactly when that refuses.

/** JSON-ish tokens: random text built from these reaches the parser's edges far more often than random bytes. */
const TOKENS = ["{", "}", "[", "]", '"', "\\", ",", ":", " ", "\n", "\r\n", "\r", "1", "-0.5e3", "a", '"k"', "true", "null", "{}", '{"a":1}', "\u00e9", "\ufeff", "\u2028", "😀"];
const jsonishText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((t) => t.join(""));

/** What NDJSON means, as the decoder documents it: lines, a trailing CR dropped, blank lines skipped, each line one object. */
function oracle(text: string): { ok: true; rows: unknown[] } | { ok: false } {
  const rows: unknown[] = [];
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  for (const raw of body.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return { ok: false };
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { ok: false };
    rows.push(v);
  }
  return { ok: true, rows };
}

const rowsArb = fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), { maxLength: 20 });
const chunkArb = fc.integer({ min: 1, max: 64 });

describe("NDJSON decoder, properties", () => {
  it("arbitrary bytes: rows or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), chunkArb, async (bytes, chunk) => {
        await decodeOutcome(bytes, { format: "ndjson", maxRecordBytes: 256 }, chunk);
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("JSON-ish text decodes exactly as line-by-line JSON.parse, in any chunking (500 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonishText, fc.string({ unit: "grapheme", maxLength: 100 })), chunkArb, async (text, chunk) => {
        const got = await decodeOutcome(utf8(text), { format: "ndjson" }, chunk);
        const want = oracle(text);
        expect(got.ok).toBe(want.ok);
        if (got.ok && want.ok) expect(got.value).toEqual(want.rows);
        if (!got.ok) expect(got.error.message).toMatch(/line \d+|row \d+/);
      }),
      { ...RUN, numRuns: 500 },
    );
  });

  it("valid rows round-trip, with CRLF and blank lines, in batches (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.constantFrom("\n", "\r\n", "\n\n"), chunkArb, fc.integer({ min: 1, max: 7 }), async (rows, eol, chunk, batchRows) => {
        const text = rows.map((r) => JSON.stringify(r)).join(eol);
        const got = await decodeOutcome(utf8(text), { format: "ndjson", batchRows }, chunk);
        expect(got).toEqual({ ok: true, value: JSON.parse(JSON.stringify(rows)) });
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("mutated valid files: rows or a clean refusal (400 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), chunkArb, async (rows, mutations, chunk) => {
        const bytes = mutate(utf8(rows.map((r) => JSON.stringify(r)).join("\n")), mutations);
        await decodeOutcome(bytes, { format: "ndjson", maxRecordBytes: 4096 }, chunk);
      }),
      { ...RUN, numRuns: 400 },
    );
  });
});

describe("NDJSON decoder, hostile shapes", () => {
  it("100 000 '[' on one line: refused as invalid JSON on line 1", async () => {
    const got = await decodeOutcome(utf8("[".repeat(100_000)), { format: "ndjson" });
    expect(got.ok).toBe(false);
    if (!got.ok) expect([got.error.code, got.error.message]).toEqual(["invalid_input", expect.stringMatching(/^line 1: invalid JSON/)]);
  });

  it("an object nested 100 000 deep is refused or decoded, never a stack overflow", async () => {
    const deep = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    await decodeOutcome(utf8(deep), { format: "ndjson" }, 4096);
  });

  it("a line over the limit is too_large (413) without reading the rest", async () => {
    const got = await decodeOutcome(utf8(`{"a":"${"x".repeat(10_000)}"}\n{}`), { format: "ndjson", maxRecordBytes: 1000 }, 100);
    expect(got.ok).toBe(false);
    if (!got.ok) expect([got.error.code, got.error.status, got.error.message]).toEqual(["too_large", 413, "line 1: longer than 1000 bytes"]);
  });

  it("an object with 100 000 fields decodes", async () => {
    const wide = `{${Array.from({ length: 100_000 }, (_, i) => `"f${i}":${i}`).join(",")}}`;
    const got = await decodeOutcome(utf8(wide), { format: "ndjson" });
    expect(got.ok && Object.keys(got.value[0]).length).toBe(100_000);
  });
});
