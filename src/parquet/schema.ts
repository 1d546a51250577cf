import type { SchemaElement } from "hyparquet";
import { FloeError } from "../errors.js";
import { decimalParams, fixedLength, isPrimitive, type IcebergType, type PrimitiveType, type StructType } from "../iceberg/types.js";

/**
 * The Parquet schema for an Iceberg schema, as the spec's "Parquet" appendix maps types, with the
 * Iceberg field id on every element (lists' `element` and maps' `key`/`value` too), so engines
 * resolve columns by id and survive renames. Lists and maps use the three-level layout of the
 * Parquet format spec (`<list> LIST { repeated list { element } }`, `<map> MAP { repeated key_value { key, value } }`).
 */
export function parquetSchema(schema: StructType): SchemaElement[] {
  const out: SchemaElement[] = [{ name: "root", num_children: schema.fields.length }];
  for (const f of schema.fields) pushField(out, f.name, f.id, f.required, f.type);
  return out;
}

function pushField(out: SchemaElement[], name: string, id: number, required: boolean, type: IcebergType): void {
  const repetition_type = required ? "REQUIRED" : "OPTIONAL";
  if (isPrimitive(type)) {
    out.push({ name, field_id: id, repetition_type, ...primitiveElement(type) });
    return;
  }
  if (type.type === "struct") {
    out.push({ name, field_id: id, repetition_type, num_children: type.fields.length });
    for (const f of type.fields) pushField(out, f.name, f.id, f.required, f.type);
    return;
  }
  if (type.type === "list") {
    out.push({ name, field_id: id, repetition_type, num_children: 1, converted_type: "LIST", logical_type: { type: "LIST" } });
    out.push({ name: "list", repetition_type: "REPEATED", num_children: 1 });
    pushField(out, "element", type["element-id"], type["element-required"], type.element);
    return;
  }
  out.push({ name, field_id: id, repetition_type, num_children: 1, converted_type: "MAP", logical_type: { type: "MAP" } });
  out.push({ name: "key_value", repetition_type: "REPEATED", num_children: 2 });
  pushField(out, "key", type["key-id"], true, type.key);
  pushField(out, "value", type["value-id"], type["value-required"], type.value);
}

/** Minimal bytes holding a decimal of `precision` digits in two's complement (spec: fixed(minBytes(P))). */
export function decimalBytes(precision: number): number {
  let n = 1;
  while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(precision)) n++;
  return n;
}

function primitiveElement(t: PrimitiveType): Omit<SchemaElement, "name"> {
  switch (t) {
    case "boolean":
      return { type: "BOOLEAN" };
    case "int":
      return { type: "INT32" };
    case "long":
      return { type: "INT64" };
    case "float":
      return { type: "FLOAT" };
    case "double":
      return { type: "DOUBLE" };
    case "date":
      return { type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
    case "time":
      return { type: "INT64", converted_type: "TIME_MICROS", logical_type: { type: "TIME", isAdjustedToUTC: false, unit: "MICROS" } };
    // Iceberg timestamps are microseconds: TIMESTAMP(MICROS), adjusted to UTC only for timestamptz.
    case "timestamp":
      return { type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" } };
    case "timestamptz":
      return { type: "INT64", converted_type: "TIMESTAMP_MICROS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } };
    case "string":
      return { type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
    case "uuid":
      return { type: "FIXED_LEN_BYTE_ARRAY", type_length: 16, logical_type: { type: "UUID" } };
    case "binary":
      return { type: "BYTE_ARRAY" };
  }
  const d = decimalParams(t);
  if (d) {
    // Spec: precision ≤ 9 → int32, ≤ 18 → int64, else fixed(minBytes(P)).
    const physical: Omit<SchemaElement, "name"> =
      d.precision <= 9 ? { type: "INT32" } : d.precision <= 18 ? { type: "INT64" } : { type: "FIXED_LEN_BYTE_ARRAY", type_length: decimalBytes(d.precision) };
    return { ...physical, converted_type: "DECIMAL", precision: d.precision, scale: d.scale, logical_type: { type: "DECIMAL", precision: d.precision, scale: d.scale } };
  }
  const len = fixedLength(t);
  if (len !== undefined) return { type: "FIXED_LEN_BYTE_ARRAY", type_length: len };
  throw new FloeError("invalid_input", `unsupported Iceberg type ${t}`);
}
