import { FloeError, isFloeError } from "../errors.js";
import { describe, isPlainObject } from "./infer.js";
import { fastIsoUtcMicros } from "./iso-fast.js";
import { parseLiteral } from "./literals.js";
import { isPrimitive, type IcebergType, type InternalValue, type NestedField, type PrimitiveType, type StructType } from "./types.js";

/** Rows of one chunk converted to the table schema, one array per top-level column. */
export interface ColumnBatch {
  columns: unknown[][];
  rowCount: number;
  /** Rough size of the converted values in bytes (strings by length, 8 per other value): drives row-group flushing. */
  approxBytes: number;
}

export interface ConvertOptions {
  /** `error` refuses a non-null value for a field the schema does not have (strict tables); `ignore` drops it. */
  unknownFields: "error" | "ignore";
}

export type Convert = (v: unknown, row: number, path: string) => unknown;

/**
 * Compiles a converter from JSON rows to internal values (see `InternalValue`) for `schema`,
 * column by column, so the per-value work is one closure call and a `typeof`. Every refusal is a
 * FloeError("invalid_input") naming the row index (counted from `firstRow`) and the dotted field.
 *
 * @example
 * const convert = compileRowConverter(schema, { unknownFields: "ignore" });
 * const batch = convert([{ id: 1, name: "a" }], 0); // batch.columns[0] = [1n]
 */
export type RowConverter = (rows: readonly unknown[], firstRow: number, indexes?: ArrayLike<number>) => ColumnBatch;

export function compileRowConverter(schema: StructType, opts: ConvertOptions): RowConverter {
  const fields = schema.fields;
  const names = fields.map((f) => f.name);
  const known = new Set(names);
  const converters = fields.map((f) => fieldConverter(f, opts));
  const n = fields.length;

  // `indexes` (the rows' own indexes, when they are not consecutive) name rows in refusals.
  return (rows, firstRow, indexes) => {
    const count = rows.length;
    const at = (r: number) => (indexes ? indexes[r] : firstRow + r);
    for (let r = 0; r < count; r++) {
      const row = rows[r];
      if (!isPlainObject(row)) {
        const rowIndex = at(r);
        throw new FloeError("invalid_input", `row ${rowIndex}: expected a JSON object, got ${describe(row)}`, { details: { row: rowIndex, reason: "not an object" } });
      }
      if (opts.unknownFields === "error") checkUnknown(row, known, at(r), "");
    }
    // Column by column: each inner loop calls one converter, which V8 can inline, where a
    // row-by-row loop would call a different closure every value.
    const columns: unknown[][] = new Array(n);
    let approxBytes = 0;
    for (let c = 0; c < n; c++) {
      const convert = converters[c];
      const name = names[c];
      const out = new Array(count);
      for (let r = 0; r < count; r++) {
        const v = convert((rows[r] as Record<string, unknown>)[name], indexes ? indexes[r] : firstRow + r, name);
        out[r] = v;
        approxBytes += typeof v === "string" ? v.length + 4 : 8;
      }
      columns[c] = out;
    }
    return { columns, rowCount: count, approxBytes };
  };
}

/**
 * The converter of one top-level field's JSON value (what `compileRowConverter` applies per
 * column): the columnar scanner uses it for values it has no typed reading of (nested, decimal…).
 */
export function fieldConverter(f: NestedField, opts: ConvertOptions): Convert {
  const inner = typeConverter(f.type, opts);
  if (f.required) {
    return (v, row, path) => {
      if (v === null || v === undefined) throw fieldError(row, path, `required field is missing`);
      return inner(v, row, path);
    };
  }
  return (v, row, path) => (v === null || v === undefined ? null : inner(v, row, path));
}

function typeConverter(t: IcebergType, opts: ConvertOptions): Convert {
  if (isPrimitive(t)) return primitiveConverter(t);
  if (t.type === "struct") {
    const names = t.fields.map((f) => f.name);
    const known = new Set(names);
    const subs = t.fields.map((f) => {
      const inner = typeConverter(f.type, opts);
      return { name: f.name, required: f.required, inner };
    });
    return (v, row, path) => {
      if (!isPlainObject(v)) throw fieldError(row, path, `expected struct, got ${describe(v)}`);
      if (opts.unknownFields === "error") checkUnknown(v, known, row, path);
      const out: Record<string, unknown> = {};
      for (const s of subs) {
        const x = v[s.name];
        const p = `${path}.${s.name}`;
        if (x === null || x === undefined) {
          if (s.required) throw fieldError(row, p, "required field is missing");
          out[s.name] = null;
        } else out[s.name] = s.inner(x, row, p);
      }
      return out;
    };
  }
  if (t.type === "list") {
    const inner = typeConverter(t.element, opts);
    const required = t["element-required"];
    return (v, row, path) => {
      if (!Array.isArray(v)) throw fieldError(row, path, `expected list, got ${describe(v)}`);
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x === null || x === undefined) {
          if (required) throw fieldError(row, `${path}[${i}]`, "list element is required");
          out[i] = null;
        } else out[i] = inner(x, row, `${path}[${i}]`);
      }
      return out;
    };
  }
  const key = typeConverter(t.key, opts);
  const value = typeConverter(t.value, opts);
  const required = t["value-required"];
  return (v, row, path) => {
    // JSON has one natural map shape, an object; arrays of [key, value] pairs carry non-string keys.
    let entries: [unknown, unknown][];
    if (isPlainObject(v)) entries = Object.entries(v);
    else if (Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2)) entries = v as [unknown, unknown][];
    else throw fieldError(row, path, `expected map (an object), got ${describe(v)}`);
    const out = new Map<unknown, unknown>();
    for (const [k, x] of entries) {
      const kp = `${path}.${String(k)}`;
      const ck = key(k, row, `${path}.key`);
      if (x === null || x === undefined) {
        if (required) throw fieldError(row, kp, "map value is required");
        out.set(ck, null);
      } else out.set(ck, value(x, row, kp));
    }
    return out;
  };
}

/** Fast paths for the common JSON types; everything else goes through `parseLiteral`. */
function primitiveConverter(t: PrimitiveType): Convert {
  const generic: Convert = (v, row, path) => {
    try {
      return parseLiteral(t, v) as InternalValue;
    } catch (e) {
      if (isFloeError(e)) throw fieldError(row, path, e.message);
      throw e;
    }
  };
  switch (t) {
    case "string":
      return (v, row, path) => (typeof v === "string" ? v : generic(v, row, path));
    case "long":
      return (v, row, path) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
        if (typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v)) throw fieldError(row, path, fractionInLong(v, path));
        return generic(v, row, path);
      };
    case "double":
      return (v, row, path) => (typeof v === "number" ? v : generic(v, row, path));
    case "boolean":
      return (v, row, path) => (typeof v === "boolean" ? v : generic(v, row, path));
    case "timestamp":
    case "timestamptz":
      return (v, row, path) => (typeof v === "string" ? fastIsoUtcMicros(v) : undefined) ?? generic(v, row, path);
    default:
      return generic;
  }
}

function checkUnknown(obj: Record<string, unknown>, known: Set<string>, row: number, path: string): void {
  for (const k in obj) {
    if (!known.has(k) && obj[k] !== null && obj[k] !== undefined) {
      const p = path ? `${path}.${k}` : k;
      throw unknownFieldError(row, p);
    }
  }
}

/** A strict table's refusal of a field it does not have. */
export function unknownFieldError(row: number, path: string): FloeError {
  return fieldError(row, path, "field is not in the table schema");
}

/**
 * The refusal of a fraction in a long column says how to get out: the usual cause is a column
 * inferred as long from a producer that writes 1.0 as `1` (table property `floe.infer.numbers`),
 * and Iceberg cannot widen long to double, so the fix is a new table, not a retry.
 */
function fractionInLong(v: number, path: string): string {
  return `${v} is not an integer, and the column is long. Iceberg cannot change a long column to double: drop the table (DELETE /v1/tables/{table}) and create it again with "${path}" declared "double" (PUT /v1/tables/{table}) or with the property floe.infer.numbers=double (the default for new tables), or send fractions in another field`;
}

/** The refusal of one row's field: its row, its dotted path and why. */
function fieldError(row: number, field: string, reason: string): FloeError {
  return new FloeError("invalid_input", `row ${row}, field "${field}": ${reason}`, { details: { row, field, reason } });
}

