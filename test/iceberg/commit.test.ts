import { describe, expect, it } from "vitest";
import { applyUpdates, checkRequirements, type Requirement, type Update } from "../../src/iceberg/commit.js";
import type { Snapshot, TableMetadata } from "../../src/iceberg/metadata.js";
import { createTable } from "../../src/iceberg/transaction/create-table.js";
import { updateProperties } from "../../src/iceberg/transaction/update-properties.js";
import { updateSchema } from "../../src/iceberg/transaction/update-schema.js";
import { updateSpec } from "../../src/iceberg/transaction/update-spec.js";
import type { Schema } from "../../src/iceberg/types.js";

// The REST spec's requirements and updates (open-api/rest-catalog-open-api.yaml, TableRequirement
// and TableUpdate), checked and applied by the pure functions every kind of table change goes through.

const schema: Schema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", required: false, type: "long" }] };
const created = (props: Record<string, string> = {}) =>
  applyUpdates(null, createTable({ uuid: "u-1", location: "s3://lake/t", schema, spec: { "spec-id": 0, fields: [] }, properties: props }).updates, { now: 1000 });

function snapshot(id: bigint, seq: number, parent?: bigint, ts = 1000 + seq): Snapshot {
  const s: Snapshot = { "snapshot-id": id, "sequence-number": seq, "timestamp-ms": ts, "manifest-list": `s3://lake/t/metadata/snap-${id}.avro`, summary: { operation: "append" } };
  if (parent !== undefined) s["parent-snapshot-id"] = parent;
  return s;
}

/** A table with a main branch of `n` snapshots, ids 1..n. */
function withSnapshots(n: number): TableMetadata {
  let m = created();
  for (let i = 1; i <= n; i++) {
    m = applyUpdates(m, [{ action: "add-snapshot", snapshot: snapshot(BigInt(i), i, i > 1 ? BigInt(i - 1) : undefined) }, { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": BigInt(i) }], { now: 2000 + i });
  }
  return m;
}

describe("createTable", () => {
  it("creates a v2 table from nothing through the REST spec's updates", () => {
    const m = created({ owner: "floe" });
    expect(m).toMatchObject({ "format-version": 2, "table-uuid": "u-1", location: "s3://lake/t", "current-schema-id": 0, "default-spec-id": 0, "last-partition-id": 999, "default-sort-order-id": 0, "last-column-id": 1, properties: { owner: "floe" } });
    expect(m.snapshots).toEqual([]);
    expect(m["current-snapshot-id"]).toBe(-1n);
  });

  it("refuses a create whose updates leave out what a reader needs", () => {
    expect(() => applyUpdates(null, [{ action: "assign-uuid", uuid: "x" }], { now: 1 })).toThrow(/a new table needs set-location, add-schema \+ set-current-schema, add-spec \+ set-default-spec, add-sort-order \+ set-default-sort-order/);
    expect(() => applyUpdates(null, [{ action: "upgrade-format-version", "format-version": 3 }], { now: 1 })).toThrow(/only format version 2/);
  });
});

describe("checkRequirements", () => {
  const m = withSnapshots(2);
  const cases: [Requirement, boolean][] = [
    [{ type: "assert-create" }, false],
    [{ type: "assert-table-uuid", uuid: "u-1" }, true],
    [{ type: "assert-table-uuid", uuid: "other" }, false],
    [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 2n }, true],
    [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 1n }, false],
    [{ type: "assert-ref-snapshot-id", ref: "audit", "snapshot-id": null }, true],
    [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": null }, false],
    [{ type: "assert-last-assigned-field-id", "last-assigned-field-id": 1 }, true],
    [{ type: "assert-last-assigned-field-id", "last-assigned-field-id": 2 }, false],
    [{ type: "assert-current-schema-id", "current-schema-id": 0 }, true],
    [{ type: "assert-current-schema-id", "current-schema-id": 1 }, false],
    [{ type: "assert-last-assigned-partition-id", "last-assigned-partition-id": 999 }, true],
    [{ type: "assert-last-assigned-partition-id", "last-assigned-partition-id": 1000 }, false],
    [{ type: "assert-default-spec-id", "default-spec-id": 0 }, true],
    [{ type: "assert-default-spec-id", "default-spec-id": 1 }, false],
    [{ type: "assert-default-sort-order-id", "default-sort-order-id": 0 }, true],
    [{ type: "assert-default-sort-order-id", "default-sort-order-id": 1 }, false],
  ];
  it.each(cases.map(([r, holds], i) => ({ name: `${r.type} (case ${i}) ${holds ? "holds" : "fails"}`, r, holds })))("$name", ({ r, holds }) => {
    if (holds) expect(() => checkRequirements(m, [r])).not.toThrow();
    else expect(() => checkRequirements(m, [r])).toThrow(expect.objectContaining({ code: "commit_conflict", retryable: true }));
  });

  it("on a missing table only assert-create holds", () => {
    expect(() => checkRequirements(null, [{ type: "assert-create" }])).not.toThrow();
    expect(() => checkRequirements(null, [{ type: "assert-table-uuid", uuid: "u-1" }])).toThrow(/the table does not exist/);
  });

  it("refuses unknown requirement and update kinds instead of ignoring them (400, not applied)", () => {
    expect(() => checkRequirements(m, [{ type: "assert-everything" } as unknown as Requirement])).toThrow(expect.objectContaining({ code: "invalid_input", message: 'unknown requirement type "assert-everything"' }));
    expect(() => applyUpdates(m, [{ action: "set-statistics" } as unknown as Update], { now: 1 })).toThrow(expect.objectContaining({ code: "invalid_input", message: 'unknown update action "set-statistics"' }));
  });
});

describe("applyUpdates", () => {
  it("remove-snapshots drops the snapshots, the refs to them, and the snapshot log up to the last removed one", () => {
    let m = withSnapshots(5);
    m = applyUpdates(m, [{ action: "set-snapshot-ref", "ref-name": "v1", type: "tag", "snapshot-id": 2n }], { now: 3000 });
    const after = applyUpdates(m, [{ action: "remove-snapshots", "snapshot-ids": [1n, 2n, 3n] }], { now: 3001 });
    expect(after.snapshots.map((s) => s["snapshot-id"])).toEqual([4n, 5n]);
    expect(Object.keys(after.refs)).toEqual(["main"]);
    expect(after["snapshot-log"].map((e) => e["snapshot-id"])).toEqual([4n, 5n]);
    expect(after["current-snapshot-id"]).toBe(5n);
  });

  it("remove-snapshot-ref removes a ref; removing main leaves no current snapshot", () => {
    let m = applyUpdates(withSnapshots(2), [{ action: "set-snapshot-ref", "ref-name": "b", type: "branch", "snapshot-id": 1n, "max-ref-age-ms": 5 }], { now: 3000 });
    expect(m.refs.b).toEqual({ "snapshot-id": 1n, type: "branch", "max-ref-age-ms": 5 });
    m = applyUpdates(m, [{ action: "remove-snapshot-ref", "ref-name": "b" }], { now: 3001 });
    expect(Object.keys(m.refs)).toEqual(["main"]);
    m = applyUpdates(m, [{ action: "remove-snapshot-ref", "ref-name": "main" }], { now: 3002 });
    expect(m["current-snapshot-id"]).toBe(-1n);
  });

  it("keeps the metadata log to write.metadata.previous-versions-max entries, newest last", () => {
    let m = created({ "write.metadata.previous-versions-max": "3" });
    for (let v = 1; v <= 6; v++) m = applyUpdates(m, [{ action: "set-properties", updates: { v: String(v) } }], { now: 5000 + v, previousFile: `s3://lake/t/metadata/v${v}.metadata.json` });
    expect(m["metadata-log"].map((e) => e["metadata-file"])).toEqual([4, 5, 6].map((v) => `s3://lake/t/metadata/v${v}.metadata.json`));
    expect(m["metadata-log"].map((e) => e["timestamp-ms"])).toEqual([5003, 5004, 5005]);
  });

  it("does not log a ref that did not move, and refuses a snapshot that does not come after the last", () => {
    const m = withSnapshots(1);
    const same = applyUpdates(m, [{ action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": 1n }], { now: 9 });
    expect(same["snapshot-log"]).toHaveLength(1);
    expect(() => applyUpdates(m, [{ action: "add-snapshot", snapshot: snapshot(9n, 1) }], { now: 9 })).toThrow(/sequence number 1 is not after 1/);
  });
});

describe("schema, spec and property changes", () => {
  it("updateSchema adds a schema and makes it current, asserting the one it evolved from; nothing when unchanged", () => {
    const m = created();
    expect(updateSchema(m, schema)).toBeNull();
    const next = { type: "struct" as const, fields: [...schema.fields, { id: 2, name: "name", required: false, type: "string" as const }] };
    const c = updateSchema(m, next)!;
    expect(c.requirements).toContainEqual({ type: "assert-current-schema-id", "current-schema-id": 0 });
    const after = applyUpdates(m, c.updates, { now: 2 });
    expect(after["current-schema-id"]).toBe(1);
    expect(after["last-column-id"]).toBe(2);
    // A second writer that evolved from schema 0 too is refused.
    expect(() => checkRequirements(after, c.requirements)).toThrow(/assert-current-schema-id/);
  });

  it("updateSpec adds a partition spec as the default; updateProperties sets and removes", () => {
    const m = created({ a: "1", b: "2" });
    const spec = applyUpdates(m, updateSpec(m, { fields: [{ "source-id": 1, "field-id": 0, name: "id_bucket", transform: "bucket[4]" }] })!.updates, { now: 2 });
    expect(spec["default-spec-id"]).toBe(1);
    expect(spec["last-partition-id"]).toBe(1000);
    expect(spec["partition-specs"]).toHaveLength(2);
    expect(updateProperties(m, { a: "1" })).toBeNull();
    const p = applyUpdates(m, updateProperties(m, { a: "9" }, ["b", "missing"])!.updates, { now: 2 });
    expect(p.properties).toEqual({ a: "9" });
  });
});
