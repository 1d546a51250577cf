import type { TableCommit } from "../commit.js";
import { currentSchema, type TableMetadata } from "../metadata.js";
import { maxFieldId } from "../schema.js";
import type { Schema } from "../types.js";

/**
 * The commit that makes `schema` (fields with their ids, as evolution assigned them) the table's
 * current schema, or null when it is the current one already. It asserts the schema it evolved
 * from, so two writers evolving at once cannot both win.
 */
export function updateSchema(m: TableMetadata, schema: Omit<Schema, "schema-id">, lastColumnId = Math.max(m["last-column-id"], maxFieldId(schema as Schema))): TableCommit | null {
  if (JSON.stringify(currentSchema(m).fields) === JSON.stringify(schema.fields)) return null;
  const id = Math.max(...m.schemas.map((s) => s["schema-id"])) + 1;
  return {
    requirements: [
      { type: "assert-table-uuid", uuid: m["table-uuid"] },
      { type: "assert-current-schema-id", "current-schema-id": m["current-schema-id"] },
      { type: "assert-last-assigned-field-id", "last-assigned-field-id": m["last-column-id"] },
    ],
    updates: [{ action: "add-schema", schema: { ...schema, "schema-id": id } as Schema, "last-column-id": lastColumnId }, { action: "set-current-schema", "schema-id": -1 }],
  };
}
