import type { TableCommit } from "../commit.js";
import type { SortOrder } from "../metadata.js";
import type { PartitionSpec, Schema } from "../types.js";

/**
 * The commit that creates a table, as a REST catalog's staged create commits it: `assert-create`
 * and the updates that give the new table its uuid, format, schema, spec, sort order, location and
 * properties (applied to no table by `applyUpdates`).
 *
 * @example
 * await commitTable(store, loc, createTable({ location: loc.uri, schema, spec }), { now: Date.now(), base: null });
 */
export function createTable(opts: { uuid?: string; location: string; schema: Schema; spec: PartitionSpec; properties?: Record<string, string>; sortOrder?: SortOrder }): TableCommit {
  return {
    requirements: [{ type: "assert-create" }],
    updates: [
      { action: "assign-uuid", uuid: opts.uuid ?? crypto.randomUUID() },
      { action: "upgrade-format-version", "format-version": 2 },
      { action: "add-schema", schema: opts.schema },
      { action: "set-current-schema", "schema-id": -1 },
      { action: "add-spec", spec: opts.spec },
      { action: "set-default-spec", "spec-id": -1 },
      { action: "add-sort-order", "sort-order": opts.sortOrder ?? { "order-id": 0, fields: [] } },
      { action: "set-default-sort-order", "sort-order-id": -1 },
      { action: "set-location", location: opts.location },
      { action: "set-properties", updates: { ...(opts.properties ?? {}) } },
    ],
  };
}
