import type { IcebergType, NestedField, Schema } from "./types.js";

/** The table property readers consult for data files without field ids (spec "Column Projection"). */
export const NAME_MAPPING_PROPERTY = "schema.name-mapping.default";

/** One entry of a name mapping (spec "Appendix C: Name Mapping Serialization"). */
export interface MappedField {
  "field-id": number;
  names: string[];
  fields?: MappedField[];
}

/**
 * The name mapping of a schema: every field, nested ones included, by its current name. Readers
 * (Spark, PyIceberg, Trino) use it to give field ids to the columns of a Parquet file written
 * without them, such as an uploaded file registered as is: a column whose name is mapped reads as
 * that field; list elements are named `element`, map keys and values `key` and `value`, as the
 * Parquet LIST and MAP conventions name them.
 *
 * @example
 * nameMapping({ type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", required: false, type: "long" }] });
 * // [{ "field-id": 1, names: ["id"] }]
 */
export function nameMapping(schema: Schema): MappedField[] {
  return schema.fields.map(mapField);
}

function mapField(f: NestedField): MappedField {
  return withChildren({ "field-id": f.id, names: [f.name] }, f.type);
}

function withChildren(m: MappedField, t: IcebergType): MappedField {
  if (typeof t === "string") return m;
  if (t.type === "struct") return { ...m, fields: t.fields.map(mapField) };
  if (t.type === "list") return { ...m, fields: [withChildren({ "field-id": t["element-id"], names: ["element"] }, t.element)] };
  return {
    ...m,
    fields: [withChildren({ "field-id": t["key-id"], names: ["key"] }, t.key), withChildren({ "field-id": t["value-id"], names: ["value"] }, t.value)],
  };
}
