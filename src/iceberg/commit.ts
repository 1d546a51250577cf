import { FloeError } from "../errors.js";
import { MAIN_BRANCH, NO_SNAPSHOT, type Snapshot, type SnapshotRef, type SortOrder, type TableMetadata } from "./metadata.js";
import { maxFieldId, validateSchema } from "./schema.js";
import type { PartitionSpec, Schema } from "./types.js";

/** Requirements, named and shaped as in the Iceberg REST catalog spec (`TableRequirement`). */
export type Requirement =
  | { type: "assert-create" }
  | { type: "assert-table-uuid"; uuid: string }
  | { type: "assert-ref-snapshot-id"; ref: string; "snapshot-id": bigint | null }
  | { type: "assert-last-assigned-field-id"; "last-assigned-field-id": number }
  | { type: "assert-current-schema-id"; "current-schema-id": number }
  | { type: "assert-last-assigned-partition-id"; "last-assigned-partition-id": number }
  | { type: "assert-default-spec-id"; "default-spec-id": number };

/** Updates, named and shaped as in the Iceberg REST catalog spec (`TableUpdate`). */
export type Update =
  | { action: "add-schema"; schema: Schema; "last-column-id"?: number }
  | { action: "set-current-schema"; "schema-id": number }
  | { action: "add-spec"; spec: PartitionSpec }
  | { action: "set-default-spec"; "spec-id": number }
  | { action: "add-sort-order"; "sort-order": SortOrder }
  | { action: "set-default-sort-order"; "sort-order-id": number }
  | { action: "add-snapshot"; snapshot: Snapshot }
  | { action: "set-snapshot-ref"; "ref-name": string; type: "branch" | "tag"; "snapshot-id": bigint }
  | { action: "set-properties"; updates: Record<string, string> }
  | { action: "remove-properties"; removals: string[] }
  | { action: "set-location"; location: string };

/** A change to a table: data, checked and applied by the pure functions below. */
export interface TableCommit {
  requirements: Requirement[];
  updates: Update[];
}

/**
 * Checks every requirement against the table as it is now (`null`: the table does not exist).
 * A failed requirement means someone else changed the table first: a retryable `commit_conflict`,
 * so the caller re-reads the table and plans again.
 */
export function checkRequirements(base: TableMetadata | null, requirements: readonly Requirement[]): void {
  for (const r of requirements) {
    if (r.type === "assert-create") {
      if (base) throw conflict("assert-create: the table already exists");
      continue;
    }
    if (!base) throw conflict(`${r.type}: the table does not exist`);
    switch (r.type) {
      case "assert-table-uuid":
        if (base["table-uuid"] !== r.uuid) throw conflict(`assert-table-uuid: expected ${r.uuid}, found ${base["table-uuid"]}`);
        break;
      case "assert-ref-snapshot-id": {
        const ref = base.refs[r.ref];
        const actual = ref ? ref["snapshot-id"] : null;
        if (actual !== r["snapshot-id"]) throw conflict(`assert-ref-snapshot-id: ref "${r.ref}" expected at ${r["snapshot-id"] ?? "none"}, found ${actual ?? "none"}`);
        break;
      }
      case "assert-last-assigned-field-id":
        if (base["last-column-id"] !== r["last-assigned-field-id"]) throw conflict(`assert-last-assigned-field-id: expected ${r["last-assigned-field-id"]}, found ${base["last-column-id"]}`);
        break;
      case "assert-current-schema-id":
        if (base["current-schema-id"] !== r["current-schema-id"]) throw conflict(`assert-current-schema-id: expected ${r["current-schema-id"]}, found ${base["current-schema-id"]}`);
        break;
      case "assert-last-assigned-partition-id":
        if (base["last-partition-id"] !== r["last-assigned-partition-id"]) throw conflict(`assert-last-assigned-partition-id: expected ${r["last-assigned-partition-id"]}, found ${base["last-partition-id"]}`);
        break;
      case "assert-default-spec-id":
        if (base["default-spec-id"] !== r["default-spec-id"]) throw conflict(`assert-default-spec-id: expected ${r["default-spec-id"]}, found ${base["default-spec-id"]}`);
        break;
    }
  }
}

/**
 * Applies updates in order and returns the new metadata; `base` is not modified. `now` stamps
 * `last-updated-ms`; `previousFile` (the metadata file `base` was read from) goes into the
 * metadata log, as the spec asks of every new metadata file.
 */
export function applyUpdates(base: TableMetadata, updates: readonly Update[], opts: { now: number; previousFile?: string }): TableMetadata {
  const m: TableMetadata = structuredClone(base);
  let lastAddedSchemaId: number | undefined;
  let lastAddedSpecId: number | undefined;
  for (const u of updates) {
    switch (u.action) {
      case "add-schema": {
        validateSchema(u.schema);
        if (m.schemas.some((s) => s["schema-id"] === u.schema["schema-id"])) throw invalid(`add-schema: schema id ${u.schema["schema-id"]} already exists`);
        m.schemas.push(u.schema);
        m["last-column-id"] = Math.max(m["last-column-id"], u["last-column-id"] ?? 0, maxFieldId(u.schema));
        lastAddedSchemaId = u.schema["schema-id"];
        break;
      }
      case "set-current-schema": {
        // -1 means "the schema added last in this commit" (REST spec).
        const id = u["schema-id"] === -1 ? lastAddedSchemaId : u["schema-id"];
        if (id === undefined || !m.schemas.some((s) => s["schema-id"] === id)) throw invalid(`set-current-schema: unknown schema id ${u["schema-id"]}`);
        m["current-schema-id"] = id;
        break;
      }
      case "add-spec": {
        if (m["partition-specs"].some((s) => s["spec-id"] === u.spec["spec-id"])) throw invalid(`add-spec: spec id ${u.spec["spec-id"]} already exists`);
        m["partition-specs"].push(u.spec);
        m["last-partition-id"] = Math.max(m["last-partition-id"], ...u.spec.fields.map((f) => f["field-id"]));
        lastAddedSpecId = u.spec["spec-id"];
        break;
      }
      case "set-default-spec": {
        const id = u["spec-id"] === -1 ? lastAddedSpecId : u["spec-id"];
        if (id === undefined || !m["partition-specs"].some((s) => s["spec-id"] === id)) throw invalid(`set-default-spec: unknown spec id ${u["spec-id"]}`);
        m["default-spec-id"] = id;
        break;
      }
      case "add-sort-order":
        m["sort-orders"].push(u["sort-order"]);
        break;
      case "set-default-sort-order":
        if (!m["sort-orders"].some((o) => o["order-id"] === u["sort-order-id"])) throw invalid(`set-default-sort-order: unknown order ${u["sort-order-id"]}`);
        m["default-sort-order-id"] = u["sort-order-id"];
        break;
      case "add-snapshot": {
        const s = u.snapshot;
        if (m.snapshots.some((x) => x["snapshot-id"] === s["snapshot-id"])) throw conflict(`add-snapshot: snapshot ${s["snapshot-id"]} already exists`);
        // Spec (v2): a new snapshot's sequence number is greater than the table's last one.
        if (s["sequence-number"] <= m["last-sequence-number"]) throw conflict(`add-snapshot: sequence number ${s["sequence-number"]} is not after ${m["last-sequence-number"]}`);
        m.snapshots.push(s);
        m["last-sequence-number"] = s["sequence-number"];
        break;
      }
      case "set-snapshot-ref": {
        if (!m.snapshots.some((x) => x["snapshot-id"] === u["snapshot-id"])) throw invalid(`set-snapshot-ref: unknown snapshot ${u["snapshot-id"]}`);
        const ref: SnapshotRef = { "snapshot-id": u["snapshot-id"], type: u.type };
        m.refs[u["ref-name"]] = ref;
        if (u["ref-name"] === MAIN_BRANCH) {
          m["current-snapshot-id"] = u["snapshot-id"];
          const snap = m.snapshots.find((x) => x["snapshot-id"] === u["snapshot-id"])!;
          m["snapshot-log"].push({ "snapshot-id": u["snapshot-id"], "timestamp-ms": snap["timestamp-ms"] });
        }
        break;
      }
      case "set-properties":
        Object.assign(m.properties, u.updates);
        break;
      case "remove-properties":
        for (const k of u.removals) delete m.properties[k];
        break;
      case "set-location":
        m.location = u.location;
        break;
    }
  }
  if (opts.previousFile) m["metadata-log"].push({ "metadata-file": opts.previousFile, "timestamp-ms": base["last-updated-ms"] });
  m["last-updated-ms"] = Math.max(opts.now, base["last-updated-ms"]);
  return m;
}

/** Metadata of a new, empty table. */
export function newTableMetadata(opts: { tableUuid: string; location: string; schema: Schema; spec: PartitionSpec; properties?: Record<string, string>; now: number }): TableMetadata {
  validateSchema(opts.schema);
  return {
    "format-version": 2,
    "table-uuid": opts.tableUuid,
    location: opts.location,
    "last-sequence-number": 0,
    "last-updated-ms": opts.now,
    "last-column-id": maxFieldId(opts.schema),
    schemas: [opts.schema],
    "current-schema-id": opts.schema["schema-id"],
    "partition-specs": [opts.spec],
    "default-spec-id": opts.spec["spec-id"],
    // Spec: partition field ids start at 1000, so an unpartitioned table's last id is 999.
    "last-partition-id": Math.max(999, ...opts.spec.fields.map((f) => f["field-id"])),
    properties: { ...(opts.properties ?? {}) },
    "current-snapshot-id": NO_SNAPSHOT,
    snapshots: [],
    "snapshot-log": [],
    "metadata-log": [],
    "sort-orders": [{ "order-id": 0, fields: [] }],
    "default-sort-order-id": 0,
    refs: {},
  };
}

function conflict(message: string): FloeError {
  return new FloeError("commit_conflict", `commit conflict: ${message}`, { retryable: true });
}

function invalid(message: string): FloeError {
  return new FloeError("invalid_input", message);
}
