import { z } from "zod";
import { FloeError } from "../errors.js";

/**
 * Queue messages, version 1. Rows travel as NDJSON text, not as arrays of objects: a string is
 * compact in the message and in the consumer's memory, and is parsed one message at a time.
 */
const EventsMessage = z.object({
  v: z.literal(1),
  kind: z.literal("events"),
  table: z.string(),
  requestId: z.string(),
  /** Event keys are `{keyPrefix}:{row index}` unless the table has an idField. */
  keyPrefix: z.string(),
  firstIndex: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  ndjson: z.string(),
  receivedAt: z.number(),
  /** Rows of the whole request (all its messages): its receipt is committed once they all landed. */
  requestRows: z.number().int().positive().optional(),
  /** Set on a message sent again from the quarantine: the entry it came from. */
  replayOf: z.string().optional(),
});

/** A request too large to queue: its rows (NDJSON) wait in R2 under `staging/`, and this points at them. */
const StagedMessage = z.object({
  v: z.literal(1),
  kind: z.literal("staged"),
  table: z.string(),
  requestId: z.string(),
  keyPrefix: z.string(),
  stagingKey: z.string().startsWith("staging/"),
  count: z.number().int().positive(),
  receivedAt: z.number(),
  requestRows: z.number().int().positive().optional(),
  replayOf: z.string().optional(),
});

/** An object in the lake bucket to ingest: the whole object, or one byte range of a large one. */
const UploadMessage = z.object({
  v: z.literal(1),
  kind: z.literal("upload"),
  bucket: z.string(),
  key: z.string(),
  eTag: z.string(),
  size: z.number().int().nonnegative(),
  /** A slice of a large NDJSON object: the lines that start in [start, end). */
  range: z.object({ start: z.number().int().nonnegative(), end: z.number().int().positive(), index: z.number().int().nonnegative(), count: z.number().int().positive() }).optional(),
  replayOf: z.string().optional(),
});

/** One step of a table's compaction job (the table's Durable Object knows which step is next). */
const CompactMessage = z.object({
  v: z.literal(1),
  kind: z.literal("compact"),
  table: z.string(),
  job: z.string(),
});

export const IngestMessage = z.discriminatedUnion("kind", [EventsMessage, StagedMessage, UploadMessage, CompactMessage]);
export type CompactMessage = z.infer<typeof CompactMessage>;

export function compactMessage(table: string, job: string): CompactMessage {
  return { v: 1, kind: "compact", table, job };
}
export type UploadMessage = z.infer<typeof UploadMessage>;
/** Messages that carry rows (an HTTP request or a webhook delivery). */
export type RowsMessage = EventsMessage | StagedMessage;
export type IngestMessage = z.infer<typeof IngestMessage>;
export type EventsMessage = z.infer<typeof EventsMessage>;
export type StagedMessage = z.infer<typeof StagedMessage>;

/** Parses a message as it comes off the queue; anything else is refused (and quarantined by the caller). */
export function parseMessage(body: unknown): IngestMessage {
  const r = IngestMessage.safeParse(body);
  if (!r.success) throw new FloeError("invalid_input", `queue message does not match version 1: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}

/** Cloudflare Queues: 128 KB per message, 256 KB and 100 messages per sendBatch. */
export const MESSAGE_BYTES = 128 * 1024;
export const BATCH_BYTES = 256 * 1024;
export const BATCH_MESSAGES = 100;
/** Room left in a message for its envelope (table name, ids, counters). */
const ENVELOPE_BYTES = 2 * 1024;

/**
 * Packs NDJSON lines into messages of at most 128 KB, or answers `undefined` when the request
 * would not fit one `sendBatch` (100 messages / 256 KB, or a single line over a message): such a
 * request is staged in R2 whole, so that it is enqueued atomically or not at all.
 */
export function packMessages(lines: readonly string[], envelope: Omit<EventsMessage, "kind" | "v" | "firstIndex" | "count" | "ndjson">): EventsMessage[] | undefined {
  const enc = new TextEncoder();
  const out: EventsMessage[] = [];
  let total = 0;
  let start = 0;
  let size = 0;
  const close = (end: number) => {
    if (end > start) out.push({ v: 1, kind: "events", ...envelope, firstIndex: start, count: end - start, ndjson: lines.slice(start, end).join("\n") });
    start = end;
    size = 0;
  };
  for (let i = 0; i < lines.length; i++) {
    const n = enc.encode(lines[i]).byteLength + 1;
    if (n > MESSAGE_BYTES - ENVELOPE_BYTES) return undefined;
    if (size + n > MESSAGE_BYTES - ENVELOPE_BYTES) close(i);
    size += n;
    total += n;
    if (total + (out.length + 1) * ENVELOPE_BYTES > BATCH_BYTES) return undefined;
  }
  close(lines.length);
  return out.length <= BATCH_MESSAGES ? out : undefined;
}
