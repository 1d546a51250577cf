import type { ColumnSource } from "../decode/columns.js";
import { unionByName } from "../iceberg/evolve.js";
import { inferColumn, type InferOptions } from "../iceberg/infer.js";
import { fieldConverter, unknownFieldError } from "../iceberg/rows.js";
import type { NestedField, Schema, StructType } from "../iceberg/types.js";
import { columnKind, newColumn, type Column, type TypedBatch } from "./columns.js";

/** What the rows are converted to: the schema so far, and how (the rules of `BatchWriter`). */
export interface SourceTarget {
  schema: Schema | null;
  /** Infer new fields (and those inside known structs) by these rules; null: convert to `schema` as it is (a schema is then required). */
  infer: InferOptions | null;
  /** `error`: a non-null value of a field `schema` lacks is refused (strict tables); `ignore`: dropped. */
  unknownFields: "error" | "ignore";
}

/**
 * A source's columns, converted: the new fields they bring (`shape`, for the schema's evolution),
 * and `batch`, which lays the typed columns out in the evolved schema's order (throwing the first
 * refusal of the conversion, as the row converter would).
 */
export interface ReadSource {
  shape: StructType;
  batch(schema: Schema): TypedBatch;
}

/** A refusal found in one column, ranked as the row path would meet it. */
interface Refusal {
  row: number;
  /** 0: of a value itself; 1: of merging its type with earlier rows' (inference reads a whole row before it merges). */
  phase: number;
  /** The column's place among a row's keys (see `keyOrder`). */
  order: number;
  error: unknown;
}

/**
 * Reads a column source into typed columns with exactly the semantics of `BatchWriter.write` on its
 * rows (inference of new fields, then `compileRowConverter`; or, without `infer`, the converter
 * alone, as compaction uses it), a column at a time: each column is inferred and converted as soon
 * as it is read, and only its typed column is kept. Columns are independent in both paths (a value's
 * inference and conversion depend only on its own column's values), so the row path's first
 * refusal can be found column by column: an inference refusal at the lowest row (at one row, a
 * value's own refusal before a merge's; then by the column's place among the row's keys), thrown
 * here; then, from `batch`, in `strict` an unknown field at the lowest row, then the conversion
 * refusal of the first column in schema order. New fields are ordered as the rows first give them
 * a type, ties in key order.
 */
export async function readSource(src: ColumnSource, target: SourceTarget): Promise<ReadSource> {
  const { schema, infer, unknownFields } = target;
  const byName = new Map((schema?.fields ?? []).map((f) => [f.name, f]));
  const order = keyOrder(src.names);
  const pieces: { at: number; order: number; field: NestedField }[] = [];
  const columns = new Map<string, Column>();
  const failed = new Map<string, unknown>();
  let inferRefusal: Refusal | undefined;
  let unknownRefusal: Refusal | undefined;
  let approxBytes = 0;
  /** A typed column of the field's kind holding each value as `value` gives it, sized as the row converter sizes values. */
  const typedColumn = (field: NestedField, values: readonly unknown[], value: (v: unknown, r: number) => unknown): Column => {
    const col = newColumn(columnKind(field.type), values.length);
    for (let r = 0; r < values.length; r++) {
      const v = value(values[r], r);
      col.appendValue(v as never);
      approxBytes += typeof v === "string" ? v.length + 4 : 8;
    }
    return col;
  };
  const earlier = (a: Refusal | undefined, b: Refusal): Refusal => {
    if (!a) return b;
    return (b.row - a.row || b.phase - a.phase || b.order - a.order) < 0 ? b : a;
  };

  for (let c = 0; c < src.names.length; c++) {
    const name = src.names[c];
    const known = byName.get(name);
    const inferring = infer !== null && (!known || isStruct(known));
    if (known && !inferring && src.readInternal) {
      // The source's own typed values where it has them exactly (a Parquet timestamp's microseconds):
      // no text in between. A null in a required field goes the long way, which refuses it by row.
      const internal = await src.readInternal(c, known.type);
      if (internal && !(known.required && internal.some((v) => v === null || v === undefined))) {
        if (!inferRefusal && !unknownRefusal) columns.set(name, typedColumn(known, internal, (v) => v));
        continue;
      }
    }
    const values = await src.read(c);
    let field = known;
    if (inferring) {
      const inferred = inferColumn(name, values, src.first, schema ?? undefined, infer);
      if (!inferred.ok) {
        inferRefusal = earlier(inferRefusal, { row: inferred.row, phase: inferred.merging ? 1 : 0, order: order[c], error: inferred.refusal });
        continue;
      }
      // A type of no value (all null, empty lists…) leaves a new column out, as the row path does.
      if (inferred.type !== undefined) {
        const piece: NestedField = { id: 0, name, required: false, type: inferred.type };
        pieces.push({ at: inferred.at, order: order[c], field: piece });
        if (known) {
          // A known struct with its new fields, as the conversion needs it. A union the schema's
          // checks refuse is refused again, in its turn, when the writer evolves the schema.
          try {
            field = unionByName({ type: "struct", "schema-id": 0, fields: [known] }, { type: "struct", fields: [piece] }, 1 << 30, { inferred: true }).schema.fields[0];
          } catch (e) {
            failed.set(name, e);
            continue;
          }
        } else field = piece;
      }
    }
    if (!field) {
      // Not a field of the schema (nor of the first one, when this source creates it).
      if (unknownFields === "error") {
        const r = values.findIndex((v) => v !== null && v !== undefined);
        if (r >= 0) unknownRefusal = earlier(unknownRefusal, { row: src.first + r, phase: 0, order: order[c], error: unknownFieldError(src.first + r, name) });
      }
      continue;
    }
    if (inferRefusal || unknownRefusal) continue; // those come before any conversion
    try {
      const convert = fieldConverter(field, { unknownFields });
      columns.set(name, typedColumn(field, values, (v, r) => convert(v, src.first + r, name)));
    } catch (e) {
      failed.set(name, e);
    }
  }
  if (inferRefusal) throw inferRefusal.error;
  pieces.sort((a, b) => a.at - b.at || a.order - b.order);
  const shape: StructType = { type: "struct", fields: pieces.map((p) => p.field) };

  return {
    shape,
    batch(final: Schema): TypedBatch {
      // The row converter checks unknown fields in every row before it converts any column.
      if (unknownRefusal) throw unknownRefusal.error;
      const out: Column[] = [];
      for (const f of final.fields) {
        if (failed.has(f.name)) throw failed.get(f.name);
        let col = columns.get(f.name);
        if (!col) {
          // A field the source has no values for: null in every row, or refused at the first if required.
          if (src.rowCount) fieldConverter(f, { unknownFields })(undefined, src.first, f.name);
          col = newColumn(columnKind(f.type), src.rowCount);
          for (let r = 0; r < src.rowCount; r++) col.appendNull();
          approxBytes += 8 * src.rowCount;
        }
        out.push(col);
      }
      return { typed: true, columns: out, rowCount: src.rowCount, approxBytes };
    },
  };
}

const isStruct = (f: NestedField) => typeof f.type === "object" && f.type.type === "struct";

/**
 * Each name's place among a row object's keys, as `for…in` lists them: names that are array
 * indices ("0", "17") first, ascending, then the others in the order they were added (the source's).
 */
function keyOrder(names: readonly string[]): number[] {
  const index = (n: string) => (/^(?:0|[1-9]\d{0,9})$/.test(n) && Number(n) < 4294967295 ? Number(n) : -1);
  const ranked = names.map((n, c) => ({ c, i: index(n) }));
  ranked.sort((a, b) => (a.i >= 0 && b.i >= 0 ? a.i - b.i : a.i >= 0 ? -1 : b.i >= 0 ? 1 : a.c - b.c));
  const out = new Array<number>(names.length);
  ranked.forEach((r, k) => (out[r.c] = k));
  return out;
}
