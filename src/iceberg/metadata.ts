import type { PartitionSpec, Schema } from "./types.js";

/** Spec "Snapshots". Snapshot ids are 64-bit: kept as bigint everywhere. */
export interface Snapshot {
  "snapshot-id": bigint;
  "parent-snapshot-id"?: bigint;
  "sequence-number": number;
  "timestamp-ms": number;
  "manifest-list": string;
  summary: { operation: "append" | "replace" | "overwrite" | "delete" } & Record<string, string>;
  "schema-id"?: number;
}

export interface SortOrder {
  "order-id": number;
  fields: { transform: string; "source-id": number; direction: "asc" | "desc"; "null-order": "nulls-first" | "nulls-last" }[];
}

export interface SnapshotRef {
  "snapshot-id": bigint;
  type: "branch" | "tag";
  /** Spec "Snapshot Retention Policy": per-ref overrides of the table's `history.expire.*`. */
  "min-snapshots-to-keep"?: number;
  "max-snapshot-age-ms"?: number;
  "max-ref-age-ms"?: number;
}

/** Format version 2 table metadata (spec "Table Metadata"), field for field as it is written to `metadata.json`. */
export interface TableMetadata {
  "format-version": 2;
  "table-uuid": string;
  location: string;
  "last-sequence-number": number;
  "last-updated-ms": number;
  "last-column-id": number;
  schemas: Schema[];
  "current-schema-id": number;
  "partition-specs": PartitionSpec[];
  "default-spec-id": number;
  "last-partition-id": number;
  properties: Record<string, string>;
  /** -1 when the table has no snapshot yet, as Iceberg's Java writer puts it. */
  "current-snapshot-id": bigint;
  snapshots: Snapshot[];
  "snapshot-log": { "snapshot-id": bigint; "timestamp-ms": number }[];
  "metadata-log": { "metadata-file": string; "timestamp-ms": number }[];
  "sort-orders": SortOrder[];
  "default-sort-order-id": number;
  refs: Record<string, SnapshotRef>;
}

export const MAIN_BRANCH = "main";
export const NO_SNAPSHOT = -1n;

/** The current schema. */
export function currentSchema(m: TableMetadata): Schema {
  const s = m.schemas.find((x) => x["schema-id"] === m["current-schema-id"]);
  if (!s) throw new Error(`metadata names current schema ${m["current-schema-id"]}, which it does not hold`);
  return s;
}

/** The default partition spec. */
export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m["partition-specs"].find((x) => x["spec-id"] === m["default-spec-id"]);
  if (!s) throw new Error(`metadata names default spec ${m["default-spec-id"]}, which it does not hold`);
  return s;
}

/** The current snapshot, or undefined for a table without one. */
export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  if (m["current-snapshot-id"] === NO_SNAPSHOT) return undefined;
  return m.snapshots.find((s) => s["snapshot-id"] === m["current-snapshot-id"]);
}

const BIGINT_KEYS = new Set(["snapshot-id", "parent-snapshot-id", "current-snapshot-id"]);

/**
 * `metadata.json` text, compact (a table's metadata is rewritten on every commit: indentation
 * would add about a third to every copy). Snapshot ids are written as JSON numbers with all 64
 * bits (not strings, which readers would refuse), so JSON.stringify alone cannot do it: bigints go
 * out through a placeholder that is unique to this call.
 */
export function serializeMetadata(m: TableMetadata): string {
  return stringifyExact(m);
}

/** JSON.stringify, with bigints written as exact JSON integers (commits sent to a REST catalog too). */
export function stringifyExact(v: unknown): string {
  const token = `\u0001big${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${token}${x}` : x));
  const escaped = JSON.stringify(token).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`"${escaped}(-?\\d+)"`, "g"), "$1");
}

/**
 * Parses `metadata.json`, keeping snapshot ids exact: JSON.parse's reviver sees each number's
 * source text, so ids above 2^53 (written by Java engines) survive as bigint.
 */
export function parseMetadata(text: string): TableMetadata {
  const m = JSON.parse(text, function (this: unknown, key: string, value: unknown, ctx?: { source?: string }) {
    if (BIGINT_KEYS.has(key) && typeof value === "number") return BigInt(ctx?.source ?? value);
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown) as Partial<TableMetadata> & Record<string, unknown>;
  return withDefaults(m);
}

/**
 * Fills what the spec lets a format 2 writer leave out (other engines do: icebird writes no
 * `snapshots`, `refs` or logs for a new table), so that the core always sees the whole shape.
 * A `current-snapshot-id` without `refs` means `main` points there (spec: "refs" default).
 */
function withDefaults(m: Partial<TableMetadata> & Record<string, unknown>): TableMetadata {
  const current = typeof m["current-snapshot-id"] === "bigint" ? m["current-snapshot-id"] : NO_SNAPSHOT;
  const refs = m.refs ?? (current !== NO_SNAPSHOT ? { [MAIN_BRANCH]: { "snapshot-id": current, type: "branch" as const } } : {});
  const specs = m["partition-specs"] ?? [];
  return {
    ...m,
    properties: m.properties ?? {},
    "current-snapshot-id": current,
    snapshots: m.snapshots ?? [],
    "snapshot-log": m["snapshot-log"] ?? [],
    "metadata-log": m["metadata-log"] ?? [],
    "sort-orders": m["sort-orders"] ?? [{ "order-id": 0, fields: [] }],
    "default-sort-order-id": m["default-sort-order-id"] ?? 0,
    "last-partition-id": m["last-partition-id"] ?? Math.max(999, ...specs.flatMap((s) => s.fields.map((f) => f["field-id"]))),
    refs,
  } as TableMetadata;
}
