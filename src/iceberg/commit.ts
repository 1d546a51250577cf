import { FloeError } from "../errors.js";
import { numberProperty } from "./properties.js";
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
  | { type: "assert-default-spec-id"; "default-spec-id": number }
  | { type: "assert-default-sort-order-id"; "default-sort-order-id": number };

/** Updates, named and shaped as in the Iceberg REST catalog spec (`TableUpdate`). */
export type Update =
  | { action: "assign-uuid"; uuid: string }
  | { action: "upgrade-format-version"; "format-version": number }
  | { action: "add-schema"; schema: Schema; "last-column-id"?: number }
  | { action: "set-current-schema"; "schema-id": number }
  | { action: "add-spec"; spec: PartitionSpec }
  | { action: "set-default-spec"; "spec-id": number }
  | { action: "add-sort-order"; "sort-order": SortOrder }
  | { action: "set-default-sort-order"; "sort-order-id": number }
  | { action: "add-snapshot"; snapshot: Snapshot }
  | ({ action: "set-snapshot-ref"; "ref-name": string; type: "branch" | "tag"; "snapshot-id": bigint } & RefRetention)
  | { action: "remove-snapshots"; "snapshot-ids": bigint[] }
  | { action: "remove-snapshot-ref"; "ref-name": string }
  | { action: "set-properties"; updates: Record<string, string> }
  | { action: "remove-properties"; removals: string[] }
  | { action: "set-location"; location: string };

/** Per-ref retention (spec "Snapshot Retention Policy"), optional on `set-snapshot-ref`. */
export interface RefRetention {
  "min-snapshots-to-keep"?: number;
  "max-snapshot-age-ms"?: number;
  "max-ref-age-ms"?: number;
}

/** A change to a table: data, checked and applied by the pure functions below. */
export interface TableCommit {
  requirements: Requirement[];
  updates: Update[];
}

const REQUIREMENTS = new Set(["assert-create", "assert-table-uuid", "assert-ref-snapshot-id", "assert-last-assigned-field-id", "assert-current-schema-id", "assert-last-assigned-partition-id", "assert-default-spec-id", "assert-default-sort-order-id"]);
const UPDATES = new Set(["assign-uuid", "upgrade-format-version", "add-schema", "set-current-schema", "add-spec", "set-default-spec", "add-sort-order", "set-default-sort-order", "add-snapshot", "set-snapshot-ref", "remove-snapshots", "remove-snapshot-ref", "set-properties", "remove-properties", "set-location"]);

/**
 * Refuses a commit that names a requirement or update this core does not implement (the REST spec
 * asks a catalog to reject what it does not understand rather than apply part of a change).
 */
export function validateCommit(commit: { requirements: readonly { type?: unknown }[]; updates: readonly { action?: unknown }[] }): void {
  for (const r of commit.requirements) if (!REQUIREMENTS.has(String(r.type))) throw invalid(`unknown requirement type ${JSON.stringify(r.type)}`);
  for (const u of commit.updates) if (!UPDATES.has(String(u.action))) throw invalid(`unknown update action ${JSON.stringify(u.action)}`);
}

/** `write.metadata.previous-versions-max` (Iceberg's default 100): metadata-log entries kept. */
export const PREVIOUS_VERSIONS_MAX = 100;

/**
 * Checks every requirement against the table as it is now (`null`: the table does not exist).
 * A failed requirement means someone else changed the table first: a retryable `commit_conflict`,
 * so the caller re-reads the table and plans again.
 */
export function checkRequirements(base: TableMetadata | null, requirements: readonly Requirement[]): void {
  validateCommit({ requirements, updates: [] });
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
      case "assert-default-sort-order-id":
        if (base["default-sort-order-id"] !== r["default-sort-order-id"]) throw conflict(`assert-default-sort-order-id: expected ${r["default-sort-order-id"]}, found ${base["default-sort-order-id"]}`);
        break;
    }
  }
}

/** What a table is before its creating commit's updates: every field empty, to be set by them. */
function blankMetadata(now: number): TableMetadata {
  return {
    "format-version": 2,
    "table-uuid": "",
    location: "",
    "last-sequence-number": 0,
    "last-updated-ms": now,
    "last-column-id": 0,
    schemas: [],
    "current-schema-id": -1,
    "partition-specs": [],
    "default-spec-id": -1,
    // Spec: partition field ids start at 1000, so an unpartitioned table's last id is 999.
    "last-partition-id": 999,
    properties: {},
    "current-snapshot-id": NO_SNAPSHOT,
    snapshots: [],
    "snapshot-log": [],
    "metadata-log": [],
    "sort-orders": [],
    "default-sort-order-id": -1,
    refs: {},
  };
}

/**
 * Applies updates in order and returns the new metadata; `base` is not modified. A `null` base is
 * a table being created: the updates must give it a uuid, location, schema, spec and sort order
 * (as a REST create or a staged create's `assert-create` commit does). `now` stamps
 * `last-updated-ms`; `previousFile` (the metadata file `base` was read from) goes into the metadata
 * log, which keeps the newest `write.metadata.previous-versions-max` entries (default 100).
 */
export function applyUpdates(base: TableMetadata | null, updates: readonly Update[], opts: { now: number; previousFile?: string }): TableMetadata {
  validateCommit({ requirements: [], updates });
  const m: TableMetadata = base ? structuredClone(base) : blankMetadata(opts.now);
  let lastAddedSchemaId: number | undefined;
  let lastAddedSpecId: number | undefined;
  let lastAddedOrderId: number | undefined;
  for (const u of updates) {
    switch (u.action) {
      case "assign-uuid":
        if (base && base["table-uuid"] !== u.uuid) throw invalid(`assign-uuid: the table already has uuid ${base["table-uuid"]}`);
        m["table-uuid"] = u.uuid;
        break;
      case "upgrade-format-version":
        if (u["format-version"] !== 2) throw invalid(`upgrade-format-version: only format version 2 is supported, not ${u["format-version"]}`);
        break;
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
        if (m["sort-orders"].some((o) => o["order-id"] === u["sort-order"]["order-id"])) throw invalid(`add-sort-order: order id ${u["sort-order"]["order-id"]} already exists`);
        m["sort-orders"].push(u["sort-order"]);
        lastAddedOrderId = u["sort-order"]["order-id"];
        break;
      case "set-default-sort-order": {
        const id = u["sort-order-id"] === -1 ? lastAddedOrderId : u["sort-order-id"];
        if (id === undefined || !m["sort-orders"].some((o) => o["order-id"] === id)) throw invalid(`set-default-sort-order: unknown order ${u["sort-order-id"]}`);
        m["default-sort-order-id"] = id;
        break;
      }
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
        const snap = m.snapshots.find((x) => x["snapshot-id"] === u["snapshot-id"]);
        if (!snap) throw invalid(`set-snapshot-ref: unknown snapshot ${u["snapshot-id"]}`);
        const ref: SnapshotRef = { "snapshot-id": u["snapshot-id"], type: u.type };
        for (const k of ["min-snapshots-to-keep", "max-snapshot-age-ms", "max-ref-age-ms"] as const) if (u[k] !== undefined) ref[k] = u[k];
        const changed = m.refs[u["ref-name"]]?.["snapshot-id"] !== u["snapshot-id"];
        m.refs[u["ref-name"]] = ref;
        if (u["ref-name"] === MAIN_BRANCH) {
          m["current-snapshot-id"] = u["snapshot-id"];
          if (changed) m["snapshot-log"].push({ "snapshot-id": u["snapshot-id"], "timestamp-ms": snap["timestamp-ms"] });
        }
        break;
      }
      case "remove-snapshots":
        removeSnapshots(m, new Set(u["snapshot-ids"]));
        break;
      case "remove-snapshot-ref":
        delete m.refs[u["ref-name"]];
        if (u["ref-name"] === MAIN_BRANCH) m["current-snapshot-id"] = NO_SNAPSHOT;
        break;
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
  if (!base) checkComplete(m);
  if (opts.previousFile) {
    m["metadata-log"].push({ "metadata-file": opts.previousFile, "timestamp-ms": base!["last-updated-ms"] });
    const max = previousVersionsMax(m);
    if (m["metadata-log"].length > max) m["metadata-log"] = m["metadata-log"].slice(-max);
  }
  m["last-updated-ms"] = Math.max(opts.now, base?.["last-updated-ms"] ?? 0);
  return m;
}

/** The table property `write.metadata.previous-versions-max`, at least 1. */
export function previousVersionsMax(m: TableMetadata): number {
  return numberProperty(m.properties, "write.metadata.previous-versions-max", PREVIOUS_VERSIONS_MAX, { min: 1, integer: true });
}

/**
 * Removes snapshots, as Java's `TableMetadata.Builder.removeSnapshots` does: refs that point at a
 * removed snapshot go too (main's removal leaves the table without a current snapshot), and the
 * snapshot log keeps only the entries after the last one whose snapshot is gone, so the history it
 * shows stays contiguous.
 */
function removeSnapshots(m: TableMetadata, ids: ReadonlySet<bigint>): void {
  m.snapshots = m.snapshots.filter((s) => !ids.has(s["snapshot-id"]));
  for (const [name, ref] of Object.entries(m.refs)) {
    if (!ids.has(ref["snapshot-id"])) continue;
    delete m.refs[name];
    if (name === MAIN_BRANCH) m["current-snapshot-id"] = NO_SNAPSHOT;
  }
  const live = new Set(m.snapshots.map((s) => s["snapshot-id"]));
  let cut = -1;
  m["snapshot-log"].forEach((e, i) => {
    if (!live.has(e["snapshot-id"])) cut = i;
  });
  m["snapshot-log"] = m["snapshot-log"].slice(cut + 1);
}

/** A created table must have been given every field a reader needs. */
function checkComplete(m: TableMetadata): void {
  const missing: string[] = [];
  if (!m["table-uuid"]) missing.push("assign-uuid");
  if (!m.location) missing.push("set-location");
  if (m["current-schema-id"] < 0) missing.push("add-schema + set-current-schema");
  if (m["default-spec-id"] < 0) missing.push("add-spec + set-default-spec");
  if (m["default-sort-order-id"] < 0) missing.push("add-sort-order + set-default-sort-order");
  if (missing.length) throw invalid(`a new table needs ${missing.join(", ")}`);
}

function conflict(message: string): FloeError {
  return new FloeError("commit_conflict", `commit conflict: ${message}`, { retryable: true });
}

function invalid(message: string): FloeError {
  return new FloeError("invalid_input", message);
}
