import { leaseMs, type Env } from "../config.js";
import type { TableDO } from "../durable/table-do.js";
import { ClaimStatus } from "../durable/keys.js";
import type { TableInfo } from "../durable/table-info.js";
import type { RequestPart } from "../durable/receipts.js";
import { FloeError, isFloeError, rpc } from "../errors.js";
import { maybeFail, parseFaults } from "../faults.js";
import { inferStruct, mergeInferred } from "../iceberg/infer.js";
import type { StructType } from "../iceberg/types.js";
import { parseRequestId, parseTableName } from "../names.js";
import { bindingStore } from "../storage/lake.js";
import { commitBatch } from "../pipeline/commit-batch.js";
import { retryOrQuarantine } from "../pipeline/retry.js";
import { TableWriter } from "../pipeline/table-writer.js";
import { compactStep } from "./compact.js";
import { parseMessage, type CompactMessage, type RowsMessage, type UploadMessage } from "./messages.js";
import { isR2Notification } from "../uploads/notification.js";
import { consumeUploads, fromNotification, isHeavyUpload } from "../uploads/ingest.js";
import { errorText, log } from "../log.js";
import { quarantine } from "./quarantine.js";
import { keepRows } from "../columnar/scan-batches.js";
import { MessageScans, rowKey } from "./rows.js";

const DEAD_LETTER_QUEUE = "floe-dead-letter";

interface Item {
  msg: Message<unknown>;
  body: RowsMessage;
  keys: string[];
  /** Set when the message was quarantined instead of written. */
  dropped?: boolean;
}

/**
 * The queue consumer: groups a batch by table and, per table, runs the commit protocol: claim the
 * keys at the table's Durable Object, write one set of Parquet files of the fresh rows through the
 * S3 API, commit, then ack. Retryable failures retry the messages with a delay; messages that can
 * never be written go to the quarantine with their reason.
 */
export async function consume(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) {
    for (const msg of batch.messages) {
      const table = typeof (msg.body as { table?: unknown })?.table === "string" ? (msg.body as { table: string }).table : "_unknown";
      await quarantine(env, table, msg, `delivery failed ${msg.attempts} times (dead-letter queue)`, "retries_exhausted");
      msg.ack();
    }
    return;
  }
  const byTable = new Map<string, Item[]>();
  const uploads: { msg: Message<unknown>; body: UploadMessage }[] = [];
  const compactions: { msg: Message<unknown>; body: CompactMessage }[] = [];
  for (const msg of batch.messages) {
    try {
      // R2 event notifications arrive on the same queue as Floe's own messages.
      if (isR2Notification(msg.body)) {
        const up = await fromNotification(env, msg.body);
        if (up) uploads.push({ msg, body: up });
        else msg.ack();
        continue;
      }
      const parsed = parseMessage(msg.body);
      if (parsed.kind === "upload") {
        uploads.push({ msg, body: parsed });
        continue;
      }
      if (parsed.kind === "compact") {
        compactions.push({ msg, body: parsed });
        continue;
      }
      const body = parsed;
      const table = parseTableName(body.table).full;
      if (!byTable.has(table)) byTable.set(table, []);
      byTable.get(table)!.push({ msg, body, keys: [] });
    } catch (e) {
      await quarantine(env, "_invalid", msg, (e as Error).message, "invalid_message");
      msg.ack();
    }
  }
  // One heavy item (an upload range, a large object, a compaction step) per invocation, so that
  // however the queue batches them each fits the CPU limit; the others go back to the queue as new
  // messages (not retried: a retry would spend one of their attempts).
  const heavy = [...uploads.filter((u) => isHeavyUpload(u.body)), ...compactions];
  const later = heavy.slice(1);
  for (let i = 0; i < later.length; i += 100) await env.INGEST.sendBatch(later.slice(i, i + 100).map((it) => ({ body: it.body })));
  for (const it of later) it.msg.ack();
  const now = (it: { msg: Message<unknown> }) => !later.some((l) => l.msg === it.msg);
  const step = compactions.find(now);
  // Each message is scanned once and its scan kept for the steps after (keys, new fields, write),
  // within one budget for the whole invocation, whose tables are written side by side.
  const scans = new MessageScans(env);
  await Promise.all([
    ...[...byTable].map(([table, items]) => consumeTable(env, table, items, scans)),
    consumeUploads(env, uploads.filter(now)),
    ...(step ? [compactStep(env, step.msg, step.body)] : []),
  ]);
}

async function consumeTable(env: Env, table: string, items: Item[], scans: MessageScans): Promise<void> {
  try {
    await writeTable(env, table, items, scans);
  } catch (e) {
    for (const it of items) if (!it.dropped) await retryOrQuarantine(env, table, it.msg, e, `table ${table}: message ${it.msg.id}`);
  } finally {
    // Scans the write did not take (duplicates, busy or dropped messages, a failed batch) are let go
    // here, so the invocation's other tables have the budget and the memory.
    for (const it of items) scans.release(it.body);
  }
}

async function writeTable(env: Env, table: string, items: Item[], scans: MessageScans): Promise<void> {
  const stub = env.TABLES.get(env.TABLES.idFromName(table));
  const info: TableInfo = await rpc(stub.info(table));
  discardDropped(table, items, info.droppedAt);

  // Keys: known from the envelope, unless the table keys rows by a field of their own.
  for (const it of items) {
    if (it.dropped) continue;
    if (!info.idField) {
      it.keys = Array.from({ length: it.body.count }, (_, i) => rowKey(it.body, null, null, firstOf(it.body) + i));
      continue;
    }
    try {
      it.keys = await scans.keys(it.body, info.idField, info.schema);
    } catch (e) {
      if (!isFloeError(e, "invalid_input")) throw e;
      await drop(env, table, it, e);
    }
  }
  const live = items.filter((it) => !it.dropped);
  const busy = new Set<Item>();
  let fresh = new Map<Item, Set<number>>();
  await commitBatch(env, table, live.flatMap((it) => it.keys), async (claim, aborts) => {
    fresh = freshRows(live, claim.status, busy);
    if (!fresh.size) return null;
    const writer = new TableWriter(env, table, await ensureShape(stub, table, claim.info, fresh, scans));
    aborts.push(writer);
    for (const [it, set] of fresh) {
      try {
        // Rows the table's schema describes go from the message's bytes to typed columns; the others
        // are parsed and converted (scan-batches.ts). Refusals name a row by its index in the request.
        for await (const b of scans.batches(it.body, () => writer.schema, { last: true })) {
          await writer.writeScanned(keepRows(b, (p) => set.has(b.first + p), firstOf(it.body)));
        }
      } catch (e) {
        if (!isFloeError(e, "invalid_input")) throw e;
        // Rows of this message already handed to the writer would land without the rest: refuse
        // the whole batch's files and start again without this message (it is quarantined).
        await drop(env, table, it, e);
        throw new FloeError("commit_conflict", `message ${it.msg.id} quarantined; the rest of the batch is retried`, { retryable: true });
      }
    }
    return writer.finish();
  }, {
    // A message with a row another claim holds is retried, not landed: its part is recorded by the
    // delivery that writes its last rows.
    carries: () => ({ parts: [...fresh.keys()].filter((it) => !busy.has(it)).map(partOf) }),
    // The requests a batch carries, so a request's log line leads to its batch, and the batch's to its commit.
    log: () => ({ messages: live.length, requestIds: [...new Set(live.map((it) => it.body.requestId))].slice(0, 50) }),
  });
  // Messages whose rows were all there already: their requests' receipts learn it too.
  const settled = live.filter((it) => !busy.has(it) && !fresh.has(it) && !it.dropped).map(partOf);
  // Bookkeeping only: the rows are committed whatever happens to the receipt, so a failure here must
  // not send the messages to a retry (and from there, perhaps, to the quarantine).
  if (settled.length) await rpc(stub.settleParts(table, settled)).catch((e) => log("error", { table, code: "receipt_not_recorded", message: errorText(e) }, "warn"));
  maybeFail(parseFaults(env.FLOE_FAULTS), "before-ack");
  for (const it of live) {
    if (busy.has(it)) it.msg.retry({ delaySeconds: Math.ceil(leaseMs(env) / 1000) });
    else {
      it.msg.ack();
      if (it.body.kind === "staged") await bindingStore(env).delete(it.body.stagingKey).catch(() => undefined);
    }
  }
}

/** Per message: which of its rows the claim found fresh; messages with a row another live claim holds go into `busy`. */
function freshRows(live: Item[], status: Uint8Array, busy: Set<Item>): Map<Item, Set<number>> {
  let at = 0;
  const fresh = new Map<Item, Set<number>>();
  for (const it of live) {
    const set = new Set<number>();
    it.keys.forEach((_, i) => {
      const s = status[at + i];
      if (s === ClaimStatus.Fresh) set.add(i);
      else if (s === ClaimStatus.Busy) busy.add(it);
    });
    at += it.keys.length;
    if (set.size) fresh.set(it, set);
  }
  return fresh;
}

/**
 * New fields of the fresh rows (mode `evolve`), or the table itself on its first write, committed by
 * the table's object before any file is written: concurrent batches each adding columns merge there
 * instead of conflicting.
 */
async function ensureShape(stub: DurableObjectStub<TableDO>, table: string, info: TableInfo, fresh: Map<Item, Set<number>>, scans: MessageScans): Promise<TableInfo> {
  if (info.exists && info.mode !== "evolve") return info;
  let shape: StructType | undefined;
  for (const [it, set] of fresh) {
    // Only rows the scanner hands over can add fields: a row it takes has nothing the schema lacks.
    for await (const b of scans.batches(it.body, () => info.schema)) {
      const kept = keepRows(b, (p) => set.has(b.first + p), firstOf(it.body));
      if (!kept.slow.length) continue;
      const s = inferStruct(kept.slow, 0, info.schema ?? undefined, info.policy, kept.slowIndex);
      shape = shape ? mergeInferred(shape, s) : s;
    }
  }
  return shape && (shape.fields.length || !info.exists) ? rpc(stub.ensureSchema(table, shape)) : info;
}

/**
 * Messages sent before their table was dropped (`DELETE /v1/tables/{table}`) are acked and
 * forgotten: they belonged to the table that is gone, and must not land in one created later under
 * the same name. A request id holds the time it was accepted (UUIDv7, names.ts).
 */
function discardDropped(table: string, items: Item[], droppedAt: number | null): void {
  if (!droppedAt) return;
  for (const it of items) {
    let sent: number;
    try {
      sent = parseRequestId(it.body.requestId).at;
    } catch {
      continue;
    }
    if (sent >= droppedAt) continue;
    it.dropped = true;
    it.msg.ack();
    log("discard", { table, requestId: it.body.requestId, rows: it.body.count, reason: "sent before the table was dropped" });
  }
}

/** The part of its request a message carries, for the request's receipt. */
function partOf(it: Item): RequestPart {
  const m = it.body;
  return { requestId: m.requestId, part: firstOf(m), rows: m.count, requestRows: m.requestRows ?? m.count, ...(m.replayOf ? { replayOf: m.replayOf } : {}) };
}

function firstOf(m: RowsMessage): number {
  return m.kind === "events" ? m.firstIndex : 0;
}

async function drop(env: Env, table: string, it: Item, e: FloeError): Promise<void> {
  // Marked dropped (and acked) only once its record is written: if writing it fails, the message is retried.
  await quarantine(env, table, it.msg, e.message, e.code);
  it.dropped = true;
  it.msg.ack();
}
