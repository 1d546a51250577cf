/**
 * The dedupe ledger of one table, in the Durable Object's SQLite: every event key claimed or
 * committed within the window, and the fence of the claim that owns it.
 *
 * A claim is a lease: the batch that holds it may write the keys' rows and commit them until the
 * lease ends. Each claim gets a new fence (a counter), and owning a key means the key carries the
 * claim's fence, so a batch whose keys were taken over after its lease ran out can never commit
 * them (DESIGN.md "Commit protocol").
 */
export const KeyState = { Claimed: 0, Committed: 1 } as const;

/**
 * What a claim answers for each key. Fresh: write the row. Duplicate: already committed, drop it.
 * Busy: held by another live claim; try again after its lease, since its owner may still fail.
 */
export const ClaimStatus = { Fresh: 0, Duplicate: 1, Busy: 2 } as const;

export function migrate(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY,
    fence INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    state INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    at INTEGER NOT NULL)`);
  sql.exec("CREATE INDEX IF NOT EXISTS keys_by_fence ON keys(fence)");
  sql.exec("CREATE INDEX IF NOT EXISTS keys_by_batch ON keys(batch_id)");
  sql.exec("CREATE INDEX IF NOT EXISTS keys_by_age ON keys(state, at)");
  sql.exec(`CREATE TABLE IF NOT EXISTS claims (
    fence INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    fresh INTEGER NOT NULL)`);
  sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
}

/** Claims `keys` for a batch: a new fence, and per key whether it is fresh, a duplicate or busy. */
export function claimKeys(sql: SqlStorage, batchId: string, keys: readonly string[], now: number, leaseMs: number, inDoubt: ReadonlySet<string> = new Set()): { fence: number; status: Uint8Array; fresh: number; duplicates: number } {
  const last = sql.exec<{ f: number | null }>("SELECT max(fence) AS f FROM claims").one().f ?? 0;
  const stored = Number(getMeta(sql, "last_fence") ?? 0);
  const fence = Math.max(last, stored) + 1;
  setMeta(sql, "last_fence", String(fence));
  const leaseUntil = now + leaseMs;
  const status = new Uint8Array(keys.length);
  const seen = new Map<string, number>();
  let fresh = 0;
  let duplicates = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    // The same key twice in one batch (a producer resending within one request): the first wins. A
    // repeat of a busy key is busy too: the other claim may still fail, and then this row is needed.
    const first = seen.get(key);
    if (first !== undefined) {
      status[i] = first === ClaimStatus.Busy ? ClaimStatus.Busy : ClaimStatus.Duplicate;
      if (status[i] === ClaimStatus.Duplicate) duplicates++;
      continue;
    }
    const row = sql.exec<{ state: number; lease_until: number; batch_id: string }>("SELECT state, lease_until, batch_id FROM keys WHERE key = ?", key).toArray()[0];
    if (row && row.state === KeyState.Committed) {
      status[i] = ClaimStatus.Duplicate;
      duplicates++;
    } else if (row && (row.lease_until > now || inDoubt.has(row.batch_id))) {
      // A live claim, or one whose commit is being written (or was, and is not settled yet): its
      // lease may have run out meanwhile, but its rows may be landing, so the keys are not free.
      status[i] = ClaimStatus.Busy;
    } else {
      sql.exec("INSERT OR REPLACE INTO keys (key, fence, batch_id, state, lease_until, at) VALUES (?, ?, ?, ?, ?, ?)", key, fence, batchId, KeyState.Claimed, leaseUntil, now);
      status[i] = ClaimStatus.Fresh;
      fresh++;
    }
    seen.set(key, status[i]);
  }
  sql.exec("INSERT INTO claims (fence, batch_id, lease_until, fresh) VALUES (?, ?, ?, ?)", fence, batchId, leaseUntil, fresh);
  return { fence, status, fresh, duplicates };
}

/** Why a claim may no longer commit, or undefined if it still may. */
export function checkFence(sql: SqlStorage, batchId: string, fence: number, now: number): string | undefined {
  const claim = sql.exec<{ batch_id: string; lease_until: number; fresh: number }>("SELECT batch_id, lease_until, fresh FROM claims WHERE fence = ?", fence).toArray()[0];
  if (!claim || claim.batch_id !== batchId) return `fence ${fence} is not a claim of batch ${batchId}`;
  if (claim.lease_until <= now) return `the lease of fence ${fence} ended`;
  const owned = sql.exec<{ n: number }>("SELECT count(*) AS n FROM keys WHERE fence = ? AND state = ?", fence, KeyState.Claimed).one().n;
  if (owned !== claim.fresh) return `fence ${fence} lost ${claim.fresh - owned} of its keys to a newer claim`;
  return undefined;
}

/** Marks the keys of committed claims (by fence) committed. */
export function commitFences(sql: SqlStorage, fences: readonly number[], now: number): void {
  for (const f of fences) {
    sql.exec("UPDATE keys SET state = ?, at = ? WHERE fence = ? AND state = ?", KeyState.Committed, now, f, KeyState.Claimed);
    sql.exec("DELETE FROM claims WHERE fence = ?", f);
  }
}

/** Marks every key claimed by these batches committed: used when a commit is found in the table after a crash. */
export function commitBatches(sql: SqlStorage, batchIds: readonly string[], now: number): void {
  for (const b of batchIds) {
    sql.exec("UPDATE keys SET state = ?, at = ? WHERE batch_id = ? AND state = ?", KeyState.Committed, now, b, KeyState.Claimed);
    sql.exec("DELETE FROM claims WHERE batch_id = ?", b);
  }
}

/** Forgets committed keys older than the window and claims long dead. Returns keys removed. */
export function pruneKeys(sql: SqlStorage, now: number, windowMs: number): number {
  const before = sql.exec<{ n: number }>("SELECT count(*) AS n FROM keys").one().n;
  sql.exec("DELETE FROM keys WHERE state = ? AND at < ?", KeyState.Committed, now - windowMs);
  sql.exec("DELETE FROM keys WHERE state = ? AND lease_until < ?", KeyState.Claimed, now - windowMs);
  sql.exec("DELETE FROM claims WHERE lease_until < ?", now - windowMs);
  return before - sql.exec<{ n: number }>("SELECT count(*) AS n FROM keys").one().n;
}

export function getMeta(sql: SqlStorage, k: string): string | undefined {
  return sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v;
}

export function setMeta(sql: SqlStorage, k: string, v: string): void {
  sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", k, v);
}

/** Gives up a whole claim (its batch was abandoned), so the messages' retry can claim the keys at once. */
export function abandonClaim(sql: SqlStorage, fence: number): void {
  sql.exec("DELETE FROM keys WHERE fence = ? AND state = ?", fence, KeyState.Claimed);
  sql.exec("DELETE FROM claims WHERE fence = ?", fence);
}

/** Extends a live claim's lease (a long upload still being read); false if the claim is gone or over. */
export function renewClaim(sql: SqlStorage, fence: number, now: number, leaseMs: number): boolean {
  const claim = sql.exec<{ lease_until: number }>("SELECT lease_until FROM claims WHERE fence = ?", fence).toArray()[0];
  if (!claim || claim.lease_until <= now) return false;
  sql.exec("UPDATE claims SET lease_until = ? WHERE fence = ?", now + leaseMs, fence);
  sql.exec("UPDATE keys SET lease_until = ? WHERE fence = ? AND state = ?", now + leaseMs, fence, KeyState.Claimed);
  return true;
}
