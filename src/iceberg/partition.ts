/**
 * Partition specs applied to a schema: the partition struct type (manifest field 102), the tuple
 * of a row, and the Hive-style path `name=value/...` data files are written under (Java
 * `PartitionSpec.partitionType` / `partitionToPath`). Spec "Partitioning": source columns are
 * primitive and may be nested in structs, never in lists or maps.
 */
import { FloeError } from "../errors.js";
import { applyTransform, parseTransform, toHumanString, transformResultType, type Transform } from "./transforms.js";
import { isPrimitive, type IcebergType, type InternalValue, type NestedField, type PartitionSpec, type PrimitiveType, type Schema } from "./types.js";

interface FieldInfo {
  /** Field names from the schema root, for reading the value out of a row. */
  path: string[];
  type: IcebergType;
  /** True for fields inside a list or map: the spec forbids them as partition sources. */
  inCollection: boolean;
}

/** Every field id of the schema, nested ones included. */
function indexSchema(schema: Schema): Map<number, FieldInfo> {
  const index = new Map<number, FieldInfo>();
  const visit = (id: number, type: IcebergType, path: string[], inCollection: boolean) => {
    index.set(id, { path, type, inCollection });
    if (typeof type === "string") return;
    if (type.type === "struct") for (const f of type.fields) visit(f.id, f.type, [...path, f.name], inCollection);
    else if (type.type === "list") visit(type["element-id"], type.element, [], true);
    else {
      visit(type["key-id"], type.key, [], true);
      visit(type["value-id"], type.value, [], true);
    }
  };
  for (const f of schema.fields) visit(f.id, f.type, [f.name], false);
  return index;
}

/** A partition field resolved against the schema. */
interface ResolvedField {
  fieldId: number;
  name: string;
  transform: Transform;
  sourcePath: string[];
  sourceType: PrimitiveType;
  resultType: PrimitiveType;
}

function refuse(message: string, details: Record<string, unknown>): never {
  throw new FloeError("invalid_input", message, { details });
}

/** Checks a spec against a schema and resolves every field; see {@link validatePartitionSpec}. */
function resolve(spec: PartitionSpec, schema: Schema): ResolvedField[] {
  const index = indexSchema(schema);
  const columnByName = new Map<string, number>();
  for (const [id, info] of index) if (!info.inCollection) columnByName.set(info.path.join("."), id);
  const names = new Set<string>();
  const fieldIds = new Set<number>();
  const sourceTransforms = new Set<string>();
  return spec.fields.map((pf) => {
    const where = `partition field ${JSON.stringify(pf.name)}`;
    const details = { field: pf.name, sourceId: pf["source-id"], transform: pf.transform };
    if (typeof pf.name !== "string" || pf.name === "") refuse("partition field names must be non-empty strings", details);
    if (names.has(pf.name)) refuse(`${where}: duplicate partition field name`, details);
    if (fieldIds.has(pf["field-id"])) refuse(`${where}: duplicate partition field-id ${pf["field-id"]}`, details);
    names.add(pf.name);
    fieldIds.add(pf["field-id"]);
    const transform = parseTransform(pf.transform);
    const source = index.get(pf["source-id"]);
    if (!source) refuse(`${where}: source-id ${pf["source-id"]} is not a field of schema ${schema["schema-id"]}`, details);
    if (source.inCollection) refuse(`${where}: source-id ${pf["source-id"]} is inside a list or map, which cannot be partitioned`, details);
    if (!isPrimitive(source.type)) refuse(`${where}: source column ${source.path.join(".")} is not a primitive type`, details);
    // Java refuses the same transform twice on one column ("redundant partition").
    const key = `${pf["source-id"]}:${pf.transform}`;
    if (sourceTransforms.has(key)) refuse(`${where}: ${pf.transform} of ${source.path.join(".")} is already a partition field`, details);
    sourceTransforms.add(key);
    // A partition name equal to a column name would shadow it in readers; Java allows it only for
    // an identity partition of that very column.
    const column = columnByName.get(pf.name);
    if (column !== undefined && (transform.kind !== "identity" || column !== pf["source-id"])) {
      refuse(`${where}: the name is a column of the schema; pick another name`, details);
    }
    let resultType: PrimitiveType;
    try {
      resultType = transformResultType(transform, source.type);
    } catch (e) {
      refuse(`${where}: ${(e as Error).message} (column ${source.path.join(".")})`, details);
    }
    return { fieldId: pf["field-id"], name: pf.name, transform, sourcePath: source.path, sourceType: source.type, resultType };
  });
}

/**
 * Throws FloeError `invalid_input` naming the field when `spec` cannot partition `schema`: a
 * source id that is not in the schema (or is inside a list/map, or not primitive), a duplicate
 * partition name or field id, the same transform twice on one column, a name that is another
 * column's, an unknown transform, or a transform that does not fit the source type.
 */
export function validatePartitionSpec(spec: PartitionSpec, schema: Schema): void {
  resolve(spec, schema);
}

/**
 * The partition struct's fields: partition field id, name, and the transform's result type. All
 * are optional, as in Java, since every transform maps null to null.
 *
 * @example
 * partitionType({ "spec-id": 0, fields: [{ "source-id": 1, "field-id": 1000, name: "ts_day", transform: "day" }] }, schema);
 * // [{ id: 1000, name: "ts_day", required: false, type: "date" }]
 */
export function partitionType(spec: PartitionSpec, schema: Schema): NestedField[] {
  return resolve(spec, schema).map((f) => ({ id: f.fieldId, name: f.name, required: false, type: f.resultType }));
}

function readPath(row: Record<string, unknown>, path: string[]): InternalValue {
  let v: unknown = row;
  for (const name of path) {
    if (v === null || v === undefined || typeof v !== "object") return null;
    v = (v as Record<string, unknown>)[name];
  }
  return v === undefined ? null : (v as InternalValue);
}

/**
 * Resolves `spec` once and returns a function that computes a row's partition tuple; use it for
 * many rows. Rows hold internal values; nested structs are plain objects keyed by field name, and
 * a missing or null value (or a null enclosing struct) gives null.
 */
export function partitioner(spec: PartitionSpec, schema: Schema): (row: Record<string, unknown>) => InternalValue[] {
  const fields = resolve(spec, schema);
  return (row) => fields.map((f) => applyTransform(f.transform, f.sourceType, readPath(row, f.sourcePath)));
}

/**
 * The partition tuple of one row: one value per partition field, in spec order.
 *
 * @example
 * partitionTuple(spec, schema, { id: 34n, ts: 1510871468000000n }); // [3, 17486]
 */
export function partitionTuple(spec: PartitionSpec, schema: Schema, row: Record<string, unknown>): InternalValue[] {
  return partitioner(spec, schema)(row);
}

/**
 * Java's `URLEncoder.encode(s, UTF-8)` (application/x-www-form-urlencoded): `A-Za-z0-9.-*_`
 * stay, space becomes `+`, everything else is `%XX` of its UTF-8 bytes; a lone surrogate, which
 * has no UTF-8 form, becomes `?` first as in Java.
 */
export function urlEncode(s: string): string {
  return encodeURIComponent(s.replace(/\p{Cs}/gu, "?"))
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/**
 * The partition path of a tuple, as Java's `PartitionSpec.partitionToPath`: `name=value` per
 * field joined by `/`, the value in its human form (`toHumanString`), name and value URL-encoded.
 * An unpartitioned spec gives "".
 *
 * @example
 * partitionPath(spec, schema, [17486, "a b/c"]); // "ts_day=2017-11-16/tag=a+b%2Fc"
 */
export function partitionPath(spec: PartitionSpec, schema: Schema, tuple: InternalValue[]): string {
  const fields = resolve(spec, schema);
  if (tuple.length !== fields.length) {
    throw new FloeError("internal", `partition tuple has ${tuple.length} values, spec ${spec["spec-id"]} has ${fields.length} fields`);
  }
  return fields
    .map((f, i) => `${urlEncode(f.name)}=${urlEncode(toHumanString(f.transform, f.resultType, tuple[i]))}`)
    .join("/");
}
