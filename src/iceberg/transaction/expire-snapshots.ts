import { numberProperty } from "../properties.js";
import type { TableCommit, Update } from "../commit.js";
import { MAIN_BRANCH, type Snapshot, type TableMetadata } from "../metadata.js";

/**
 * Snapshot retention (spec "Snapshot Retention Policy"): the table properties
 * `history.expire.max-snapshot-age-ms` (Iceberg's default, 5 days), `history.expire.min-snapshots-to-keep`
 * (default 1) and `history.expire.max-ref-age-ms` (default: refs never expire), each overridable
 * per ref; plus Floe's `floe.history.max-snapshots` (default 100), a cap on the ancestors a branch
 * keeps whatever their age. Age alone cannot bound metadata: at one commit a second, 5 days is
 * 432,000 snapshots (some 350 MB of metadata.json at ~800 bytes a snapshot, rewritten on every commit). With the cap, and
 * expiry every 50 commits, a busy table's metadata holds 100 to 150 snapshots (at most 116 KB measured):
 * every commit costs what commit 100 cost, however long the table lives. A table committing
 * less often keeps its full 5 days (the cap binds only above one commit per ~70 minutes).
 */
export interface RetentionPolicy {
  maxSnapshotAgeMs: number;
  minSnapshotsToKeep: number;
  maxRefAgeMs: number;
  maxSnapshots: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxSnapshotAgeMs: 5 * 86_400_000, minSnapshotsToKeep: 1, maxRefAgeMs: Number.POSITIVE_INFINITY, maxSnapshots: 100 };

export function retentionPolicy(props: Record<string, string>): RetentionPolicy {
  const num = (k: string, d: number, min: number) => numberProperty(props, k, d, { min });
  return {
    maxSnapshotAgeMs: num("history.expire.max-snapshot-age-ms", DEFAULT_RETENTION.maxSnapshotAgeMs, 0),
    minSnapshotsToKeep: num("history.expire.min-snapshots-to-keep", DEFAULT_RETENTION.minSnapshotsToKeep, 1),
    maxRefAgeMs: num("history.expire.max-ref-age-ms", DEFAULT_RETENTION.maxRefAgeMs, 0),
    maxSnapshots: num("floe.history.max-snapshots", DEFAULT_RETENTION.maxSnapshots, 1),
  };
}

export interface ExpiryPlan {
  /** `remove-snapshot-ref` and `remove-snapshots`, or null when nothing expires. */
  commit: TableCommit | null;
  expired: Snapshot[];
  kept: Snapshot[];
  removedRefs: string[];
}

/**
 * Which snapshots and refs the retention policy expires at `now` (`olderThanMs`, when given,
 * replaces the max snapshot age). Per the spec: a ref other than main older than its max ref age is
 * removed; each branch keeps its newest `min-snapshots-to-keep` ancestors and any younger than the
 * max snapshot age (at most `maxSnapshots` of them); a tag keeps its snapshot; a snapshot no ref
 * keeps expires once older than the max age. `protect` keeps a snapshot whatever the policy says.
 * The commit asserts main's head, so it cannot expire what a concurrent commit made current.
 */
export function planExpiry(m: TableMetadata, now: number, opts: { olderThanMs?: number; protect?: (s: Snapshot) => boolean } = {}): ExpiryPlan {
  const policy = retentionPolicy(m.properties);
  const byId = new Map(m.snapshots.map((s) => [s["snapshot-id"], s]));
  const keep = new Set<bigint>();
  const removedRefs: string[] = [];
  for (const [name, ref] of Object.entries(m.refs)) {
    const head = byId.get(ref["snapshot-id"]);
    const maxRefAge = ref["max-ref-age-ms"] ?? policy.maxRefAgeMs;
    if (name !== MAIN_BRANCH && (!head || now - head["timestamp-ms"] > maxRefAge)) {
      removedRefs.push(name);
      continue;
    }
    if (!head) continue;
    if (ref.type === "tag") {
      keep.add(head["snapshot-id"]);
      continue;
    }
    const maxAge = opts.olderThanMs ?? ref["max-snapshot-age-ms"] ?? policy.maxSnapshotAgeMs;
    const minKeep = ref["min-snapshots-to-keep"] ?? policy.minSnapshotsToKeep;
    let s: Snapshot | undefined = head;
    for (let i = 0; s; i++) {
      const young = now - s["timestamp-ms"] <= maxAge && i < policy.maxSnapshots;
      if (i >= minKeep && !young) break;
      keep.add(s["snapshot-id"]);
      s = s["parent-snapshot-id"] === undefined ? undefined : byId.get(s["parent-snapshot-id"]);
    }
  }
  const maxAge = opts.olderThanMs ?? policy.maxSnapshotAgeMs;
  const referenced = new Set<bigint>();
  for (const [name, ref] of Object.entries(m.refs)) if (!removedRefs.includes(name)) referenced.add(ref["snapshot-id"]);
  const lines = ancestorsOf(referenced, byId);
  const expired = m.snapshots.filter((s) => {
    if (keep.has(s["snapshot-id"]) || opts.protect?.(s)) return false;
    // Not kept by its branch's retention (it is on a ref's line), or on no line at all and old.
    return lines.has(s["snapshot-id"]) || now - s["timestamp-ms"] > maxAge;
  });
  const updates: Update[] = removedRefs.map((r) => ({ action: "remove-snapshot-ref", "ref-name": r }));
  if (expired.length) updates.push({ action: "remove-snapshots", "snapshot-ids": expired.map((s) => s["snapshot-id"]) });
  const gone = new Set(expired.map((s) => s["snapshot-id"]));
  const main = m.refs[MAIN_BRANCH];
  return {
    commit: updates.length
      ? { requirements: [{ type: "assert-table-uuid", uuid: m["table-uuid"] }, { type: "assert-ref-snapshot-id", ref: MAIN_BRANCH, "snapshot-id": main ? main["snapshot-id"] : null }], updates }
      : null,
    expired,
    kept: m.snapshots.filter((s) => !gone.has(s["snapshot-id"])),
    removedRefs,
  };
}

/** Every snapshot on the line of one of `heads` (the heads included). */
function ancestorsOf(heads: Iterable<bigint>, byId: Map<bigint, Snapshot>): Set<bigint> {
  const out = new Set<bigint>();
  for (const id of heads) {
    let x = byId.get(id);
    while (x && !out.has(x["snapshot-id"])) {
      out.add(x["snapshot-id"]);
      x = x["parent-snapshot-id"] === undefined ? undefined : byId.get(x["parent-snapshot-id"]);
    }
  }
  return out;
}
