import type { Env } from "../config.js";
import { log } from "../log.js";
import { PREVIEW_CHARS } from "../durable/quarantine-ledger.js";
import { isFloeError, rpc } from "../errors.js";
import { bindingStore } from "../storage/lake.js";
import type { ObjectStore } from "../storage/object-store.js";

/** Where a quarantined message's record is kept: `quarantine/{table}/{day}/{entry id}.json`. */
const recordKey = (table: string, id: string, at: Date) => `quarantine/${table.replace(/[^a-z0-9_.]/g, "_")}/${at.toISOString().slice(0, 10)}/${id}.json`;
/** A staged request's rows, copied beside its record. */
export const stagedCopyKey = (record: string) => record.replace(/\.json$/, ".ndjson");

/** What the quarantine record of a message holds (`message` is its body as it came off the queue). */
export interface QuarantineRecord {
  table: string;
  reason: string;
  code: string;
  attempts: number;
  quarantinedAt: string;
  message: unknown;
  stagedBody?: string;
}

/**
 * Nothing accepted is silently lost: a message that cannot be written (a row that does not fit,
 * an unknown table, retries exhausted) is kept under `quarantine/{table}/{date}/` with its reason
 * and original body, and indexed in its table's object, from where it is listed and replayed
 * (`POST /v1/tables/{table}/quarantine/replay`). A replay that fails again comes back to the same
 * entry with its new reason. Answers the record's key; throws (and the message is retried) when the
 * record cannot be written or indexed.
 */
export async function quarantine(env: Env, table: string, message: { id: string; attempts: number; body: unknown }, reason: string, code: string): Promise<string> {
  const at = new Date();
  const body = (message.body ?? {}) as { kind?: unknown; stagingKey?: unknown; count?: unknown; ndjson?: unknown; requestId?: unknown; firstIndex?: unknown; replayOf?: unknown };
  const id = `${at.getTime()}-${message.id}`;
  const key = recordKey(table, id, at);
  const store = bindingStore(env);
  // A staged request's rows are not in its message: keep a copy beside the record, since staged
  // bodies are swept after a few days (sweepStaging) and a replay must still find them.
  const staged = body.kind === "staged" ? String(body.stagingKey) : undefined;
  let stagedCopy: string | undefined;
  const asJson = typeof body.ndjson === "string" ? undefined : JSON.stringify(message.body ?? null);
  let size = asJson === undefined ? new TextEncoder().encode(body.ndjson as string).byteLength : asJson.length;
  if (staged) {
    // A body that is gone has nothing to keep; any other failure retries the message (its rows
    // would be lost once the staging sweep ran).
    const copied = await store.copy(staged, stagedCopyKey(key)).catch((e) => {
      if (isFloeError(e, "not_found")) return undefined;
      throw e;
    });
    stagedCopy = copied?.key;
    if (copied) size = copied.size;
  }
  const record: QuarantineRecord = { table, reason, code, attempts: message.attempts, quarantinedAt: at.toISOString(), message: message.body, ...(stagedCopy ? { stagedBody: stagedCopy } : {}) };
  await store.put(key, JSON.stringify(record, null, 2), { contentType: "application/json" });
  log("quarantine", { table, messageId: message.id, code, reason: reason.slice(0, 500), attempts: message.attempts, requestId: typeof body.requestId === "string" ? body.requestId : undefined });
  // Messages that name no table (`_invalid`, `_uploads`, `_unknown`) are kept in the bucket only.
  if (!table.includes(".")) return key;
  {
    const entry = {
      id,
      key,
      reason,
      code,
      attempts: message.attempts,
      rows: typeof body.count === "number" ? body.count : 0,
      size,
      preview: typeof body.ndjson === "string" ? body.ndjson.slice(0, PREVIEW_CHARS) : staged ? await preview(store, stagedCopy) : asJson!.slice(0, PREVIEW_CHARS),
      requestId: typeof body.requestId === "string" ? body.requestId : undefined,
      part: typeof body.firstIndex === "number" ? body.firstIndex : body.kind === "staged" ? 0 : undefined,
      replayOf: typeof body.replayOf === "string" ? body.replayOf : undefined,
    };
    let r: { id: string; previousKey: string | null };
    try {
      r = await rpc(env.TABLES.get(env.TABLES.idFromName(table)).quarantined(table, entry));
    } catch (e) {
      // Unindexed, the record could be neither listed nor replayed: remove it and let the message
      // be retried (it is quarantined again, under a new id, by its next failure).
      await store.delete([key, stagedCopyKey(key)]).catch(() => undefined);
      throw e;
    }
    // A replay quarantined again: its entry now points at this record, which holds the same message
    // (and, for a staged request, its own copy of the rows: without one, the old copy is kept).
    if (r.previousKey && (!staged || stagedCopy)) await store.delete([r.previousKey, stagedCopyKey(r.previousKey)]).catch(() => undefined);
  }
  return key;
}

/** The start of a staged body, for the index (a range read: the body may be large). */
async function preview(store: ObjectStore, key: string | undefined): Promise<string> {
  if (!key) return "";
  const bytes = await store.getRange(key, 0, PREVIEW_CHARS * 4).catch(() => null);
  return bytes ? new TextDecoder().decode(bytes).slice(0, PREVIEW_CHARS) : "";
}
