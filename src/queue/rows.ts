import { columnKind } from "../columnar/columns.js";
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

/**
 * Message bytes whose scans a consumer invocation keeps for its later steps (see `MessageScans`):
 * a queue batch of inline messages (100 × 128 KB) and one staged body of the default 16 MiB limit.
 */
const HELD_SCAN_BYTES = 24 * 1024 * 1024;
/** A row the scanner hands over is kept as a parsed JS object: counted at this many times its bytes. */
const PARSED_WEIGHT = 4;

/**
 * The scans of a consumer invocation's messages, each made once and kept for the steps after it:
 * the row keys of an idField table, the new fields (mode `evolve`) and the write each read every
 * message, and a staged body is an R2 read. Scans are kept while they stay within a budget for the
 * whole invocation (HELD_SCAN_BYTES of message bytes, rows handed over counted PARSED_WEIGHT
 * times; a message past it is scanned again, as before), and let go after the write, their last
 * use. A later step reuses a scan when its schema has every scanned column under the same id, name
 * and type (fields only added, as `ensureShape` adds them): `batchRows` maps the scanned columns to
 * the later schema by field id and the rows handed over are converted by the writer's converter.
 * Otherwise (a column renamed or retyped meanwhile, say by an engine through the catalog) the
 * message is scanned again.
 */
export class MessageScans {
  private readonly held = new Map<RowsMessage, { batches: ScannedBatch[]; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly env: Env,
    private readonly budget = HELD_SCAN_BYTES,
  ) {}

  /**
   * The message's scanned batches for a step whose schema is `schemaOf()` (asked per batch when
   * scanned anew). `last`: no step reads the message after this one, so its scan is let go.
   */
  async *batches(m: RowsMessage, schemaOf: () => Schema | null, opts: { last?: boolean } = {}): AsyncGenerator<ScannedBatch> {
    const held = this.held.get(m);
    const reusable = held !== undefined && held.batches.every((b) => sameColumns(b.schema, schemaOf()));
    if (held && (opts.last || !reusable)) this.release(m);
    if (reusable) {
      // A schema with the same columns in the same order (the table's, read again) takes the scan as
      // it is: `batchRows` then hands its columns to the writer without copying them.
      for (const b of held.batches) {
        const now = schemaOf();
        yield aligned(b.schema, now) ? { ...b, schema: now } : b;
      }
      return;
    }
    let keep: ScannedBatch[] | null = held || opts.last ? null : [];
    // Counted against the budget as it is kept, so that scans running side by side (the tables of
    // one invocation) see each other's bytes; given back if the scan is dropped or left unfinished.
    let kept = 0;
    try {
      for await (const b of scanMessage(this.env, m, schemaOf)) {
        if (keep) {
          const bytes = b.approxBytes + (b.rowCount ? (PARSED_WEIGHT * b.approxBytes * b.slow.length) / b.rowCount : 0);
          keep.push(b);
          kept += bytes;
          this.bytes += bytes;
          // Past the budget nothing more of it is kept: the next step scans it again.
          if (this.bytes > this.budget) {
            keep = null;
            this.bytes -= kept;
            kept = 0;
          }
        }
        yield b;
      }
      if (keep) this.held.set(m, { batches: keep, bytes: kept });
      keep = null;
    } finally {
      if (keep) this.bytes -= kept;
    }
  }

  /** Lets the message's scan go (its table is done with it, written or not). */
  release(m: RowsMessage): void {
    const held = this.held.get(m);
    if (!held) return;
    this.held.delete(m);
    this.bytes -= held.bytes;
  }

  /**
   * The message's row keys read from its scan where that gives each key exactly as parsing would
   * (`rowKey` of the JSON value): the idField typed string, long, int or double, and present in
   * every row the scanner took. Otherwise (another type, a missing id, a string id holding U+FFFD,
   * which may have been a lone surrogate the scanner could not keep) the rows are parsed, as
   * `messageRows` reads them, and a refusal names the row as it did.
   */
  async keys(m: RowsMessage, idField: string, schema: Schema | null): Promise<string[]> {
    const field = schema?.fields.find((f) => f.name === idField);
    const exact = field && (field.type === "string" || field.type === "long" || field.type === "int" || field.type === "double");
    const keys: string[] = [];
    const offset = m.kind === "events" ? m.firstIndex : 0;
    for await (const b of this.batches(m, () => schema)) {
      const at = exact && b.fast ? b.schema!.fields.findIndex((f) => f.id === field.id) : -1;
      const col = at >= 0 ? b.fast![at] : undefined;
      let fast = 0;
      let slow = 0;
      for (let r = 0; r < b.rowCount; r++) {
        const i = offset + b.first + r;
        if (slow < b.slowAt.length && b.slowAt[slow] === r) keys.push(rowKey(m, idField, b.slow[slow++], i));
        else {
          const v = col?.valueAt(fast++);
          if (v === null || v === undefined || (typeof v === "string" && v.includes("\uFFFD"))) return parsedKeys(this.env, m, idField);
          keys.push(rowKey(m, idField, { [idField]: v }, i));
        }
      }
    }
    return keys;
  }
}

/** `now` still has every column of `scanned` (by field id), under the same name and type. */
function sameColumns(scanned: Schema | null, now: Schema | null): boolean {
  if (scanned === now) return true;
  if (!scanned || !now) return false;
  const byId = new Map(now.fields.map((f) => [f.id, f]));
  // Every one: a column dropped meanwhile (or dropped and added again under a new id) is a column
  // the rows now lack, which a scan anew would treat as unknown.
  return scanned.fields.every((f) => {
    const g = byId.get(f.id);
    return g !== undefined && g.name === f.name && JSON.stringify(g.type) === JSON.stringify(f.type);
  });
}

/** Both schemas have the same columns (field ids) in the same order, each of the same kind. */
function aligned(scanned: Schema | null, now: Schema | null): boolean {
  if (scanned === now) return true;
  if (!scanned || !now || scanned.fields.length !== now.fields.length) return false;
  return scanned.fields.every((f, i) => now.fields[i].id === f.id && columnKind(now.fields[i].type) === columnKind(f.type));
}

/** The keys of a message's rows parsed (the reference reading). */
async function parsedKeys(env: Env, m: RowsMessage, idField: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { first, rows } of messageRows(env, m)) rows.forEach((r, i) => keys.push(rowKey(m, idField, r, first + i)));
  return keys;
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
