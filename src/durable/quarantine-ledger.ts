/**
 * The index of a table's quarantine, in its Durable Object's SQLite: one row per quarantined queue
 * message, pointing at its record in R2 (`quarantine/{table}/…json`, which holds the message
 * itself). The record is the truth; this index is what lists, counts and picks entries for replay
 * without listing R2.
 *
 * An entry is `quarantined`, then `replayed` (its message was sent again), then `landed` (the
 * replay's rows are in the table) or `quarantined` again with the new reason: a replayed message
 * carries its entry's id (`replayOf`), so it comes back to the same entry rather than a new one.
 */
export type QuarantineState = "quarantined" | "replayed" | "landed";

export interface QuarantineEntry {
  id: string;
  /** The record in the lake bucket (binding), holding the original message. */
  key: string;
  state: QuarantineState;
  reason: string;
  code: string;
  /** Deliveries of the message before it was quarantined (the last time). */
  attempts: number;
  /** Rows the message carries (0 for a message that is not rows: an upload, an invalid message). */
  rows: number;
  /** Bytes of the message's rows (NDJSON), or of the message when it is not rows. */
  size: number;
  requestId: string | null;
  /** When it was first quarantined (a replay that fails again keeps this; `quarantinedAt` moves). */
  firstQuarantinedAt: string;
  /** The start of the message's rows (or of the message), to see what it was without fetching the record. */
  preview: string;
  quarantinedAt: string;
  replays: number;
  replayedAt: string | null;
  landedAt: string | null;
}

export function migrateQuarantine(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, key TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT NOT NULL, code TEXT NOT NULL, attempts INTEGER NOT NULL, rows INTEGER NOT NULL, size INTEGER NOT NULL,
    request_id TEXT, part INTEGER, preview TEXT NOT NULL DEFAULT '', first_at INTEGER NOT NULL, at INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0, replayed_at INTEGER, landed_at INTEGER)`);
  sql.exec("CREATE INDEX IF NOT EXISTS quarantine_by_state ON quarantine(state, seq)");
  sql.exec("CREATE INDEX IF NOT EXISTS quarantine_by_request ON quarantine(request_id)");
}

export interface NewQuarantined {
  id: string;
  key: string;
  reason: string;
  code: string;
  attempts: number;
  rows: number;
  size: number;
  preview: string;
  requestId?: string;
  /** The message's first row index within its request (its part). */
  part?: number;
  /** The entry this message is a replay of. */
  replayOf?: string;
}

/**
 * Records a quarantined message. A replay that failed again updates its entry (new reason, record
 * and time) instead of adding one; answers the record the entry pointed at before, which the
 * caller deletes (the new record holds the same message).
 */
export function addQuarantined(sql: SqlStorage, e: NewQuarantined, now: number): { id: string; previousKey: string | null } {
  const reason = e.reason.slice(0, 2000);
  if (e.replayOf) {
    const prev = sql.exec<{ key: string }>("SELECT key FROM quarantine WHERE id = ?", e.replayOf).toArray()[0];
    if (prev) {
      sql.exec("UPDATE quarantine SET key = ?, state = 'quarantined', reason = ?, code = ?, attempts = ?, at = ?, landed_at = NULL WHERE id = ?", e.key, reason, e.code, e.attempts, now, e.replayOf);
      return { id: e.replayOf, previousKey: prev.key === e.key ? null : prev.key };
    }
  }
  sql.exec(
    "INSERT OR IGNORE INTO quarantine (id, key, state, reason, code, attempts, rows, size, request_id, part, preview, first_at, at) VALUES (?, ?, 'quarantined', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    e.id, e.key, reason, e.code, e.attempts, e.rows, e.size, e.requestId ?? null, e.part ?? null, e.preview.slice(0, PREVIEW_CHARS), now, now,
  );
  return { id: e.id, previousKey: null };
}

export interface QuarantineQuery {
  state?: QuarantineState;
  /** Entries whose reason contains this text, or whose code is it. */
  reason?: string;
  ids?: readonly string[];
  limit?: number;
  /** The `next` of the previous page. */
  after?: number;
}

/** How much of a message the index keeps as its preview. */
export const PREVIEW_CHARS = 300;

type Row = { seq: number; id: string; key: string; state: QuarantineState; reason: string; code: string; attempts: number; rows: number; size: number; request_id: string | null; preview: string; first_at: number; at: number; replays: number; replayed_at: number | null; landed_at: number | null };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A page of entries in the order they were first quarantined, and the cursor of the next page (null at the end). */
export function listQuarantine(sql: SqlStorage, q: QuarantineQuery = {}): { entries: QuarantineEntry[]; next: number | null } {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const ids = q.ids?.length ? JSON.stringify(q.ids) : null;
  const rows = sql
    .exec<Row>(
      `SELECT * FROM quarantine WHERE seq > ? AND (? IS NULL OR state = ?) AND (? IS NULL OR code = ? OR instr(reason, ?) > 0)
       AND (? IS NULL OR id IN (SELECT value FROM json_each(?))) ORDER BY seq LIMIT ?`,
      q.after ?? 0, q.state ?? null, q.state ?? null, q.reason ?? null, q.reason ?? null, q.reason ?? null, ids, ids, limit + 1,
    )
    .toArray();
  const page = rows.slice(0, limit);
  return {
    entries: page.map((r) => ({
      id: r.id, key: r.key, state: r.state, reason: r.reason, code: r.code, attempts: r.attempts, rows: r.rows, size: r.size, requestId: r.request_id, firstQuarantinedAt: iso(r.first_at)!, preview: r.preview,
      quarantinedAt: iso(r.at)!, replays: r.replays, replayedAt: iso(r.replayed_at), landedAt: iso(r.landed_at),
    })),
    next: rows.length > limit ? page[page.length - 1].seq : null,
  };
}

/**
 * Entries whose messages were sent (at `sentAt`): `replayed` until they land or come back. One that
 * came back (or landed) since it was sent keeps that newer state.
 */
export function markReplayed(sql: SqlStorage, ids: readonly string[], sentAt: number, now: number): void {
  for (const id of ids) sql.exec("UPDATE quarantine SET state = 'replayed', replays = replays + 1, replayed_at = ? WHERE id = ? AND state != 'landed' AND at <= ?", now, id, sentAt);
}

/** A replayed message's rows are in the table (committed now, or found already there). */
export function markLanded(sql: SqlStorage, ids: readonly string[], now: number): void {
  for (const id of ids) sql.exec("UPDATE quarantine SET state = 'landed', landed_at = ? WHERE id = ?", now, id);
}

export function quarantineCounts(sql: SqlStorage): Record<QuarantineState, number> {
  const out: Record<QuarantineState, number> = { quarantined: 0, replayed: 0, landed: 0 };
  for (const r of sql.exec<{ state: QuarantineState; n: number }>("SELECT state, count(*) AS n FROM quarantine GROUP BY state").toArray()) out[r.state] = r.n;
  return out;
}

/** The reason a request's rows are quarantined, if any of its messages is (and not replayed since). */
export function requestQuarantined(sql: SqlStorage, requestId: string): { id: string; reason: string; code: string } | undefined {
  return sql.exec<{ id: string; reason: string; code: string }>("SELECT id, reason, code FROM quarantine WHERE request_id = ? AND state = 'quarantined' ORDER BY seq LIMIT 1", requestId).toArray()[0];
}
