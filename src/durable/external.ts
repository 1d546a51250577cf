import { isFloeError } from "../errors.js";
import type { MetadataCatalog } from "../iceberg/metadata-catalog.js";
import { getMeta, setMeta } from "./keys.js";

/** What committing through the external catalog has met so far (table status, `externalCatalog`). */
export interface ExternalOutcomes {
  commits: number;
  /** Refused because the table moved (409, or Basin's 400 ConcurrentUpdateError): reloaded and planned again. */
  conflicts: number;
  /** Refused with 429: waited as asked, and the waiting commits went as one. */
  rateLimited: number;
  /** No answer, or a 5xx: settled from the table's snapshots (`floe.batch-ids`). */
  unknownOutcomes: number;
}

const KEYS = { commits: "ext_commits", conflicts: "ext_conflicts", rateLimited: "ext_rate_limited", unknownOutcomes: "ext_unknown" } as const;

export function externalOutcomes(sql: SqlStorage): ExternalOutcomes {
  const n = (k: string) => Number(getMeta(sql, k) ?? 0);
  return { commits: n(KEYS.commits), conflicts: n(KEYS.conflicts), rateLimited: n(KEYS.rateLimited), unknownOutcomes: n(KEYS.unknownOutcomes) };
}

/** Counts each commit's outcome in the table object's SQLite, around the catalog it commits through. */
export function countOutcomes(inner: MetadataCatalog, sql: SqlStorage): MetadataCatalog {
  const bump = (k: string) => setMeta(sql, k, String(Number(getMeta(sql, k) ?? 0) + 1));
  return {
    load: () => inner.load(),
    commit: async (commit, opts) => {
      try {
        const t = await inner.commit(commit, opts);
        bump(KEYS.commits);
        return t;
      } catch (e) {
        if (isFloeError(e, "commit_conflict")) bump(KEYS.conflicts);
        else if (isFloeError(e, "rate_limited")) bump(KEYS.rateLimited);
        else if (isFloeError(e) && e.details?.outcome === "unknown") bump(KEYS.unknownOutcomes);
        throw e;
      }
    },
  };
}
