import type { Env } from "../config.js";
import { FloeError } from "../errors.js";
import { bindingStore } from "../storage/lake.js";
import { packMessages, type IngestMessage } from "./messages.js";

/**
 * Puts rows on the ingest queue durably: packed into ≤128 KB messages sent in one `sendBatch`, or,
 * when they do not fit one (100 messages / 256 KB), staged whole in R2 with one pointer message, so
 * a request is enqueued atomically or not at all. Resolves only once the queue has them.
 */
export async function enqueueRows(env: Env, table: string, rows: readonly unknown[], keyPrefix: string, requestId: string): Promise<void> {
  const envelope = { table, requestId, keyPrefix, receivedAt: Date.now(), requestRows: rows.length };
  const lines = rows.map((r) => JSON.stringify(r));
  const messages = packMessages(lines, envelope);
  if (messages) return send(env, messages);
  const stagingKey = `staging/${new Date().toISOString().slice(0, 10)}/${requestId}.ndjson`;
  const store = bindingStore(env);
  await store.put(stagingKey, lines.join("\n"), { contentType: "application/x-ndjson" });
  try {
    await send(env, [{ v: 1, kind: "staged", ...envelope, stagingKey, count: rows.length }]);
  } catch (e) {
    await store.delete(stagingKey).catch(() => undefined);
    throw e;
  }
}

async function send(env: Env, messages: IngestMessage[]): Promise<void> {
  try {
    await env.INGEST.sendBatch(messages.map((body) => ({ body })));
  } catch (e) {
    throw queueRefusal(e);
  }
}

/**
 * What a failed send means for the client: Queues refuses with a rate or backlog error when it
 * pushes back (429: slow down), anything else is the queue being unavailable (503). Both carry a
 * Retry-After; neither is the client's mistake, and nothing of the request was accepted.
 */
export function queueRefusal(e: unknown): FloeError {
  const text = (e as Error)?.message ?? String(e);
  if (/rate|too many|exceed|limit|backlog|429/i.test(text)) return new FloeError("rate_limited", `the queue is pushing back (${text}); retry after a few seconds`, { cause: e, details: { retryAfter: 5 } });
  return new FloeError("storage_unavailable", `the queue is unavailable (${text}); retry`, { cause: e, details: { retryAfter: 5 } });
}
