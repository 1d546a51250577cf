import { FloeError } from "../errors.js";
import type { IcebergType } from "../iceberg/types.js";

/**
 * Rows given column by column: the top-level names, and each column's values (what row objects
 * would hold under that name, undefined for none) read on demand, so that a reader may keep only
 * one column's JS values alive at a time. Parquet row groups, Arrow record batches and CSV batches
 * come as these (`decodeGroups`); `BatchWriter.writeColumns` writes them into typed columns.
 */
export interface ColumnSource {
  /** Index of the first row in the file, for refusals. */
  first: number;
  rowCount: number;
  names: string[];
  read(i: number): Promise<unknown[]>;
  /**
   * Column `i`'s values already as the row converter makes them for a table field of `type`
   * (`InternalValue`s: a timestamp's microseconds, a long as a bigint or number), null for none, when
   * the source holds them as exactly that type (a Parquet INT64 TIMESTAMP(MICROS, UTC) column for a
   * `timestamptz` field): the values need no text round trip. Undefined when it cannot say (then `read`).
   */
  readInternal?(i: number, type: IcebergType): Promise<unknown[] | undefined>;
}

/**
 * Rows [from, to) of columns as objects, every name a key in the columns' order. A column named
 * `__proto__` is an own property, as JSON.parse makes it (`row.__proto__ = v` would set the row's
 * prototype, or do nothing, and lose the column).
 */
export function rowsOf(names: readonly string[], values: readonly (readonly unknown[])[], from: number, to: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = new Array(to - from);
  for (let r = from; r < to; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) {
      if (names[c] === "__proto__") Object.defineProperty(row, "__proto__", { value: values[c][r], enumerable: true, writable: true, configurable: true });
      else row[names[c]] = values[c][r];
    }
    rows[r - from] = row;
  }
  return rows;
}

/** The rows of column sources, at most `batchRows` a time (a source read whole, column by column). */
export async function* sourceRows(sources: AsyncIterable<ColumnSource>, batchRows: number): AsyncGenerator<Record<string, unknown>[]> {
  for await (const src of sources) {
    const values: unknown[][] = [];
    for (let i = 0; i < src.names.length; i++) values.push(await src.read(i));
    for (let from = 0; from < src.rowCount; from += batchRows) yield rowsOf(src.names, values, from, Math.min(src.rowCount, from + batchRows));
  }
}

/** Refuses two top-level columns of one name (rows could hold only one of them), naming the format. */
export function uniqueNames(names: readonly string[], format: string, label: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new FloeError("invalid_input", `${label}: two top-level columns are named ${JSON.stringify(name)}`, { details: { format, column: name } });
    seen.add(name);
  }
}
