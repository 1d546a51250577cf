import type { TableCommit } from "../commit.js";
import { defaultSpec, type TableMetadata } from "../metadata.js";
import type { PartitionField, PartitionSpec } from "../types.js";

/**
 * The commit that makes `spec` the table's partition spec (spec "Partition Evolution": old data
 * files keep the spec they were written with, and readers plan each file with its own), or null
 * when it already is. Field ids are assigned here, as Java's `UpdatePartitionSpec` does for
 * format 2: a field equal to one of any earlier spec (same source and transform) keeps that
 * field's id, a new one gets the next id after `last-partition-id`. A spec equal to an earlier
 * one is made the default again rather than added twice.
 */
export function updateSpec(m: TableMetadata, spec: Omit<PartitionSpec, "spec-id">): TableCommit | null {
  const same = (a: PartitionField, b: PartitionField) => a["source-id"] === b["source-id"] && a.transform === b.transform;
  const earlier = m["partition-specs"].flatMap((s) => s.fields);
  let last = m["last-partition-id"];
  const fields = spec.fields.map((f) => ({ ...f, "field-id": earlier.find((e) => same(e, f))?.["field-id"] ?? ++last }));
  const key = (fs: PartitionField[]) => JSON.stringify(fs.map((f) => [f["source-id"], f["field-id"], f.transform, f.name]));
  if (key(defaultSpec(m).fields) === key(fields)) return null;
  const requirements: TableCommit["requirements"] = [
    { type: "assert-table-uuid", uuid: m["table-uuid"] },
    { type: "assert-default-spec-id", "default-spec-id": m["default-spec-id"] },
    { type: "assert-last-assigned-partition-id", "last-assigned-partition-id": m["last-partition-id"] },
  ];
  const again = m["partition-specs"].find((s) => key(s.fields) === key(fields));
  if (again) return { requirements, updates: [{ action: "set-default-spec", "spec-id": again["spec-id"] }] };
  const id = Math.max(-1, ...m["partition-specs"].map((s) => s["spec-id"])) + 1;
  return { requirements, updates: [{ action: "add-spec", spec: { ...spec, fields, "spec-id": id } }, { action: "set-default-spec", "spec-id": -1 }] };
}
