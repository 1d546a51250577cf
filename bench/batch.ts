// Benchmark 1, the largest consumer batch: 100 queue messages of ~128 KB NDJSON each, handed to the
// real consumer (`consume`) exactly as Cloudflare Queues would hand them, so the figure covers
// everything the consumer does (claim, parse, infer, convert, Parquet, commit through the table's
// Durable Object) and nothing the bench invented.
import type { Env } from "../src/config.js";
import { rpc } from "../src/errors.js";
import { consume } from "../src/queue/consumer.js";
import { MESSAGE_BYTES, packMessages, type EventsMessage } from "../src/queue/messages.js";
import { benchEvent } from "./events.js";

export const BATCH_MESSAGES = 100;
/** Lines per message stop short of 128 KB by the envelope room packMessages keeps (2 KB). */
const LINE_BUDGET = MESSAGE_BYTES - 2 * 1024;

let nextEvent = 0;

/**
 * 100 messages as 100 requests would have queued them: each request's lines packed by
 * `packMessages` into one message just under 128 KB. Event ids continue across calls, and each
 * call has its own request ids, so every batch is fresh to the dedupe ledger.
 */
export function buildMessages(table: string, run: string): EventsMessage[] {
  const out: EventsMessage[] = [];
  let pending = JSON.stringify(benchEvent(nextEvent++));
  while (out.length < BATCH_MESSAGES) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes + pending.length + 1 <= LINE_BUDGET) {
      lines.push(pending);
      bytes += pending.length + 1;
      pending = JSON.stringify(benchEvent(nextEvent++));
    }
    const requestId = `${run}-${out.length}`;
    const packed = packMessages(lines, { table, requestId, keyPrefix: `req:${requestId}`, receivedAt: Date.now() });
    if (packed?.length !== 1) throw new Error(`packMessages made ${packed?.length ?? "no"} messages of ${bytes} bytes`);
    out.push(packed[0]);
  }
  return out;
}

/** Runs `consume` on the messages as one queue batch; answers what it acked and what the table holds after. */
export async function consumeMessages(env: Env, table: string, messages: EventsMessage[]) {
  let acked = 0;
  let retried = 0;
  const batch = {
    queue: "floe-ingest",
    messages: messages.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), body, attempts: 1, ack: () => acked++, retry: () => retried++ })),
    ackAll: () => undefined,
    retryAll: () => undefined,
  } as unknown as MessageBatch<unknown>;
  await consume(batch, env);
  const info = await rpc(env.TABLES.get(env.TABLES.idFromName(table)).info(table));
  const ndjsonBytes = messages.reduce((n, m) => n + m.ndjson.length, 0);
  const rows = messages.reduce((n, m) => n + m.count, 0);
  return { messages: messages.length, rows, ndjsonBytes, acked, retried, totalRecords: info.totalRecords, dataFiles: info.dataFiles };
}
