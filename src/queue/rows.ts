import { scanNdjson, type ScannedBatch } from "../columnar/scan-batches.js";
import type { Env } from "../config.js";
import { streamOf } from "../decode/bytes.js";
import { ndjsonBatches } from "../decode/ndjson.js";
import { FloeError } from "../errors.js";
import type { Schema } from "../iceberg/types.js";
import { bindingStore } from "../storage/lake.js";
import type { RowsMessage } from "./messages.js";

/**
 * The rows of a message, a batch at a time with the index of the batch's first row: parsed from
 * the message's NDJSON, or streamed from the staged object, so a large request is never held whole.
 */
export async function* messageRows(env: Env, m: RowsMessage): AsyncGenerator<{ first: number; rows: unknown[] }> {
  if (m.kind === "events") {
    const lines = m.ndjson.split("\n");
    const rows = lines.map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new FloeError("invalid_input", `message row ${m.firstIndex + i}: not JSON (the message is corrupt)`);
      }
    });
    yield { first: m.firstIndex, rows };
    return;
  }
  const obj = await bindingStore(env).getStream(m.stagingKey);
  if (!obj) throw new FloeError("not_found", `staged body ${m.stagingKey} is missing`);
  let first = 0;
  for await (const rows of ndjsonBatches(obj.body, { batchRows: MESSAGE_BATCH_ROWS, maxLineBytes: MESSAGE_LINE_BYTES })) {
    yield { first, rows };
    first += rows.length;
  }
}

const MESSAGE_BATCH_ROWS = 5_000;
const MESSAGE_LINE_BYTES = 16 * 1024 * 1024;

/**
 * The rows of a message scanned into typed columns of `schemaOf()` where the scanner takes them
 * (`scanNdjson`); batch positions count from the message's first row (0). The write path and the
 * inference of new fields read messages this way, so a row the table's schema already describes is
 * never parsed into a JS object.
 */
export async function* scanMessage(env: Env, m: RowsMessage, schemaOf: () => Schema | null): AsyncGenerator<ScannedBatch> {
  let body: ReadableStream<Uint8Array>;
  if (m.kind === "events") {
    const bytes = new TextEncoder().encode(m.ndjson);
    body = streamOf(bytes, Math.max(1, bytes.byteLength));
  } else {
    const obj = await bindingStore(env).getStream(m.stagingKey);
    if (!obj) throw new FloeError("not_found", `staged body ${m.stagingKey} is missing`);
    body = obj.body;
  }
  // A message holds about 128 KB: its columns are made for its rows, not for a full batch.
  yield* scanNdjson(body, { batchRows: MESSAGE_BATCH_ROWS, maxLineBytes: MESSAGE_LINE_BYTES, capacity: m.kind === "events" ? m.count : undefined }, schemaOf);
}

/** The event key of each row: the idField's value, or `{request key prefix}:{row index}` (DESIGN.md "Event keys"). */
export function rowKey(m: RowsMessage, idField: string | null, row: unknown, index: number): string {
  if (!idField) return `${m.keyPrefix}:${index}`;
  const v = (row as Record<string, unknown>)[idField];
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "bigint") {
    throw new FloeError("invalid_input", `row ${index}, field "${idField}": the table's idField must be a string or number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`, { details: { row: index, field: idField } });
  }
  return `id:${String(v)}`;
}
