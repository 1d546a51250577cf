import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseEvents, readBody } from "../../src/http/body.js";
import { concat, expectCleanRefusal, mutate, mutationArb, RUN, utf8 } from "../decode/fuzz-helpers.js";

// Property tests of request body parsing (src/http/body.ts): any body, encoding and content type
// ends in the events or a FloeError with a 4xx status (400, 413, 415); a gzip bomb is cut off at
// the limit. Request is the platform's (Node's here, the same API as workerd's).

const request = (body: Uint8Array, headers: Record<string, string> = {}) => new Request("http://floe.test/v1/events", { method: "POST", body, headers });
const typeArb = fc.constantFrom("application/json", "application/x-ndjson", "application/json; charset=utf-8", "text/plain", "", "APPLICATION/JSON");
const encodingArb = fc.constantFrom("identity", "gzip", "GZIP", "br", "");

describe("request bodies, properties", () => {
  it("arbitrary bytes, encodings and content types: events or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), typeArb, encodingArb, async (bytes, type, encoding) => {
        const headers: Record<string, string> = { "content-type": type };
        if (encoding) headers["content-encoding"] = encoding;
        const got = await expectCleanRefusal(async () => parseEvents(await readBody(request(bytes, headers), 256), type));
        if (got.ok) expect(got.value.length).toBeGreaterThan(0);
      }),
      { ...RUN, numRuns: 300 },
    );
  });

  it("events round-trip as JSON, NDJSON and gzip; mutated, they are refused cleanly (300 runs)", async () => {
    const eventsArb = fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), { minLength: 1, maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.boolean(), fc.boolean(), fc.array(mutationArb, { maxLength: 2 }), async (events, ndjson, gzip, mutations) => {
        const type = ndjson ? "application/x-ndjson" : "application/json";
        const text = ndjson ? events.map((e) => JSON.stringify(e)).join("\n") : JSON.stringify(events);
        const raw = gzip ? new Uint8Array(gzipSync(text)) : utf8(text);
        const bytes = mutate(raw, mutations);
        const got = await expectCleanRefusal(async () => parseEvents(await readBody(request(bytes, gzip ? { "content-encoding": "gzip" } : {}), 1 << 20), type));
        if (mutations.length === 0) expect(got).toEqual({ ok: true, value: JSON.parse(JSON.stringify(events)) });
      }),
      { ...RUN, numRuns: 300 },
    );
  });
});

describe("request bodies, hostile shapes", () => {
  it("a gzip bomb (1 GiB of zeros in 1 MB) is too_large (413) at a 64 KiB limit, quickly", async () => {
    const member = new Uint8Array(gzipSync(new Uint8Array(10 * 1024 * 1024), { level: 9 }));
    const bomb = concat(...Array.from({ length: 100 }, () => member));
    const started = Date.now();
    const got = await expectCleanRefusal(() => readBody(request(bomb, { "content-encoding": "gzip" }), 64 * 1024));
    expect(!got.ok && [got.error.code, got.error.status]).toEqual(["too_large", 413]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a declared Content-Length over the limit is refused before reading; an unknown encoding is 415", async () => {
    const big = await expectCleanRefusal(() => readBody(request(new Uint8Array(10), { "content-length": "999999" }), 100));
    expect(!big.ok && big.error.status).toBe(413);
    const br = await expectCleanRefusal(() => readBody(request(utf8("{}"), { "content-encoding": "br" }), 100));
    expect(!br.ok && br.error.status).toBe(415);
  });

  it("100 000 '[' as JSON and as NDJSON: a 400, not a stack overflow", async () => {
    for (const type of ["application/json", "application/x-ndjson"]) {
      const got = await expectCleanRefusal(() => parseEvents("[".repeat(100_000), type));
      expect(!got.ok && got.error.status).toBe(400);
    }
  });
});
