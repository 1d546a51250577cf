/**
 * The ledger of uploads of one table, in its Durable Object's SQLite: one row per object version
 * (`{bucket}/{key}#{eTag}`), with its state — pending, ingested (snapshot id, rows) or failed
 * (reason) — and, for objects split into byte ranges, how many ranges have landed. Deletes are
 * recorded, not ingested.
 */
export type UploadState = "pending" | "ingested" | "failed" | "deleted";

export interface UploadEntry {
  object: string;
  key: string;
  etag: string | null;
  size: number | null;
  state: UploadState;
  rows: number;
  ranges: number;
  rangesDone: number;
  snapshotId: string | null;
  reason: string | null;
  updatedAt: string;
}

export function migrateUploads(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS uploads (
    object TEXT PRIMARY KEY, key TEXT NOT NULL, etag TEXT, size INTEGER, state TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0, ranges INTEGER NOT NULL DEFAULT 1, ranges_done INTEGER NOT NULL DEFAULT 0,
    snapshot_id TEXT, reason TEXT, updated_at INTEGER NOT NULL)`);
  sql.exec("CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(key)");
  sql.exec("CREATE INDEX IF NOT EXISTS uploads_by_state ON uploads(state, updated_at)");
}

/** Records an object version as seen (pending) unless the ledger knows it; answers its state. */
export function seeUpload(sql: SqlStorage, u: { object: string; key: string; etag: string; size: number; ranges: number }, now: number): UploadState {
  const row = sql.exec<{ state: UploadState }>("SELECT state FROM uploads WHERE object = ?", u.object).toArray()[0];
  if (row) return row.state;
  sql.exec("INSERT INTO uploads (object, key, etag, size, state, ranges, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)", u.object, u.key, u.etag, u.size, u.ranges, now);
  return "pending";
}

/** A range (or the whole object) committed: the object is ingested once all its ranges are. */
export function uploadCommitted(sql: SqlStorage, object: string, rows: number, snapshotId: string, now: number): void {
  sql.exec("UPDATE uploads SET rows = rows + ?, ranges_done = ranges_done + 1, snapshot_id = ?, updated_at = ?, reason = NULL WHERE object = ?", rows, snapshotId, now, object);
  sql.exec("UPDATE uploads SET state = 'ingested' WHERE object = ? AND ranges_done >= ranges", object);
}

export function uploadFailed(sql: SqlStorage, object: string, reason: string, now: number): void {
  sql.exec("UPDATE uploads SET state = 'failed', reason = ?, updated_at = ? WHERE object = ?", reason.slice(0, 2000), now, object);
}

/** Failed objects back to pending for a replay (their range counts restart). */
export function replayFailed(sql: SqlStorage, now: number): UploadEntry[] {
  const failed = listUploads(sql, { state: "failed", limit: 10_000 });
  sql.exec("UPDATE uploads SET state = 'pending', reason = NULL, rows = 0, ranges_done = 0, updated_at = ? WHERE state = 'failed'", now);
  return failed;
}

export function uploadDeleted(sql: SqlStorage, key: string, now: number): void {
  const n = sql.exec("UPDATE uploads SET updated_at = ?, reason = 'source object deleted' WHERE key = ? AND state != 'deleted'", now, key).rowsWritten;
  if (n === 0) sql.exec("INSERT OR REPLACE INTO uploads (object, key, state, ranges, updated_at) VALUES (?, ?, 'deleted', 0, ?)", `${key}#deleted`, key, now);
}

/** Which of these object versions the ledger knows (any state). */
export function knownUploads(sql: SqlStorage, objects: readonly string[]): Set<string> {
  const known = new Set<string>();
  for (const o of objects) if (sql.exec("SELECT 1 FROM uploads WHERE object = ?", o).toArray().length) known.add(o);
  return known;
}

export function listUploads(sql: SqlStorage, opts: { state?: string; limit?: number; after?: string } = {}): UploadEntry[] {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000);
  const rows = sql
    .exec<{ object: string; key: string; etag: string | null; size: number | null; state: UploadState; rows: number; ranges: number; ranges_done: number; snapshot_id: string | null; reason: string | null; updated_at: number }>(
      `SELECT * FROM uploads WHERE (? IS NULL OR state = ?) AND object > ? ORDER BY object LIMIT ?`,
      opts.state ?? null,
      opts.state ?? null,
      opts.after ?? "",
      limit,
    )
    .toArray();
  return rows.map((r) => ({ object: r.object, key: r.key, etag: r.etag, size: r.size, state: r.state, rows: r.rows, ranges: r.ranges, rangesDone: r.ranges_done, snapshotId: r.snapshot_id, reason: r.reason, updatedAt: new Date(r.updated_at).toISOString() }));
}

export function uploadCounts(sql: SqlStorage): Record<UploadState, number> {
  const out: Record<UploadState, number> = { pending: 0, ingested: 0, failed: 0, deleted: 0 };
  for (const r of sql.exec<{ state: UploadState; n: number }>("SELECT state, count(*) AS n FROM uploads GROUP BY state").toArray()) out[r.state] = r.n;
  return out;
}
