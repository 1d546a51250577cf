import type { ObjectStore } from "../storage/object-store.js";

/**
 * Purges of dropped tables, in the table's Durable Object: `DELETE /v1/tables/{t}?purge=true`
 * takes the table out of the catalog at once, but its files stay for a grace period, so that a
 * query already planned on its last snapshot still reads, and a drop by mistake can be undone by
 * registering its last metadata file. Then the object's alarm deletes everything under the old
 * location, a bounded number of pages per alarm, and forgets the purge when the prefix is empty.
 *
 * The rows survive the drop's wipe of the object's state (they are written after it), and a crash
 * between the wipe and the row leaves the files in place (never a deletion nothing asked for).
 */
export interface Purge {
  /** Store key prefix of the dropped table's location (ends with "/"). */
  prefix: string;
  dueAt: number;
  deleted: number;
}

export function migratePurges(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS purges (prefix TEXT PRIMARY KEY, due_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)");
}

export function schedulePurge(sql: SqlStorage, prefix: string, dueAt: number): void {
  sql.exec("INSERT INTO purges (prefix, due_at) VALUES (?, ?) ON CONFLICT(prefix) DO UPDATE SET due_at = excluded.due_at", prefix, dueAt);
}

export function pendingPurges(sql: SqlStorage): Purge[] {
  return sql.exec<{ prefix: string; due_at: number; deleted: number }>("SELECT prefix, due_at, deleted FROM purges ORDER BY due_at").toArray().map((r) => ({ prefix: r.prefix, dueAt: r.due_at, deleted: r.deleted }));
}

/** When the next purge is due, or null. */
export function nextPurgeAt(sql: SqlStorage): number | null {
  const r = sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM purges").one();
  return r.at ?? null;
}

/** Cancels a purge whose prefix is in use again (its metadata was registered back as this table). */
export function cancelPurge(sql: SqlStorage, prefix: string): void {
  sql.exec("DELETE FROM purges WHERE prefix = ?", prefix);
}

/**
 * Deletes the files of purges that are due, at most `pages` listing pages of 1000 keys per call
 * (an alarm's work stays bounded however large the table was); answers whether any is left, due
 * or not. `inUse` is the prefix of the table this object holds now: never purged.
 */
export async function runPurges(sql: SqlStorage, store: ObjectStore, now: number, inUse: string, pages = 20): Promise<{ deleted: number; done: string[] }> {
  let deleted = 0;
  const done: string[] = [];
  for (const p of pendingPurges(sql)) {
    if (p.dueAt > now) break;
    if (p.prefix === inUse) {
      cancelPurge(sql, p.prefix);
      continue;
    }
    let empty = false;
    while (pages > 0) {
      pages--;
      // Always the first page: what was deleted is gone, so the listing moves on by itself.
      const page = await store.list(p.prefix, { limit: 1000 });
      if (page.objects.length) await store.delete(page.objects.map((o) => o.key));
      deleted += page.objects.length;
      sql.exec("UPDATE purges SET deleted = deleted + ? WHERE prefix = ?", page.objects.length, p.prefix);
      if (!page.cursor && page.objects.length < 1000) {
        empty = true;
        break;
      }
    }
    if (!empty) break;
    cancelPurge(sql, p.prefix);
    done.push(p.prefix);
  }
  return { deleted, done };
}
