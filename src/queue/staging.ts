import type { Env } from "../config.js";
import { DEFAULT_ORPHAN_AGE_MS } from "../iceberg/maintenance/orphans.js";
import { bindingStore } from "../storage/lake.js";
import { listAll } from "../storage/object-store.js";

/**
 * Removes staged request bodies (`staging/{day}/…`) older than `olderThanMs` (default the orphan
 * window, 3 days). A staged body is deleted by the consumer once its rows are committed; one left
 * behind belongs to a request whose pointer message was lost or given up, and by then its retries
 * (at most about a quarter of an hour) are long over. A body whose message went to the quarantine
 * has been copied beside the quarantine record, so its replay does not need it. Whole days are
 * listed only when they are old enough, so the sweep reads little while nothing is stale.
 */
export async function sweepStaging(env: Env, now = Date.now(), olderThanMs = DEFAULT_ORPHAN_AGE_MS): Promise<{ deleted: number }> {
  const bucket = env.LAKE;
  const store = bindingStore(env);
  const cutoff = now - olderThanMs;
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: "staging/", delimiter: "/", cursor });
    for (const day of page.delimitedPrefixes) {
      // A day that began after the cutoff holds nothing old enough: not even listed.
      const dayStart = Date.parse(`${day.slice("staging/".length, -1)}T00:00:00Z`);
      if (!Number.isFinite(dayStart) || dayStart > cutoff) continue;
      const old = (await listAll(store, day)).filter((o) => o.lastModified !== undefined && o.lastModified < cutoff);
      if (old.length) await store.delete(old.map((o) => o.key));
      deleted += old.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { deleted };
}
