import { requestQuarantined } from "./quarantine-ledger.js";

/**
 * Commit receipts: what became of each accepted request, in its table's Durable Object. A request
 * travels as one or more messages (its parts, each named by its first row's index); each part is
 * recorded once, when its rows land in a snapshot (`committed`) or are found already there
 * (`duplicate`: a retried message, an idempotent resend). The request is committed once its parts
 * cover all its rows; its receipt names the snapshot that made the last of them visible.
 *
 * Kept as long as the dedupe ledger keeps keys (`floe.dedupe-window-days`), pruned with it.
 */
export interface RequestPart {
  requestId: string;
  /** Index of the part's first row in the request. */
  part: number;
  rows: number;
  /** Rows of the whole request (from the message envelope). */
  requestRows: number;
  /** The quarantine entry this part is a replay of. */
  replayOf?: string;
}

export type RequestState = "pending" | "committed" | "quarantined";

export interface Receipt {
  requestId: string;
  state: RequestState;
  /** Rows known to be in the table so far, of `rows`. */
  committedRows: number;
  rows: number | null;
  /** The snapshot that made the request's last rows visible; null when they were all already there. */
  snapshotId: string | null;
  sequenceNumber: number | null;
  committedAt: string | null;
  /** Set when the request's rows were all found already committed (a resend). */
  duplicate?: boolean;
  quarantine?: { id: string; reason: string; code: string };
}

export function migrateReceipts(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS request_parts (
    request_id TEXT NOT NULL, part INTEGER NOT NULL, rows INTEGER NOT NULL, request_rows INTEGER NOT NULL,
    outcome TEXT NOT NULL, snapshot_id TEXT, sequence_number INTEGER, at INTEGER NOT NULL,
    PRIMARY KEY (request_id, part))`);
  sql.exec("CREATE INDEX IF NOT EXISTS request_parts_by_age ON request_parts(at)");
}

/** Records parts as landed (the first outcome of a part stands: a later redelivery changes nothing). */
export function recordParts(sql: SqlStorage, parts: readonly RequestPart[], outcome: { snapshotId: string; sequenceNumber: number } | "duplicate", now: number): void {
  for (const p of parts) {
    sql.exec(
      "INSERT OR IGNORE INTO request_parts (request_id, part, rows, request_rows, outcome, snapshot_id, sequence_number, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      p.requestId, p.part, p.rows, p.requestRows, outcome === "duplicate" ? "duplicate" : "committed",
      outcome === "duplicate" ? null : outcome.snapshotId, outcome === "duplicate" ? null : outcome.sequenceNumber, now,
    );
  }
}

/** The receipt of a request, or null when nothing of it has landed or been quarantined (yet, or within the window). */
export function receiptOf(sql: SqlStorage, requestId: string): Receipt | null {
  const parts = sql.exec<{ rows: number; request_rows: number; outcome: string; snapshot_id: string | null; sequence_number: number | null; at: number }>("SELECT rows, request_rows, outcome, snapshot_id, sequence_number, at FROM request_parts WHERE request_id = ?", requestId).toArray();
  const q = requestQuarantined(sql, requestId);
  if (!parts.length && !q) return null;
  const rows = parts.length ? parts[0].request_rows : null;
  const committedRows = parts.reduce((n, p) => n + p.rows, 0);
  const done = rows !== null && committedRows >= rows;
  const last = parts.filter((p) => p.outcome === "committed").sort((a, b) => (b.sequence_number ?? 0) - (a.sequence_number ?? 0))[0];
  const receipt: Receipt = {
    requestId,
    state: done ? "committed" : q ? "quarantined" : "pending",
    committedRows,
    rows,
    snapshotId: done ? (last?.snapshot_id ?? null) : null,
    sequenceNumber: done ? (last?.sequence_number ?? null) : null,
    committedAt: done ? new Date(Math.max(...parts.map((p) => p.at))).toISOString() : null,
  };
  if (done && !last) receipt.duplicate = true;
  if (!done && q) receipt.quarantine = q;
  return receipt;
}

export function pruneReceipts(sql: SqlStorage, now: number, windowMs: number): void {
  sql.exec("DELETE FROM request_parts WHERE at < ?", now - windowMs);
}
