import type { ColumnSource } from "../decode/columns.js";
import { isFloeError } from "../errors.js";
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
 * and `batch`, which lays the typed columns out in the evolved schema's order.
 */
export interface ReadSource {
  shape: StructType;
  batch(schema: Schema): TypedBatch;
}

interface Refusal {
  row: number;
  column: number;
  error: unknown;
}

/**
 * Reads a column source into typed columns with exactly the semantics of `BatchWriter.write` on its
 * rows (inference of new fields, then `compileRowConverter`; or, without `infer`, the converter
 * alone, as compaction uses it), a column at a time: each column is
 * inferred and converted as soon as it is read, and only its typed column is kept. Refusals are
 * the ones the row path throws first: an inference refusal at the lowest row (a tie goes to the
 * column that comes first in a row), then in `strict` an unknown field at the lowest row, then the
 * conversion refusal of the first column in schema order. Columns are independent in both paths
 * (a value's inference and conversion depend only on its own column's values), which is what
 * makes the order of these refusals computable column by column.
 */
export async function readSource(src: ColumnSource, target: SourceTarget): Promise<ReadSource> {
  const { schema, infer, unknownFields } = target;
  const byName = new Map((schema?.fields ?? []).map((f) => [f.name, f]));
  const pieces: { at: number; column: number; field: NestedField }[] = [];
  const columns = new Map<string, Column>();
  const failed = new Map<string, unknown>();
  let inferRefusal: Refusal | undefined;
  let unknownRefusal: Refusal | undefined;
  let approxBytes = 0;
  const earlier = (a: Refusal | undefined, b: Refusal) => (!a || b.row < a.row || (b.row === a.row && b.column < a.column) ? b : a);

  for (let c = 0; c < src.names.length; c++) {
    const name = src.names[c];
    const values = await src.read(c);
    const known = byName.get(name);
    let field = known;
    if (infer && (!known || isStruct(known))) {
      let inferred: ReturnType<typeof inferColumn>;
      try {
        inferred = inferColumn(name, values, src.first, schema ?? undefined, infer);
      } catch (e) {
        inferRefusal = earlier(inferRefusal, { row: rowOf(e, src.first), column: c, error: e });
        continue;
      }
      // A type of no value (all null, empty lists…) leaves a new column out, as the row path does.
      if (inferred.type !== undefined) {
        const piece: NestedField = { id: 0, name, required: false, type: inferred.type };
        pieces.push({ at: inferred.at, column: c, field: piece });
        // The type conversion needs: a new field's inferred one, or a known struct with its new fields.
        field = known ? unionByName({ type: "struct", "schema-id": 0, fields: [known] }, { type: "struct", fields: [piece] }, 1 << 30, { inferred: true }).schema.fields[0] : piece;
      }
    }
    if (!field) {
      // Not a field of the schema (nor of the first one, when this source creates it).
      if (unknownFields === "error") {
        const r = values.findIndex((v) => v !== null && v !== undefined);
        if (r >= 0) unknownRefusal = earlier(unknownRefusal, { row: src.first + r, column: c, error: unknownFieldError(src.first + r, name) });
      }
      continue;
    }
    if (inferRefusal || unknownRefusal) continue; // those are thrown before any conversion
    try {
      const convert = fieldConverter(field, { unknownFields });
      const col = newColumn(columnKind(field.type), values.length);
      for (let r = 0; r < values.length; r++) {
        const v = convert(values[r], src.first + r, name);
        col.appendValue(v as never);
        approxBytes += typeof v === "string" ? v.length + 4 : 8;
      }
      columns.set(name, col);
    } catch (e) {
      failed.set(name, e);
    }
  }
  if (inferRefusal) throw inferRefusal.error;
  if (unknownRefusal) throw unknownRefusal.error;
  pieces.sort((a, b) => a.at - b.at || a.column - b.column);
  const shape: StructType = { type: "struct", fields: pieces.map((p) => p.field) };

  return {
    shape,
    batch(final: Schema): TypedBatch {
      const out: Column[] = [];
      for (const f of final.fields) {
        if (failed.has(f.name)) throw failed.get(f.name);
        let col = columns.get(f.name);
        if (!col) {
          // A field the source has no values for: null in every row, or refused at the first if required.
          const convert = fieldConverter(f, { unknownFields });
          col = newColumn(columnKind(f.type), src.rowCount);
          for (let r = 0; r < src.rowCount; r++) {
            convert(undefined, src.first + r, f.name);
            col.appendNull();
          }
          approxBytes += 8 * src.rowCount;
        }
        out.push(col);
      }
      return { typed: true, columns: out, rowCount: src.rowCount, approxBytes };
    },
  };
}

const isStruct = (f: NestedField) => typeof f.type === "object" && f.type.type === "struct";

/** The row a refusal names (inference's refusals all carry it). */
function rowOf(e: unknown, fallback: number): number {
  const row = isFloeError(e) ? e.details?.row : undefined;
  return typeof row === "number" ? row : fallback;
}
