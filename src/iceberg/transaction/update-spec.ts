import type { TableCommit } from "../commit.js";
import type { TableMetadata } from "../metadata.js";
import type { PartitionSpec } from "../types.js";

/**
 * The commit that adds a partition spec and makes it the default (spec "Partition Evolution": old
 * files keep the spec they were written with). The spec's id is assigned here; its field ids must
 * be new ones (above `last-partition-id`), except where a field carries over unchanged.
 */
export function updateSpec(m: TableMetadata, spec: Omit<PartitionSpec, "spec-id">): TableCommit {
  const id = Math.max(-1, ...m["partition-specs"].map((s) => s["spec-id"])) + 1;
  return {
    requirements: [
      { type: "assert-table-uuid", uuid: m["table-uuid"] },
      { type: "assert-default-spec-id", "default-spec-id": m["default-spec-id"] },
      { type: "assert-last-assigned-partition-id", "last-assigned-partition-id": m["last-partition-id"] },
    ],
    updates: [{ action: "add-spec", spec: { ...spec, "spec-id": id } }, { action: "set-default-spec", "spec-id": -1 }],
  };
}
