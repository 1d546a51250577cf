import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { isFloeError } from "../../src/errors.js";
import { freshSchema } from "../../src/iceberg/batch-writer.js";
import type { PrimitiveType } from "../../src/iceberg/types.js";
import type { EventsMessage } from "../../src/queue/messages.js";
import { MessageScans, rowKey } from "../../src/queue/rows.js";

/** A message holding these NDJSON lines, as rows firstIndex… of its request. */
const message = (lines: string[], firstIndex: number): EventsMessage => ({
  v: 1,
  kind: "events",
  table: "default.t",
  requestId: "r",
  keyPrefix: "req:r",
  receivedAt: 0,
  firstIndex,
  count: lines.length,
  ndjson: lines.join("\n"),
});

type Outcome = { keys: string[] } | { code: string; message: string };

/** The keys as the consumer made them before it kept scans: every row parsed, `rowKey` of its idField. */
function parsed(m: EventsMessage): Outcome {
  try {
    return { keys: m.ndjson.split("\n").map((l, i) => rowKey(m, "id", JSON.parse(l), m.firstIndex + i)) };
  } catch (e) {
    if (!isFloeError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

async function scanned(m: EventsMessage, type: PrimitiveType | null): Promise<Outcome> {
  const schema = type ? freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type }, { id: 0, name: "v", required: false, type: "string" }] }) : null;
  try {
    return { keys: await new MessageScans({} as Env).keys(m, "id", schema) };
  } catch (e) {
    if (!isFloeError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

const idText = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
  fc.constantFrom("1.0", "-0", "1e3", "9007199254740993", "2147483648", "0.1", "null", "true", '"2024-01-01T00:00:00Z"', "[1]", '{"a":1}', '"\\ud800"', '"a\\udc00b"', '"\uFFFD"'),
);
const line = fc.oneof(
  { weight: 20, arbitrary: fc.tuple(idText, fc.string({ maxLength: 4 })).map(([id, v]) => `{"id":${id},"v":${JSON.stringify(v)}}`) },
  { weight: 1, arbitrary: fc.constantFrom('{"v":"no id"}', '{"id":1,"extra":true}', "5") },
);

describe("row keys read from a message's scan", () => {
  // The keys decide exactly-once: read from the typed columns they must be the very strings parsing gives.
  it("are the keys parsing gives, or the same refusal, for every idField type (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), fc.nat({ max: 500 }), fc.constantFrom<PrimitiveType | null>("string", "long", "int", "double", "timestamptz", "float", null), async (lines, first, type) => {
        const m = message(lines, first);
        expect(await scanned(m, type)).toEqual(parsed(m));
      }),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
    );
  });

  it("reuses one scan across steps while the schema's columns stay the same", async () => {
    const m = message(['{"id":1,"v":"a"}', '{"id":2,"v":"b"}'], 0);
    const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "v", required: false, type: "string" }] });
    const scans = new MessageScans({} as Env);
    const first: unknown[] = [];
    for await (const b of scans.batches(m, () => schema)) first.push(b.fast);
    const again: unknown[] = [];
    // The same schema read again (another object): the kept scan, re-labelled, not a new scan.
    const copy = structuredClone(schema);
    for await (const b of scans.batches(m, () => copy)) {
      again.push(b.fast);
      expect(b.schema).toBe(copy);
    }
    expect(again[0]).toBe(first[0]);
    // The write is the last step: its scan is let go after it, so a later read scans again.
    for await (const b of scans.batches(m, () => copy, { last: true })) expect(b.fast).toBe(first[0]);
    for await (const b of scans.batches(m, () => copy)) expect(b.fast).not.toBe(first[0]);
  });

  it("scans anew for a schema that renamed or retyped a scanned column meanwhile", async () => {
    const m = message(['{"id":1,"v":"a"}', '{"id":2,"v":"b"}'], 0);
    const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "v", required: false, type: "string" }] });
    // Renamed (same id, as an engine's rename through the catalog): "id" is no longer a column, so both rows are handed over.
    const renamed = { ...schema, fields: [{ ...schema.fields[0], name: "key" }, schema.fields[1]] };
    const changed = { ...schema, fields: [{ ...schema.fields[0], type: "string" as const }, schema.fields[1]] };
    // Dropped (and so unknown to the table now): its scanned values must not be carried over.
    const dropped = { ...schema, fields: [schema.fields[1]] };
    for (const later of [renamed, changed, dropped]) {
      const scans = new MessageScans({} as Env);
      const first: unknown[] = [];
      for await (const b of scans.batches(m, () => schema)) first.push(b.fast);
      for await (const b of scans.batches(m, () => later)) {
        expect(b.fast).not.toBe(first[0]);
        expect(b.schema).toBe(later);
        if (later === renamed) expect(b.slow).toHaveLength(2);
      }
    }
  });

  it("counts scans running side by side against one budget, and gives back what a scan left unfinished held", async () => {
    const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "v", required: false, type: "string" }] });
    const lines = (k: number) => Array.from({ length: 20 }, (_, i) => `{"id":${k * 100 + i},"v":"${"x".repeat(40)}"}`);
    const [m1, m2] = [message(lines(1), 0), message(lines(2), 0)];
    const size = m1.ndjson.length + 20;
    const scans = new MessageScans({} as Env, Math.floor(size * 1.5));
    // Two tables' scans interleaved: the second sees the first's bytes and keeps nothing.
    const g1 = scans.batches(m1, () => schema);
    const g2 = scans.batches(m2, () => schema);
    const b1 = (await g1.next()).value;
    const b2 = (await g2.next()).value;
    await g1.next();
    await g2.next();
    const again = async (m: typeof m1) => {
      for await (const b of scans.batches(m, () => schema)) return b;
    };
    expect((await again(m1))!.fast).toBe(b1!.fast);
    expect((await again(m2))!.fast).not.toBe(b2!.fast);
    // A scan left before its end (keys that fall back to parsing) keeps nothing and frees its share.
    const left = new MessageScans({} as Env, size * 3);
    for await (const _ of left.batches(m1, () => schema)) break;
    for await (const b of left.batches(m2, () => schema)) expect(b).toBeDefined();
    for await (const b of left.batches(m2, () => schema)) expect(b.fast).toBeDefined();
    scans.release(m1);
    expect((await again(m1))!.fast).not.toBe(b1!.fast);
  });

  it("keeps no more than its budget: a message past it is scanned again at the next step", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `{"id":${i},"v":"${"x".repeat(40)}"}`);
    const m = message(lines, 0);
    const schema = freshSchema({ type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "v", required: false, type: "string" }] });
    const scans = new MessageScans({} as Env, 1000);
    const first: unknown[] = [];
    for await (const b of scans.batches(m, () => schema)) first.push(b.fast);
    for await (const b of scans.batches(m, () => schema)) expect(b.fast).not.toBe(first[0]);
  });
});
