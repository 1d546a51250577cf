import fc from "fast-check";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it, onTestFinished } from "vitest";
import { LineScanner } from "../../src/columnar/ndjson-scan.js";
import { keepRows, scanNdjson } from "../../src/columnar/scan-batches.js";
import { BatchWriter } from "../../src/iceberg/batch-writer.js";
import { DEFAULT_POLICY } from "../../src/iceberg/ingest-policy.js";
import { PartitionedFileWriter } from "../../src/iceberg/write-files.js";
import { decodeRows } from "../../src/decode/decode-rows.js";
import { ndjsonBatches } from "../../src/decode/ndjson.js";
import { isFloeError } from "../../src/errors.js";
import { appendBatches, type AppendRowsOptions } from "../../src/iceberg/append-rows.js";
import { loadTable, tableLocation } from "../../src/iceberg/table.js";
import type { Schema } from "../../src/iceberg/types.js";
import { DECLARED } from "./declared.js";
import { MemoryStore } from "../../src/storage/memory-store.js";

const loc = tableLocation("lake", "warehouse", "default", "events");
const enc = new TextEncoder();

/** The bytes as a stream cut at the given offsets. */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) parts.push(bytes.slice(prev, c));
    prev = Math.max(prev, c);
  }
  return new ReadableStream({
    pull(ctl) {
      const p = parts.shift();
      if (p) ctl.enqueue(p);
      else ctl.close();
    },
  });
}

type Outcome = { ok: true; rows: unknown[]; schema: unknown; files: number } | { ok: false; code: string; message: string; details: unknown };

async function* uploadRows(stream: ReadableStream<Uint8Array>, batchRows: number) {
  for await (const b of decodeRows(stream, { format: "ndjson", batchRows, maxRecordBytes: 4096 })) yield b.rows;
}

async function* jsonUploadRows(stream: ReadableStream<Uint8Array>, batchRows: number) {
  for await (const b of decodeRows(stream, { format: "json", batchRows, maxRecordBytes: 4096 })) yield b.rows;
}

type Flavor = "events" | "upload" | "json";

/** `events`: NDJSON as events and staged bodies read it; `upload`: as an NDJSON upload (rows must be objects, said so first); `json`: a JSON upload. */
async function run(input: "reference" | "scanned", flavor: Flavor, bytes: Uint8Array, cuts: number[], opts: AppendRowsOptions & { batchRows: number }): Promise<Outcome> {
  const store = new MemoryStore();
  const stream = chunked(bytes, cuts);
  try {
    const source =
      input === "scanned"
        ? flavor === "json"
          ? { json: stream, maxLineBytes: 4096 }
          : { ndjson: stream, maxLineBytes: 4096, objectsOnly: flavor === "upload" }
        : flavor === "json"
          ? jsonUploadRows(stream, opts.batchRows)
          : flavor === "upload"
            ? uploadRows(stream, opts.batchRows)
            : ndjsonBatches(stream, { batchRows: opts.batchRows, maxLineBytes: 4096 });
    const r = await appendBatches(store, loc, source, { ...opts, chunkRows: opts.batchRows, rowGroupRows: 3 });
    const rows: unknown[] = [];
    for (const f of r.dataFiles) {
      const b = (await store.get(f.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
      rows.push(...(await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer })));
    }
    const t = await loadTable(store, loc);
    const schema = t!.metadata.schemas.find((s) => s["schema-id"] === t!.metadata["current-schema-id"]);
    return { ok: true, rows, schema, files: r.dataFiles.length };
  } catch (e) {
    if (!isFloeError(e)) throw e;
    return { ok: false, code: e.code, message: e.message, details: e.details };
  }
}


/** One NDJSON line: mostly objects the scanner should take, and every kind of line it must hand over. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }).map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)), fc.constantFrom("1.5", "-0.25", "0", "100", "3.14159")) },
  { weight: 4, arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 8 }), fc.constantFrom("click", "view", "é", "🌍", "a\"b", "\\", "\u2028")).map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())) },
  { weight: 2, arbitrary: fc.constantFrom("true", "false", "null") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "1e3", "1E-2", "-0", "-0.0", "1.0", "12345678901234567890", "0.1234567890123456", "2147483648", "-2147483649", "01", "1.", "-",
      '"\\ud800"', '"\\ud83c\\udf0d"', '"\\u00e9\\n\\t\\"\\/"', '"bad \\x escape"', '"2020-02-30T00:00:00Z"', '"2020-01-01"', '"2020-01-01T00:00:00+01:00"',
      '"NaN"', '"Infinity"', '"123"', "[1,2]", '{"a":1}', "{}", "[]", "tru", "nul",
    ),
  },
);
const typed: Record<string, fc.Arbitrary<string>> = {
  id: fc.integer({ min: -1e9, max: 1e9 }).map(String),
  ts: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
  name: fc.oneof(fc.constantFrom("click", "view", "purchase", "é", "🌍"), fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 8 })).map((x) => JSON.stringify(x)),
  amount: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)), fc.integer({ min: -99999, max: 99999 }).map((i) => (i / 100).toString())),
  ratio: fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)), fc.constantFrom("0.1", "2.5", "-3")),
  n: fc.integer({ min: -5000, max: 5000 }).map(String),
  flag: fc.constantFrom("true", "false"),
  day: fc.constantFrom('"2024-01-01"', '"1969-12-31"'),
  geo: fc.oneof(
    { weight: 8, arbitrary: fc.record({ lat: fc.double({ noNaN: true, noDefaultInfinity: true }), city: fc.constantFrom("Paris", "Oslo", "é") }).map((g) => JSON.stringify(g)) },
    { weight: 1, arbitrary: fc.constantFrom('{"city":"Rome"}', '{"lat":1}', '{"city":"Rome","zip":"00100"}', '{ "city" : "a\\"b" , "lat" : null }', "[]", '{"city":5}') },
  ),
  tags: fc.oneof({ weight: 8, arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 3 }).map((t) => JSON.stringify(t)) }, { weight: 1, arbitrary: fc.constantFrom("[1]", '["a",[]]', '"a"') }),
  price: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -99999, max: 99999 }).map((n) => JSON.stringify((n / 100).toFixed(2))) }, { weight: 1, arbitrary: fc.constantFrom("12.5", '"1.234"', '"x"', "1e2") }),
  at: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('"10:00:00"', '"23:59:59.999999"') }, { weight: 1, arbitrary: fc.constantFrom('"25:00:00"', "5") }),
};
const member = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...Object.keys(typed)) }, { weight: 1, arbitrary: fc.constantFrom("extra", "é", "na\\u006de") }).chain((k) => {
  const right = typed[k];
  const v = right ? fc.oneof({ weight: 60, arbitrary: right }, { weight: 4, arbitrary: fc.constant("null") }, { weight: 1, arbitrary: value }) : value;
  return v.map((x) => [k, x] as const);
});
const objectLine = fc
  .tuple(
    fc.oneof({ weight: 60, arbitrary: typed.id }, { weight: 1, arbitrary: fc.constant(null) }),
    // Keys mostly once each; now and then twice (JSON.parse keeps the last).
    fc.oneof({ weight: 9, arbitrary: fc.uniqueArray(member, { maxLength: 7, selector: ([k]) => (k === "id" ? "" : k) }).map((m) => m.filter(([k]) => k !== "id")) }, { weight: 1, arbitrary: fc.array(member, { maxLength: 6 }) }),
  )
  .map(([id, members]) => `{${[...(id === null ? [] : [["id", id] as const]), ...members].map(([k, v]) => `"${k}":${v}`).join(",")}}`);
const spaced = fc.tuple(objectLine, fc.constantFrom("", " ", "\t", "\r", " \r")).map(([l, s]) => l.replace(/,/g, `,${s.replace("\r", "")}`) + s);
const odd = fc.constantFrom("", "   ", "\r", "5", "[1]", '"s"', "null", "{bad", '{"id":1} x', '{"id":1,"id":2}', '{"id":1,}', "\u00a0", "\ufeff{\"id\":1}", '{"id":1}\u00a0');
const line = fc.oneof({ weight: 60, arbitrary: objectLine }, { weight: 10, arbitrary: spaced }, { weight: 1, arbitrary: odd });

/** Lines to bytes, with now and then an invalid UTF-8 byte or a BOM at the start. */
const input = fc.tuple(fc.array(line, { maxLength: 40, size: "medium" }), fc.boolean(), fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 400 }) }), fc.constantFrom("lines", "array", "array")).map(([lines, bom, bad, layout]) => {
  // NDJSON, or for a JSON upload one array of the lines (the JSON decoder reads both layouts).
  const text = layout === "array" ? `[${lines.filter((l) => l.trim() !== "").join(",\n")}]` : lines.join("\n");
  const bytes = enc.encode((bom ? "\ufeff" : "") + text);
  if (bad !== null && bytes.length) {
    const copy = new Uint8Array(bytes);
    copy[bad % copy.length] = 0xff;
    return copy;
  }
  return bytes;
});

describe("columnar NDJSON scanner against the reference reading", () => {
  // The property the fast path rests on: for any input, however it is chunked, the scanner path
  // and JSON.parse + the row converter give the same rows in the same order, the same schema, or
  // the same refusal (code, message, details).
  it("same rows, schema and refusals as the reference path, whatever the chunking (property)", async () => {
    const outcomes = { ok: 0, refused: 0 };
    const scans = { taken: 0, handedOver: 0 };
    const original = LineScanner.prototype.scan;
    LineScanner.prototype.scan = function (this: LineScanner, b: Uint8Array, start: number, end: number) {
      const r = original.call(this, b, start, end);
      if (r === 0) scans.taken++;
      else if (r === -1) scans.handedOver++;
      return r;
    };
    onTestFinished(() => {
      LineScanner.prototype.scan = original;
    });
    await fc.assert(
      fc.asyncProperty(
        input,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<"declared" | "inferred">("declared", "inferred"),
        fc.constantFrom<"evolve" | "strict">("evolve", "strict"),
        fc.boolean(),
        fc.constantFrom<Flavor>("events", "upload", "json"),
        async (bytes, cutsA, cutsB, batchRows, schema, mode, partitioned, flavor) => {
          const opts: AppendRowsOptions & { batchRows: number } = {
            batchRows,
            mode,
            now: () => 1,
            create: { ...(schema === "declared" ? { schema: DECLARED } : {}), ...(partitioned && schema === "declared" ? { partitionBy: [{ source: "ts", transform: "day" }, { source: "name", transform: "identity" }] } : {}) },
          };
          const reference = await run("reference", flavor, bytes, cutsA, opts);
          // JSON hands out its batches at chunk ends (both readings), so which comes first, a row's
          // refusal or a later element's, follows the chunking: JSON is compared under the same one.
          const scanned = await run("scanned", flavor, bytes, flavor === "json" ? cutsA : cutsB, opts);
          expect(scanned).toEqual(reference);
          outcomes[reference.ok ? "ok" : "refused"]++;
        },
      ),
      { numRuns: process.env.CI ? 300 : 500, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
    // The runs exercised both paths and both outcomes (else the property would prove little).
    expect(scans.taken).toBeGreaterThan(500);
    expect(scans.handedOver).toBeGreaterThan(50);
    expect(outcomes.ok).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(20);
  });

  it("takes the common lines itself and hands over the rest", () => {
    const schema: Schema = { ...DECLARED, "schema-id": 0, fields: DECLARED.fields.map((f, i) => ({ ...f, id: i + 1 })) };
    const scanner = LineScanner.for(schema)!;
    const scan = (s: string) => {
      const b = enc.encode(s);
      return scanner.scan(b, 0, b.length);
    };
    expect(scan('{"id":1,"ts":"2024-05-01T10:00:00.123Z","name":"caf\u00e9 \\"x\\" \\u00e9\\ud83c\\udf0d","amount":-12.5,"flag":true,"n":7}')).toBe(0);
    expect(scan('  { "id" : 2 , "name" : null }  \r')).toBe(0);
    expect(scan('{"id":1e3,"day":"2024-01-01","amount":0.30000000000000004,"ratio":1e39}')).toBe(-1); // a float beyond 32 bits: the reference refuses it
    expect(scan('{"id":1e3,"day":"2024-01-01","amount":0.30000000000000004,"ratio":-2.5e-3}')).toBe(0);
    expect(scan("   ")).toBe(1);
    for (const s of ['{"id":1,"extra":1}', '{"name":"x"}', '{"id":1.5}', '{"id":1,"ts":"2024-05-01"}', '{"id":1,"n":2147483648}', '{"id":9007199254740993}', '{"id":1,"day":"2024-02-30"}', '{"id":1,"name":{"a":1}}', '{"id":1,"id":2}', "[1]", '{"id":1} x']) {
      expect(scan(s), s).toBe(-1);
    }
    const [id, ts, name, amount, ratio, , , day] = scanner.take();
    expect([id.valueAt(0), id.valueAt(1), id.valueAt(2)]).toEqual([1n, 2n, 1000n]);
    expect(amount.valueAt(2)).toBe(0.30000000000000004);
    expect(ratio.valueAt(2)).toBe(Math.fround(-2.5e-3));
    expect(day.valueAt(2)).toBe(19723);
    expect(ts.valueAt(0)).toBe(BigInt(Date.parse("2024-05-01T10:00:00.123Z")) * 1000n);
    expect(name.valueAt(0)).toBe('café "x" é🌍');
    expect(name.valueAt(1)).toBe(null);
    expect(amount.valueAt(0)).toBe(-12.5);
  });
});

describe("keepRows (the consumer writes only the rows its claim found fresh)", () => {
  const schema: Schema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", required: true, type: "long" }, { id: 2, name: "s", required: false, type: "string" }] };
  const stream = (text: string) => chunked(enc.encode(text), [7, 19]);

  async function written(feed: (w: BatchWriter) => Promise<void>) {
    const store = new MemoryStore();
    const w = new BatchWriter(schema, { "spec-id": 0, fields: [] }, 2, { mode: "evolve", infer: DEFAULT_POLICY, partitionBy: [], files: (s, spec) => new PartitionedFileWriter(store, loc, s, spec) });
    await feed(w);
    const rows: unknown[] = [];
    for (const f of await w.finish()) {
      const b = (await store.get(f.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
      rows.push(...(await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer })));
    }
    return { rows, schema: w.schema };
  }

  it("writes the kept rows, fast and slow, in order, as writing them parsed does (property)", async () => {
    const lineArb = fc.oneof(
      fc.record({ id: fc.integer({ min: 0, max: 1000 }), s: fc.string({ maxLength: 5 }) }).map((r) => JSON.stringify(r)),
      fc.record({ id: fc.integer({ min: 0, max: 1000 }), extra: fc.boolean() }).map((r) => JSON.stringify(r)),
      fc.record({ id: fc.integer({ min: 0, max: 1000 }), s: fc.constant("a\\u00e9") }).map((r) => `{"id":${r.id},"s":"${r.s}"}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(lineArb, fc.boolean()), { maxLength: 30 }), async (lines) => {
        const text = lines.map(([l]) => l).join("\n");
        const keep = (p: number) => lines[p][1];
        const scanned = await written(async (w) => {
          for await (const b of scanNdjson(stream(text), { batchRows: 1000, maxLineBytes: 4096 }, () => w.schema)) await w.writeScanned(keepRows(b, (p) => keep(b.first + p), 40));
        });
        const parsed = await written((w) => w.write(lines.filter(([, k]) => k).map(([l]) => JSON.parse(l)), 40));
        expect(scanned).toEqual(parsed);
      }),
      { numRuns: 100, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
  });

  it("names a refused row by its index in the request, not among the kept rows", async () => {
    const text = ['{"id":1}', '{"id":2}', '{"id":"x"}', '{"id":4,"s":5}'].join("\n");
    const refusal = await written(async (w) => {
      for await (const b of scanNdjson(stream(text), { batchRows: 1000, maxLineBytes: 4096 }, () => w.schema)) await w.writeScanned(keepRows(b, (p) => p !== 2, 100));
    }).catch((e: Error) => e.message);
    expect(refusal).toBe('row 103, field "s": expected string, got 5');
  });
});
