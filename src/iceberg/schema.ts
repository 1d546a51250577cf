import { FloeError } from "../errors.js";
import { isPrimitive, type IcebergType, type ListType, type MapType, type NestedField, type Schema, type StructType } from "./types.js";

/** Every field of a type, depth first, with its dotted name (`a.b`, `tags.element`, `attrs.value`). */
export function* walkFields(type: IcebergType, prefix = ""): Generator<{ path: string; id: number; type: IcebergType; required: boolean }> {
  if (isPrimitive(type)) return;
  if (type.type === "struct") {
    for (const f of type.fields) {
      const path = prefix ? `${prefix}.${f.name}` : f.name;
      yield { path, id: f.id, type: f.type, required: f.required };
      yield* walkFields(f.type, path);
    }
  } else if (type.type === "list") {
    const path = `${prefix}.element`;
    yield { path, id: type["element-id"], type: type.element, required: type["element-required"] };
    yield* walkFields(type.element, path);
  } else {
    yield { path: `${prefix}.key`, id: type["key-id"], type: type.key, required: true };
    yield* walkFields(type.key, `${prefix}.key`);
    yield { path: `${prefix}.value`, id: type["value-id"], type: type.value, required: type["value-required"] };
    yield* walkFields(type.value, `${prefix}.value`);
  }
}

/** Largest field id used anywhere in the type (0 for an empty struct). */
export function maxFieldId(type: IcebergType): number {
  let max = 0;
  for (const f of walkFields(type)) max = Math.max(max, f.id);
  return max;
}

/** Field id → field, for every field at any depth. */
export function indexById(type: IcebergType): Map<number, { path: string; type: IcebergType; required: boolean }> {
  const out = new Map<number, { path: string; type: IcebergType; required: boolean }>();
  for (const f of walkFields(type)) out.set(f.id, f);
  return out;
}

const NAME = /^[^\s.][^.]*$/u;

/**
 * Refuses a schema that no engine could read back unambiguously: duplicate names within a
 * struct, duplicate or non-positive ids, names with dots (they collide with nested paths),
 * map keys that are optional (the spec requires keys).
 */
export function validateSchema(type: StructType): void {
  const ids = new Set<number>();
  const seeId = (id: number, where: string) => {
    if (!Number.isInteger(id) || id <= 0) throw new FloeError("invalid_input", `field "${where}": id must be a positive integer, got ${id}`, { details: { field: where } });
    if (ids.has(id)) throw new FloeError("invalid_input", `field "${where}": id ${id} is used twice`, { details: { field: where } });
    ids.add(id);
  };
  const visit = (t: IcebergType, prefix: string) => {
    if (isPrimitive(t)) return;
    if (t.type === "struct") {
      const names = new Set<string>();
      for (const f of t.fields) {
        const path = prefix ? `${prefix}.${f.name}` : f.name;
        if (typeof f.name !== "string" || !NAME.test(f.name)) throw new FloeError("invalid_input", `field "${path}": invalid name (empty, leading space or containing ".")`, { details: { field: path } });
        if (names.has(f.name)) throw new FloeError("invalid_input", `field "${path}": duplicate field name`, { details: { field: path } });
        names.add(f.name);
        seeId(f.id, path);
        visit(f.type, path);
      }
    } else if (t.type === "list") {
      seeId(t["element-id"], `${prefix}.element`);
      visit(t.element, `${prefix}.element`);
    } else {
      seeId(t["key-id"], `${prefix}.key`);
      seeId(t["value-id"], `${prefix}.value`);
      visit(t.key, `${prefix}.key`);
      visit(t.value, `${prefix}.value`);
    }
  };
  visit(type, "");
}

/**
 * Gives every field of `type` a fresh id from `nextId` on, in the order the spec's reference
 * implementation does (a struct's own fields first, then their children), so a new table's ids
 * are 1..n for its top-level columns. Returns the type and the last id used.
 */
export function assignFreshIds<T extends IcebergType>(type: T, nextId: () => number): T {
  if (isPrimitive(type)) return type;
  if (type.type === "struct") {
    const ids = type.fields.map(() => nextId());
    return { ...(type as StructType), fields: type.fields.map((f, i) => ({ ...f, id: ids[i], type: assignFreshIds(f.type, nextId) })) } as T;
  }
  if (type.type === "list") {
    const id = nextId();
    return { ...(type as ListType), "element-id": id, element: assignFreshIds(type.element, nextId) } as T;
  }
  const keyId = nextId();
  const valueId = nextId();
  return { ...(type as MapType), "key-id": keyId, "value-id": valueId, key: assignFreshIds(type.key, nextId), value: assignFreshIds(type.value, nextId) } as T;
}

/** A counter starting after `last`. */
export function idCounter(last: number): () => number {
  let n = last;
  return () => ++n;
}

/** Builds a table schema from fields, validating it. */
export function makeSchema(fields: NestedField[], schemaId = 0, identifierFieldIds?: number[]): Schema {
  const schema: Schema = { type: "struct", "schema-id": schemaId, fields };
  if (identifierFieldIds?.length) schema["identifier-field-ids"] = identifierFieldIds;
  validateSchema(schema);
  return schema;
}
