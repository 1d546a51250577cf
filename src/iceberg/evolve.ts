import { FloeError } from "../errors.js";
import { assignFreshIds, validateSchema } from "./schema.js";
import { decimalParams, isPrimitive, typeToString, type IcebergType, type NestedField, type Schema, type StructType } from "./types.js";

export interface UnionResult {
  schema: Schema;
  lastColumnId: number;
  /** False when `incoming` added nothing: the current schema stands. */
  changed: boolean;
}

/**
 * Schema evolution by name (spec "Schema Evolution"): fields of `incoming` missing from `current`
 * become new optional columns with fresh ids (nested ones too); a field present in both keeps its
 * id, and may only be promoted as the spec allows: int→long, float→double, decimal(P,S)→decimal(P',S)
 * with P' > P, and required→optional. Anything else is refused with the field and both types.
 * Fields absent from `incoming` are kept: evolution never drops a column.
 *
 * `inferred` marks `incoming` as inferred from JSON rather than declared: JSON cannot tell int from
 * long or float from double, so for inferred types a differing primitive is not a change request
 * (the row converter decides whether each value fits the column, and refuses it if not).
 */
export function unionByName(current: Schema, incoming: StructType, lastColumnId: number, opts: { inferred: boolean }): UnionResult {
  let last = lastColumnId;
  const nextId = () => ++last;
  let changed = false;

  const unionStruct = (cur: StructType, inc: StructType, prefix: string): StructType => {
    const fields: NestedField[] = cur.fields.slice();
    const byName = new Map(fields.map((f, i) => [f.name, i]));
    for (const f of inc.fields) {
      const path = prefix ? `${prefix}.${f.name}` : f.name;
      const i = byName.get(f.name);
      if (i === undefined) {
        changed = true;
        fields.push({ ...f, id: nextId(), required: false, type: assignFreshIds(f.type, nextId) });
        byName.set(f.name, fields.length - 1);
        continue;
      }
      const existing = fields[i];
      let required = existing.required;
      if (!opts.inferred && existing.required && !f.required) {
        required = false; // required → optional is allowed
        changed = true;
      } else if (!opts.inferred && !existing.required && f.required) {
        throw new FloeError("schema_conflict", `field "${path}": cannot make an optional column required`, { details: { field: path } });
      }
      fields[i] = { ...existing, required, type: unionType(existing.type, f.type, path) };
    }
    return { ...cur, fields };
  };

  const unionType = (cur: IcebergType, inc: IcebergType, path: string): IcebergType => {
    if (isPrimitive(cur) && isPrimitive(inc)) {
      if (cur === inc) return cur;
      const promoted = promote(cur, inc);
      if (promoted !== undefined) {
        if (promoted !== cur) changed = true;
        return promoted;
      }
      if (opts.inferred) return cur;
      throw conflict(path, cur, inc);
    }
    if (!isPrimitive(cur) && !isPrimitive(inc) && cur.type === inc.type) {
      if (cur.type === "struct" && inc.type === "struct") return unionStruct(cur, inc, path);
      if (cur.type === "list" && inc.type === "list") {
        if (!opts.inferred && cur["element-required"] && !inc["element-required"]) changed = true;
        const elementRequired = opts.inferred ? cur["element-required"] : cur["element-required"] && inc["element-required"];
        return { ...cur, "element-required": elementRequired, element: unionType(cur.element, inc.element, `${path}.element`) };
      }
      if (cur.type === "map" && inc.type === "map") {
        if (!isPrimitive(cur.key) || cur.key !== inc.key) {
          if (opts.inferred) return cur;
          throw conflict(`${path}.key`, cur.key, inc.key);
        }
        return { ...cur, value: unionType(cur.value, inc.value, `${path}.value`) };
      }
    }
    // Inferred shapes that do not match are left to the row converter, which names the row.
    if (opts.inferred) return cur;
    throw conflict(path, cur, inc);
  };

  const fields = unionStruct(current, incoming, "").fields;
  const schema: Schema = { ...current, fields, "schema-id": changed ? current["schema-id"] + 1 : current["schema-id"] };
  validateSchema(schema);
  return { schema, lastColumnId: last, changed };
}

/** The promoted type when `cur` may become `inc` (or already covers it), else undefined. */
function promote(cur: string, inc: string): IcebergType | undefined {
  if (cur === "int" && inc === "long") return "long";
  if (cur === "float" && inc === "double") return "double";
  if ((cur === "long" && inc === "int") || (cur === "double" && inc === "float")) return cur as IcebergType; // narrower input fits
  const a = decimalParams(cur as IcebergType);
  const b = decimalParams(inc as IcebergType);
  if (a && b && a.scale === b.scale) return (b.precision > a.precision ? inc : cur) as IcebergType;
  return undefined;
}

function conflict(path: string, cur: IcebergType, inc: IcebergType): FloeError {
  return new FloeError("schema_conflict", `field "${path}": cannot change type from ${typeToString(cur)} to ${typeToString(inc)} (Iceberg allows only int→long, float→double and wider decimal precision)`, {
    details: { field: path, from: typeToString(cur), to: typeToString(inc) },
  });
}
