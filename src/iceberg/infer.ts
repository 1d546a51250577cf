import { FloeError } from "../errors.js";
import { DEFAULT_POLICY, limitError, POLICY_PROPERTIES, type IngestPolicy } from "./ingest-policy.js";
import type { IcebergType, NestedField, StructType } from "./types.js";
import { typeToString } from "./types.js";

/** What inference needs of the table's policy (ingest-policy.ts). */
export type InferOptions = Pick<IngestPolicy, "numbers" | "maxDepth" | "maxNameLength">;

/**
 * Type inference from JSON rows. Numbers become `double` (or, with the policy `long`, integral
 * ones `long`; ingest-policy.ts says why double is the default); strings stay
 * `string` (an ISO-8601 text only becomes a timestamp when the table declares one: guessing
 * would turn an id that happens to look like a date into a column of the wrong type); objects
 * become structs and arrays lists. Inferred fields are optional: one batch cannot prove that a
 * field is always present. A field that is null in every row is left out until a value shows
 * its type. Ids are placeholders (0); `unionByName` assigns real ones. Rows are named in refusals
 * by `firstRow + r`, or by `indexes[r]` when given (rows that are not consecutive).
 */
export function inferStruct(rows: readonly unknown[], firstRow = 0, known?: StructType, opts: InferOptions = DEFAULT_POLICY, indexes?: ArrayLike<number>): StructType {
  let shape: StructType = { type: "struct", fields: [] };
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const i = indexes ? indexes[r] : firstRow + r;
    if (!isPlainObject(row)) {
      throw new FloeError("invalid_input", `row ${i}: expected a JSON object, got ${describe(row)}`, { details: { row: i, reason: "not an object" } });
    }
    shape = mergeStruct(shape, inferObject(row, i, "", opts, 0, known), i, "", row);
  }
  return shape;
}

/** What `inferColumn` found: the column's type (undefined if no value says), or the refusal `inferStruct` would throw for it. */
export type ColumnInference = { ok: true; type: IcebergType | undefined; at: number } | { ok: false; refusal: unknown; row: number; merging: boolean };

/**
 * `inferStruct` of rows that each hold the one field `name`, given as the column of its values
 * (`values[r]` is row `firstRow + r`'s): the same type, refusals and messages, without a row object
 * per value. What a columnar source (a Parquet row group) infers a column at a time with. `at` is
 * the first row whose value gave a type: where `inferStruct` of whole rows adds the field, which
 * decides the new fields' order. A refusal is returned with its row and whether it came from
 * merging the value's type with the earlier rows' (`inferStruct` reads all of a row's values before
 * it merges any of them, so at one row every value's own refusal comes before any merge's).
 */
export function inferColumn(name: string, values: ArrayLike<unknown>, firstRow: number, known: StructType | undefined, opts: InferOptions): ColumnInference {
  const k = known ? fieldsByName(known).get(name) : undefined;
  const struct = k !== undefined && typeof k.type === "object" && k.type.type === "struct" ? k.type : undefined;
  if (k !== undefined && !struct) return { ok: true, type: undefined, at: -1 };
  if (k === undefined && name.length > opts.maxNameLength && values.length > 0) {
    const refusal = limitError(POLICY_PROPERTIES.maxNameLength, opts.maxNameLength, `row ${firstRow}, field "${name.slice(0, 80)}…": the name has ${name.length} characters, over the limit of ${opts.maxNameLength} (property ${POLICY_PROPERTIES.maxNameLength})`, { row: firstRow, field: name.slice(0, 300) });
    return { ok: false, refusal, row: firstRow, merging: false };
  }
  let type: IcebergType | undefined;
  let at = -1;
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    const row = firstRow + r;
    let t: IcebergType | undefined;
    try {
      if (struct) {
        if (!isPlainObject(v)) continue;
        t = inferObject(v, row, name, opts, 1, struct);
      } else t = inferValue(v, row, name, opts, 0);
    } catch (refusal) {
      return { ok: false, refusal, row, merging: false };
    }
    if (t === undefined) continue;
    if (at < 0) at = r;
    try {
      type = merge(type, t, row, name, v);
    } catch (refusal) {
      return { ok: false, refusal, row, merging: true };
    }
  }
  return { ok: true, type, at };
}

/** Inferred type of one JSON value, or undefined for null / empty arrays of nothing. */
function inferValue(v: unknown, row: number, path: string, opts: InferOptions, depth: number): IcebergType | undefined {
  if (v === null || v === undefined) return undefined;
  switch (typeof v) {
    case "boolean":
      return "boolean";
    case "number":
      return opts.numbers === "long" && Number.isInteger(v) ? "long" : "double";
    case "bigint":
      return "long";
    case "string":
      return "string";
  }
  if (Array.isArray(v) || isPlainObject(v)) {
    if (depth >= opts.maxDepth) {
      throw limitError(POLICY_PROPERTIES.maxDepth, opts.maxDepth, `row ${row}, field "${path}": nested deeper than the limit of ${opts.maxDepth} levels (property ${POLICY_PROPERTIES.maxDepth}); send it as a JSON string, or raise the limit`, { row, field: path });
    }
  }
  if (Array.isArray(v)) {
    let element: IcebergType | undefined;
    for (const item of v) element = merge(element, inferValue(item, row, `${path}.element`, opts, depth + 1), row, `${path}.element`, item);
    // An array of nothing but nulls/empties says nothing of its element type: leave it open.
    return element === undefined ? undefined : { type: "list", "element-id": 0, "element-required": false, element };
  }
  if (isPlainObject(v)) {
    // An object with no fields of known type (`{}`, `{"a": null}`) says nothing of its shape, and a
    // struct of no fields cannot be written to Parquet: leave it open, like an empty array.
    const t = inferObject(v, row, path, opts, depth + 1);
    return t.fields.length ? t : undefined;
  }
  throw new FloeError("invalid_input", `row ${row}, field "${path}": unsupported value ${describe(v)}`, { details: { row, field: path } });
}

/**
 * With `known` (the table's struct at this level), fields the table already has are not inferred:
 * their values are checked against the table's type by the row converter, which names the row
 * that does not fit. Only new fields, and new fields inside known structs, are discovered here.
 */
function inferObject(obj: Record<string, unknown>, row: number, path: string, opts: InferOptions, depth: number, known?: StructType): StructType {
  const fields: NestedField[] = [];
  for (const key in obj) {
    const fieldPath = path ? `${path}.${key}` : key;
    const k = known ? fieldsByName(known).get(key) : undefined;
    let t: IcebergType | undefined;
    if (k === undefined) {
      if (key.length > opts.maxNameLength) {
        throw limitError(POLICY_PROPERTIES.maxNameLength, opts.maxNameLength, `row ${row}, field "${fieldPath.slice(0, 80)}…": the name has ${key.length} characters, over the limit of ${opts.maxNameLength} (property ${POLICY_PROPERTIES.maxNameLength})`, { row, field: fieldPath.slice(0, 300) });
      }
      t = inferValue(obj[key], row, fieldPath, opts, depth);
    } else if (typeof k.type === "object" && k.type.type === "struct" && isPlainObject(obj[key])) t = inferObject(obj[key] as Record<string, unknown>, row, fieldPath, opts, depth + 1, k.type);
    else continue;
    if (t !== undefined) fields.push({ id: 0, name: key, required: false, type: t });
  }
  return { type: "struct", fields };
}

function merge(a: IcebergType | undefined, b: IcebergType | undefined, row: number, path: string, value?: unknown): IcebergType | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a === b) return a;
  if ((a === "long" && b === "double") || (a === "double" && b === "long")) return "double";
  if (typeof a === "object" && typeof b === "object") {
    if (a.type === "struct" && b.type === "struct") return mergeStruct(a, b, row, path, isPlainObject(value) ? value : undefined);
    if (a.type === "list" && b.type === "list") return { ...a, element: merge(a.element, b.element, row, `${path}.element`)! };
  }
  const got = value === undefined ? typeToString(b) : describe(value);
  throw new FloeError("invalid_input", `row ${row}, field "${path}": expected ${typeToString(a)} as in earlier rows, got ${got}`, {
    details: { row, field: path, reason: `type ${typeToString(b)} does not match ${typeToString(a)} seen in earlier rows` },
  });
}

/** Merges two inferred shapes (e.g. of two messages' rows); `row` names where `b` came from in errors. */
export function mergeInferred(a: StructType, b: StructType, row = 0): StructType {
  return mergeStruct(a, b, row, "");
}

function mergeStruct(a: StructType, b: StructType, row: number, path: string, values?: Record<string, unknown>): StructType {
  if (b.fields.length === 0) return a;
  const fields = a.fields.slice();
  const byName = new Map(fields.map((f, i) => [f.name, i]));
  for (const f of b.fields) {
    const i = byName.get(f.name);
    if (i === undefined) {
      byName.set(f.name, fields.length);
      fields.push(f);
    } else {
      fields[i] = { ...fields[i], type: merge(fields[i].type, f.type, row, path ? `${path}.${f.name}` : f.name, values?.[f.name])! };
    }
  }
  return { type: "struct", fields };
}

const byNameCache = new WeakMap<StructType, Map<string, NestedField>>();

/** Name → field of a struct, computed once per struct object. */
function fieldsByName(t: StructType): Map<string, NestedField> {
  let m = byNameCache.get(t);
  if (!m) byNameCache.set(t, (m = new Map(t.fields.map((f) => [f.name, f]))));
  return m;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A short description of a JSON value for error messages: its kind and a bounded preview. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "bigint") return `number ${v}`;
  const text = JSON.stringify(v) ?? String(v);
  const preview = text.length > 64 ? `${text.slice(0, 61)}...` : text;
  return `${typeof v} ${preview}`;
}
