import type { TableInfo } from "../durable/table-info.js";
import { FloeError, isFloeError } from "../errors.js";
import { inferStruct } from "../iceberg/infer.js";
import { checkGrowth, checkRows } from "../iceberg/ingest-policy.js";
import { compileRowConverter } from "../iceberg/rows.js";
import type { StructType } from "../iceberg/types.js";

/** At most this many problems are listed in a 400; the count of all is given beside them. */
export const MAX_LISTED_ERRORS = 20;

/**
 * Refuses a request whose rows do not fit the table, before anything is queued: the whole request
 * is refused (nothing partly accepted), with every bad row listed (up to 20) by index, field and
 * reason, so the client can fix and resend without duplicates. New fields are fine in mode
 * `evolve`; in mode `strict` they are refused. The consumer checks again against the schema it
 * writes with, which may have moved on since.
 */
export function validateRows(info: TableInfo, rows: readonly unknown[]): void {
  checkRows(rows.length, info.policy, info.table);
  const check = (batch: readonly unknown[], first: number) => {
    if (info.schema && info.mode === "strict") {
      compileRowConverter(info.schema, { unknownFields: "error" })(batch, first);
      return;
    }
    // New fields must agree among themselves; known ones must fit the table's types.
    const shape = inferStruct(batch, first, info.schema ?? undefined, info.policy);
    if (info.schema) compileRowConverter(info.schema, { unknownFields: "ignore" })(batch, first);
    return shape;
  };
  let fitting: { shape?: StructType } | undefined;
  try {
    fitting = { shape: check(rows, 0) };
  } catch (e) {
    if (!isFloeError(e, "invalid_input")) throw e;
  }
  if (fitting) {
    // The request's new columns, all rows together, against the table's limits.
    if (fitting.shape) checkGrowth(fitting.shape, info.schema, info.policy, info.table);
    return;
  }
  // Something is wrong: check row by row to list what (the fast path above stops at the first).
  const errors: Record<string, unknown>[] = [];
  let count = 0;
  for (let i = 0; i < rows.length; i++) {
    try {
      check([rows[i]], i);
    } catch (e) {
      if (!isFloeError(e, "invalid_input")) throw e;
      count++;
      if (errors.length < MAX_LISTED_ERRORS) errors.push({ row: i, ...(e.details ?? {}), message: e.message });
    }
  }
  if (count === 0) {
    // Each row is fine alone but they disagree with each other (a new field's type): say so once.
    try {
      check(rows, 0);
    } catch (e) {
      if (isFloeError(e)) throw new FloeError("invalid_input", `rows do not fit table ${info.table}: ${e.message}`, { details: { errors: [{ ...(e.details ?? {}), message: e.message }], count: 1 } });
      throw e;
    }
    return;
  }
  throw new FloeError("invalid_input", `${count} of ${rows.length} rows do not fit table ${info.table}; nothing was accepted`, {
    details: { errors, count, listed: errors.length },
  });
}
