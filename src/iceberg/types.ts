/**
 * Iceberg types in the JSON shape of the table spec ("Appendix C: JSON serialization"), so a
 * schema in memory is exactly what goes into `metadata.json` and into the Avro manifest headers.
 */

/** Primitive types. `decimal(P,S)` and `fixed[L]` carry their parameters in the name, as in the spec. */
export type PrimitiveType =
  | "boolean"
  | "int"
  | "long"
  | "float"
  | "double"
  | "date"
  | "time"
  | "timestamp"
  | "timestamptz"
  | "string"
  | "uuid"
  | "binary"
  | `decimal(${number}, ${number})`
  | `decimal(${number},${number})`
  | `fixed[${number}]`;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

export interface StructType {
  type: "struct";
  fields: NestedField[];
}

export interface ListType {
  type: "list";
  "element-id": number;
  "element-required": boolean;
  element: IcebergType;
}

export interface MapType {
  type: "map";
  "key-id": number;
  key: IcebergType;
  "value-id": number;
  "value-required": boolean;
  value: IcebergType;
}

export type IcebergType = PrimitiveType | StructType | ListType | MapType;

/** A table schema: a struct with an id. */
export interface Schema extends StructType {
  "schema-id": number;
  "identifier-field-ids"?: number[];
}

/**
 * In-memory ("internal") representation of a value of each primitive type, used everywhere in
 * the core after a row has been converted to the table's schema:
 *
 * | type                    | JS value                                   |
 * |-------------------------|--------------------------------------------|
 * | boolean                 | boolean                                    |
 * | int, date               | number (date: days since 1970-01-01)       |
 * | long                    | bigint                                     |
 * | float, double           | number                                     |
 * | decimal(P,S)            | bigint (the unscaled value)                |
 * | time                    | bigint (microseconds since midnight)       |
 * | timestamp, timestamptz  | bigint (microseconds since 1970-01-01 UTC) |
 * | string                  | string                                     |
 * | uuid                    | Uint8Array(16)                             |
 * | fixed[L], binary        | Uint8Array                                 |
 *
 * Structs are plain objects keyed by field name, lists are arrays, maps are `Map`s.
 * `null` is the only missing value.
 */
export type InternalValue = boolean | number | bigint | string | Uint8Array | null;

export function isPrimitive(t: IcebergType): t is PrimitiveType {
  return typeof t === "string";
}

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;
const FIXED = /^fixed\[\s*(\d+)\s*\]$/;

/** `decimal(9,2)` → `{ precision: 9, scale: 2 }`; anything else → undefined. */
export function decimalParams(t: IcebergType): { precision: number; scale: number } | undefined {
  if (typeof t !== "string") return undefined;
  const m = DECIMAL.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** `fixed[16]` → 16; anything else → undefined. */
export function fixedLength(t: IcebergType): number | undefined {
  if (typeof t !== "string") return undefined;
  const m = FIXED.exec(t);
  return m ? Number(m[1]) : undefined;
}

/** A type written as the spec writes it in JSON (`decimal(9, 2)`, `fixed[16]`, `{"type":"list",...}`). */
export function typeToString(t: IcebergType): string {
  if (typeof t === "string") {
    const d = decimalParams(t);
    return d ? `decimal(${d.precision}, ${d.scale})` : t;
  }
  if (t.type === "list") return `list<${typeToString(t.element)}>`;
  if (t.type === "map") return `map<${typeToString(t.key)}, ${typeToString(t.value)}>`;
  return `struct<${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")}>`;
}

/** Partition spec, as in `metadata.json`. Partition field ids start at 1000 (spec). */
export interface PartitionField {
  "source-id": number;
  "field-id": number;
  name: string;
  /** `identity`, `bucket[N]`, `truncate[W]`, `year`, `month`, `day`, `hour`, `void`. */
  transform: string;
}

export interface PartitionSpec {
  "spec-id": number;
  fields: PartitionField[];
}

/** The first partition field id: partition field ids start at 1000 (spec), schema ids stay below. */
export const PARTITION_FIELD_ID_START = 1000;
