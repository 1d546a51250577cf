import { describe, expect, it } from "vitest";
import { applyUpdates } from "../../../src/iceberg/commit.js";
import type { Snapshot, TableMetadata } from "../../../src/iceberg/metadata.js";
import { createTable } from "../../../src/iceberg/transaction/create-table.js";
import { planExpiry, retentionPolicy } from "../../../src/iceberg/transaction/expire-snapshots.js";

// The spec's "Snapshot Retention Policy" cases, plus Floe's count cap.

const HOUR = 3_600_000;
const NOW = 1_000 * HOUR;

/** Main with snapshots 1..n, one an hour, the newest at NOW. */
function table(n: number, props: Record<string, string> = {}): TableMetadata {
  let m = applyUpdates(null, createTable({ uuid: "u", location: "s3://l/t", schema: { type: "struct", "schema-id": 0, fields: [] }, spec: { "spec-id": 0, fields: [] }, properties: props }).updates, { now: 0 });
  for (let i = 1; i <= n; i++) {
    const s: Snapshot = { "snapshot-id": BigInt(i), "sequence-number": i, "timestamp-ms": NOW - (n - i) * HOUR, "manifest-list": `s3://l/t/metadata/snap-${i}.avro`, summary: { operation: "append" } };
    if (i > 1) s["parent-snapshot-id"] = BigInt(i - 1);
    m = applyUpdates(m, [{ action: "add-snapshot", snapshot: s }, { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": BigInt(i) }], { now: s["timestamp-ms"] });
  }
  return m;
}

const ids = (ss: Snapshot[]) => ss.map((s) => Number(s["snapshot-id"]));

describe("planExpiry", () => {
  it("by default keeps snapshots younger than 5 days (Iceberg's default age) and at least one", () => {
    const m = table(200, { "floe.history.max-snapshots": "1000" });
    const p = planExpiry(m, NOW);
    // Ages 0..199 hours: 120 hours is the limit, inclusive.
    expect(ids(p.kept)).toEqual(Array.from({ length: 121 }, (_, i) => 80 + i));
    expect(p.commit!.updates).toEqual([{ action: "remove-snapshots", "snapshot-ids": Array.from({ length: 79 }, (_, i) => BigInt(i + 1)) }]);
    expect(p.commit!.requirements).toContainEqual({ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 200n });
  });

  it("keeps min-snapshots-to-keep however old they are", () => {
    const m = table(10, { "history.expire.max-snapshot-age-ms": "0", "history.expire.min-snapshots-to-keep": "3" });
    expect(ids(planExpiry(m, NOW + 10 * HOUR).kept)).toEqual([8, 9, 10]);
  });

  it("caps a branch at floe.history.max-snapshots (default 100) whatever their age", () => {
    expect(retentionPolicy({}).maxSnapshots).toBe(100);
    const m = table(30, { "floe.history.max-snapshots": "7" });
    expect(ids(planExpiry(m, NOW).kept)).toEqual([24, 25, 26, 27, 28, 29, 30]);
  });

  it("olderThanMs replaces the age; nothing to expire is no commit", () => {
    const m = table(5);
    expect(planExpiry(m, NOW).commit).toBeNull();
    expect(ids(planExpiry(m, NOW, { olderThanMs: 2 * HOUR }).kept)).toEqual([3, 4, 5]);
  });

  it("keeps a tagged snapshot, and the ancestors a branch's own retention keeps", () => {
    let m = table(10, { "history.expire.max-snapshot-age-ms": "0" });
    m = applyUpdates(m, [
      { action: "set-snapshot-ref", "ref-name": "release", type: "tag", "snapshot-id": 2n },
      { action: "set-snapshot-ref", "ref-name": "audit", type: "branch", "snapshot-id": 6n, "min-snapshots-to-keep": 2 },
    ], { now: NOW });
    expect(ids(planExpiry(m, NOW).kept)).toEqual([2, 5, 6, 10]);
  });

  it("removes a ref older than its max-ref-age (never main), then expires what only it kept", () => {
    let m = table(10, { "history.expire.max-snapshot-age-ms": "0" });
    m = applyUpdates(m, [{ action: "set-snapshot-ref", "ref-name": "old", type: "tag", "snapshot-id": 3n, "max-ref-age-ms": HOUR }], { now: NOW });
    const p = planExpiry(m, NOW);
    expect(p.removedRefs).toEqual(["old"]);
    expect(p.commit!.updates[0]).toEqual({ action: "remove-snapshot-ref", "ref-name": "old" });
    expect(ids(p.kept)).toEqual([10]);
    const after = applyUpdates(m, p.commit!.updates, { now: NOW });
    expect(Object.keys(after.refs)).toEqual(["main"]);
    expect(ids(after.snapshots)).toEqual([10]);
  });

  it("expires a snapshot on no ref's line once it is older than the max age, not before", () => {
    let m = table(3);
    const orphan: Snapshot = { "snapshot-id": 99n, "sequence-number": 4, "timestamp-ms": NOW - HOUR, "manifest-list": "s3://l/t/metadata/snap-99.avro", summary: { operation: "append" } };
    m = applyUpdates(m, [{ action: "add-snapshot", snapshot: orphan }], { now: NOW });
    expect(ids(planExpiry(m, NOW).kept)).toContain(99);
    expect(ids(planExpiry(m, NOW + 200 * HOUR).expired)).toContain(99);
  });

  it("never expires what protect names", () => {
    const m = table(10, { "history.expire.max-snapshot-age-ms": "0" });
    expect(ids(planExpiry(m, NOW, { protect: (s) => s["snapshot-id"] === 4n }).kept)).toEqual([4, 10]);
  });
});
