import type { Env } from "../config.js";
import type { QuarantineEntry } from "../durable/quarantine-ledger.js";
import { rpc } from "../errors.js";
import { errorText, log } from "../log.js";
import { bindingStore } from "../storage/lake.js";
import { BATCH_BYTES, BATCH_MESSAGES, parseMessage, type IngestMessage } from "./messages.js";
import type { QuarantineRecord } from "./quarantine.js";
import { queueRefusal } from "./enqueue.js";

/**
 * Which entries to replay: all that wait, those with these ids, or those whose reason contains (or
 * code is) this text; from `after` (the `next` of the previous call) on. `force` replays entries
 * first quarantined longer ago than the table's dedupe window, whose rows' keys may be forgotten.
 */
export type ReplaySelection = ({ all: true; after?: number } | { ids: string[] } | { reason: string; after?: number }) & { force?: boolean };

export interface ReplayReport {
  /** Entries whose messages were sent again. */
  replayed: string[];
  /** Entries that could not be (their record is gone or unreadable), with why. */
  skipped: { id: string; reason: string }[];
  /** True when more entries match than one call replays (200): call again with `after: next`. */
  more: boolean;
  next: number | null;
}

/** Keys are pruned a window after their commit; a margin for the retries before the first quarantine. */
const WINDOW_MARGIN_MS = 3_600_000;

/**
 * Entries per call: each costs a read of its record (and a copy for a staged body) and shares a
 * send, which keeps a call well inside a Worker's 1,000 subrequests.
 */
const PER_CALL = 200;

/**
 * Sends quarantined messages back to the queue, each marked with its entry (`replayOf`), so that it
 * lands (the entry becomes `landed`) or comes back to the same entry with its new reason. A message
 * keeps everything that names its rows (request id, key prefix, row indexes), so its rows keep
 * their event keys: rows of it that landed before, or that another replay already landed, are
 * dropped as duplicates by the table's dedupe ledger (within its window, `floe.dedupe-window-days`).
 * Messages are sent before their entries are marked: a replay that fails half way leaves the rest
 * quarantined, and sending one twice adds nothing.
 */
export async function replayQuarantine(env: Env, table: string, sel: ReplaySelection): Promise<ReplayReport> {
  const stub = env.TABLES.get(env.TABLES.idFromName(table));
  // By id, an entry replayed before whose message never came back may be sent again; a selection
  // by reason or "all" takes only what waits.
  const byId = "ids" in sel;
  const { entries, next } = await rpc(
    stub.quarantine(table, { ...(byId ? { ids: sel.ids } : { state: "quarantined" }), ...("reason" in sel ? { reason: sel.reason } : {}), ...("after" in sel ? { after: sel.after } : {}), limit: PER_CALL }),
  );
  const window = await rpc(stub.replayWindowMs(table));
  const now = Date.now();
  const replayed: string[] = [];
  const skipped: { id: string; reason: string }[] = [];
  // Read and sent a sendBatch at a time, so memory holds one batch (256 KB) and one record at most.
  let chunk: { id: string; body: IngestMessage; bytes: number }[] = [];
  const flush = async () => {
    if (!chunk.length) return;
    const sent = Date.now();
    // Each chunk is marked once sent, so a chunk that fails later leaves only its own entries waiting.
    await env.INGEST.sendBatch(chunk.map((m) => ({ body: m.body }))).catch((err) => {
      throw queueRefusal(err);
    });
    await rpc(stub.quarantineReplayed(table, chunk.map((m) => m.id), sent));
    replayed.push(...chunk.map((m) => m.id));
    chunk = [];
  };
  for (const e of entries) {
    if (e.state === "landed") {
      skipped.push({ id: e.id, reason: "already landed" });
      continue;
    }
    if (!sel.force && Date.parse(e.firstQuarantinedAt) < now - window + WINDOW_MARGIN_MS) {
      skipped.push({ id: e.id, reason: `first quarantined more than the dedupe window (${window / 86_400_000} days, floe.dedupe-window-days) ago: rows of it that landed may be forgotten and would be added again; replay with "force": true if none did` });
      continue;
    }
    let body: IngestMessage;
    try {
      body = await messageOf(env, e);
    } catch (err) {
      skipped.push({ id: e.id, reason: errorText(err) });
      continue;
    }
    const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength + 100;
    if (chunk.length === BATCH_MESSAGES || chunk.reduce((n, m) => n + m.bytes, 0) + bytes > BATCH_BYTES) await flush();
    chunk.push({ id: e.id, body, bytes });
  }
  await flush();
  if (byId) for (const id of sel.ids) if (!entries.some((e) => e.id === id)) skipped.push({ id, reason: "no such entry" });
  log("replay", { table, replayed: replayed.length, skipped: skipped.length, more: next !== null });
  return { replayed, skipped, more: next !== null, next };
}

/** The entry's original message, marked as its replay; a staged body is staged again from its copy. */
async function messageOf(env: Env, e: QuarantineEntry): Promise<IngestMessage> {
  const store = bindingStore(env);
  const raw = await store.get(e.key);
  if (!raw) throw new Error(`the record ${e.key} is missing`);
  const record = JSON.parse(new TextDecoder().decode(raw)) as QuarantineRecord;
  const m = parseMessage(record.message);
  if (m.kind === "compact") throw new Error("a compaction step is planned again by maintenance, not replayed");
  if (m.kind === "staged") {
    if (!record.stagedBody) throw new Error("the staged body was not kept with the record");
    const stagingKey = `staging/${new Date().toISOString().slice(0, 10)}/${m.requestId}-replay-${e.id}.ndjson`;
    await store.copy(record.stagedBody, stagingKey);
    return { ...m, stagingKey, replayOf: e.id };
  }
  return { ...m, replayOf: e.id };
}
