import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeOutcome, mutate, mutationArb, RUN, utf8 } from "./fuzz-helpers.js";

// Property tests of the JSON decoder (src/decode/json.ts through decodeRows), whose byte scanner
// cuts elements across chunk boundaries: whatever the bytes, rows or a FloeError with a 4xx
// status; for text, exactly the rows of a slow reference reading, in any chunking.

const TOKENS = ["{", "}", "[", "]", '"', "\\", '\\"', ",", ":", " ", "\n", "\t", "1", "-2.5", "x", '"k"', '"k":', "true", "null", "{}", '{"a":1}', '{"b":[1,{"c":"]"}]}', "[]", "é", "\ufeff"];
const jsonishText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(""));

const SPACE = new Set([" ", "\t", "\n", "\r"]);

/**
 * What the decoder documents, read slowly: after an optional BOM, either one array of objects
 * (`JSON.parse` of the rest) or a sequence of objects with optional whitespace between them (each
 * object the shortest prefix that parses: a JSON object has no proper prefix that is one).
 */
function oracle(text: string): { ok: true; rows: unknown[] } | { ok: false } {
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  let i = 0;
  while (i < body.length && SPACE.has(body[i])) i++;
  const isRow = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (body[i] === "[") {
    try {
      const v = JSON.parse(body) as unknown[];
      return v.every(isRow) ? { ok: true, rows: v } : { ok: false };
    } catch {
      return { ok: false };
    }
  }
  const rows: unknown[] = [];
  for (;;) {
    while (i < body.length && SPACE.has(body[i])) i++;
    if (i === body.length) return { ok: true, rows };
    if (body[i] !== "{") return { ok: false };
    let found = false;
    for (let end = body.indexOf("}", i); end !== -1; end = body.indexOf("}", end + 1)) {
      try {
        rows.push(JSON.parse(body.slice(i, end + 1)));
        i = end + 1;
        found = true;
        break;
      } catch {
        // not yet the end of this object
      }
    }
    if (!found) return { ok: false };
  }
}

const rowsArb = fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), { maxLength: 20 });
const chunkArb = fc.integer({ min: 1, max: 64 });
/** The ways a list of objects is written as JSON: compact and pretty arrays, JSON Lines, pretty objects back to back. */
const layoutArb = fc.constantFrom(
  (rows: unknown[]) => JSON.stringify(rows),
  (rows: unknown[]) => JSON.stringify(rows, null, 2),
  (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n"),
  (rows: unknown[]) => rows.map((r) => JSON.stringify(r, null, "\t")).join("\n"),
  (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join(""),
  (rows: unknown[]) => `\ufeff${JSON.stringify(rows)}\r\n`,
);

describe("JSON decoder, properties", () => {
  it("arbitrary bytes: rows or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), chunkArb, async (bytes, chunk) => {
        await decodeOutcome(bytes, { format: "json", maxRecordBytes: 256 }, chunk);
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("JSON-ish text decodes exactly as the reference reading, the same in any chunking (600 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonishText, fc.string({ unit: "grapheme", maxLength: 60 })), chunkArb, async (text, chunk) => {
        const bytes = utf8(text);
        const got = await decodeOutcome(bytes, { format: "json" }, chunk);
        const whole = await decodeOutcome(bytes, { format: "json" }, 1 << 16);
        const want = oracle(text);
        expect(got.ok).toBe(want.ok);
        if (got.ok && want.ok) expect(got.value).toEqual(want.rows);
        // Where the scanner cuts the chunks must not change what it says, only when.
        expect(got).toEqual(whole);
        if (!got.ok) expect(got.error.message).toMatch(/^JSON: .*(element \d+|byte \d+)/);
      }),
      {
        ...RUN,
        numRuns: 600,
        examples: [
          // Found by this property: the details of a refusal held chunk-relative offsets (start, end).
          ["# ", 1],
          // Found by this property: a BOM before a later element passed for whitespace.
          ['{"a":1}\ufeff{"b":[1,{"c":"]"}]}', 1],
          ['[{"a":1},\ufeff{"b":2}]', 64],
        ],
      },
    );
  });

  it("valid rows round-trip in every layout, in batches (400 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, layoutArb, chunkArb, fc.integer({ min: 1, max: 7 }), async (rows, layout, chunk, batchRows) => {
        const got = await decodeOutcome(utf8(layout(rows)), { format: "json", batchRows }, chunk);
        expect(got).toEqual({ ok: true, value: JSON.parse(JSON.stringify(rows)) });
      }),
      { ...RUN, numRuns: 400 },
    );
  });

  it("mutated valid files: rows or a clean refusal (400 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, layoutArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), chunkArb, async (rows, layout, mutations, chunk) => {
        const bytes = mutate(utf8(layout(rows)), mutations);
        await decodeOutcome(bytes, { format: "json", maxRecordBytes: 4096 }, chunk);
      }),
      { ...RUN, numRuns: 400 },
    );
  });
});

describe("JSON decoder, hostile shapes", () => {
  const refusal = async (text: string, chunk = 4096, maxRecordBytes?: number) => {
    const got = await decodeOutcome(utf8(text), { format: "json", maxRecordBytes }, chunk);
    if (got.ok) throw new Error(`expected a refusal, got ${got.value.length} rows`);
    return got.error;
  };

  it("100 000 '[': refused as incomplete (truncated), not a stack overflow", async () => {
    const e = await refusal("[".repeat(100_000));
    expect([e.code, e.message]).toEqual(["invalid_input", expect.stringMatching(/element 0 .* is incomplete/)]);
  });

  it("100 000 '[' then as many ']': refused (an array is not a row)", async () => {
    const e = await refusal("[".repeat(100_000) + "]".repeat(100_000));
    expect(e.code).toBe("invalid_input");
  });

  it("an object nested 100 000 deep decodes or is refused cleanly", async () => {
    const deep = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    await decodeOutcome(utf8(`[${deep}]`), { format: "json" }, 4096);
  });

  it("an element over the limit is too_large (413), also when it is never closed", async () => {
    expect((await refusal(`[{"a":"${"x".repeat(10_000)}"}]`, 100, 1000)).status).toBe(413);
    expect((await refusal(`{"a":"${"x".repeat(10_000)}`, 100, 1000)).status).toBe(413);
    expect((await refusal("[".repeat(10_000), 100, 1000)).status).toBe(413);
  });

  it("an array of 100 000 elements and an object of 100 000 fields decode", async () => {
    const many = `[${Array.from({ length: 100_000 }, (_, i) => `{"i":${i}}`).join(",")}]`;
    const got = await decodeOutcome(utf8(many), { format: "json" }, 1000);
    expect(got.ok && got.value.length).toBe(100_000);
    const wide = `{${Array.from({ length: 100_000 }, (_, i) => `"f${i}":${i}`).join(",")}}`;
    const one = await decodeOutcome(utf8(wide), { format: "json" });
    expect(one.ok && Object.keys(one.value[0]).length).toBe(100_000);
  });
});
