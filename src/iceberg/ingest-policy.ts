import { FloeError } from "../errors.js";
import { numberProperty } from "./properties.js";
import { walkFields } from "./schema.js";
import type { StructType } from "./types.js";

/**
 * How a table takes rows it was not told the shape of: how numbers are typed when a column is
 * inferred, and the limits that keep one request from bloating the table for ever (every column
 * is repeated in every metadata file the table writes from then on). Table properties set each;
 * the deployment sets the default number policy (`FLOE_INFER_NUMBERS`).
 */
export interface IngestPolicy {
  /**
   * `double` (the default): every inferred number is a double. JSON has one number type, and the
   * most common producer (JavaScript: `JSON.stringify(1.0)` is `"1"`) cannot tell 1.0 from 1, so
   * a column first seen as `0` must still take `1.5` later; Iceberg cannot widen long to double,
   * so inferring long would refuse those rows for ever. Doubles hold integers exactly up to 2^53,
   * as the producer did. `long`: integral-looking numbers become long (declare doubles with PUT).
   */
  numbers: "double" | "long";
  /** `floe.limit.columns`: fields in the table's schema, nested ones included (default 1000). */
  maxColumns: number;
  /** `floe.limit.depth`: nesting of structs and lists an inferred column may have (default 16). */
  maxDepth: number;
  /** `floe.limit.field-name-length`: characters in a new field's name (default 256). */
  maxNameLength: number;
  /** `floe.limit.rows-per-request`: rows one request may carry (default 100,000). */
  maxRows: number;
  /** `floe.limit.new-columns-per-request`: distinct new fields one request may add (default 100). */
  maxNewColumns: number;
}

export const POLICY_PROPERTIES = {
  numbers: "floe.infer.numbers",
  maxColumns: "floe.limit.columns",
  maxDepth: "floe.limit.depth",
  maxNameLength: "floe.limit.field-name-length",
  maxRows: "floe.limit.rows-per-request",
  maxNewColumns: "floe.limit.new-columns-per-request",
} as const;

export const DEFAULT_POLICY: IngestPolicy = { numbers: "double", maxColumns: 1000, maxDepth: 16, maxNameLength: 256, maxRows: 100_000, maxNewColumns: 100 };

/** The policy a table's properties set (a malformed value falls back to the default, as other properties do). */
export function ingestPolicy(props: Record<string, string>, defaultNumbers?: string): IngestPolicy {
  const num = (props[POLICY_PROPERTIES.numbers] ?? defaultNumbers ?? "").trim().toLowerCase();
  const n = (key: keyof typeof POLICY_PROPERTIES) => numberProperty(props, POLICY_PROPERTIES[key], DEFAULT_POLICY[key] as number, { min: 1, integer: true });
  return {
    numbers: num === "long" ? "long" : "double",
    maxColumns: n("maxColumns"),
    maxDepth: n("maxDepth"),
    maxNameLength: n("maxNameLength"),
    maxRows: n("maxRows"),
    maxNewColumns: n("maxNewColumns"),
  };
}

/** Refuses a table property of the policy that is set to something it cannot mean (PUT names it). */
export function checkPolicyProperties(props: Record<string, string>): void {
  for (const [key, name] of Object.entries(POLICY_PROPERTIES)) {
    const v = props[name];
    if (v === undefined) continue;
    const ok = key === "numbers" ? ["long", "double"].includes(v.trim().toLowerCase()) : /^\s*[1-9]\d*\s*$/.test(v);
    if (!ok) throw new FloeError("invalid_input", `property ${name} is ${JSON.stringify(v)}: ${key === "numbers" ? "use long or double" : "use a positive integer"}`, { details: { field: `properties.${name}` } });
  }
}

/**
 * A refusal that names the limit (its property), its value and the field: `invalid_input` (400)
 * like any other row that does not fit, so that every path refusing rows (the edge's listing, the
 * consumer's quarantine, an upload's failure) treats it as one.
 */
export function limitError(limit: string, value: number, message: string, details: Record<string, unknown> = {}): FloeError {
  return new FloeError("invalid_input", message, { details: { limit, value, ...details } });
}

/** The paths of `shape`'s fields (nested ones included) that `before` does not have, in order. */
function addedPaths(shape: StructType, before: StructType | null): { had: number; added: string[] } {
  const had = new Set(before ? [...walkFields(before)].map((f) => f.path) : []);
  return { had: had.size, added: [...walkFields(shape)].map((f) => f.path).filter((p) => !had.has(p)) };
}

/**
 * Refuses a schema with more fields than the table allows (`after`: the table's schema after the
 * change); the refusal names the first field the change adds.
 */
export function checkColumns(after: StructType, before: StructType | null, policy: IngestPolicy, table: string): void {
  let n = 0;
  for (const _ of walkFields(after)) n++;
  if (n <= policy.maxColumns) return;
  const field = addedPaths(after, before).added[0];
  throw limitError(POLICY_PROPERTIES.maxColumns, policy.maxColumns, `table ${table} would have ${n} columns (nested fields count), over its limit of ${policy.maxColumns} (property ${POLICY_PROPERTIES.maxColumns})${field ? `; the first new one is "${field}"` : ""}`, { field, columns: n });
}

/**
 * Refuses a request whose inferred `shape` adds more new fields (nested ones included) than one
 * request may, or more than the table may hold: the edge's early answer (the table's object
 * checks the column limit again when it commits the change, `checkColumns`).
 */
export function checkGrowth(shape: StructType, before: StructType | null, policy: IngestPolicy, table: string): void {
  const { had, added } = addedPaths(shape, before);
  if (added.length > policy.maxNewColumns) {
    const field = added[policy.maxNewColumns];
    throw limitError(POLICY_PROPERTIES.maxNewColumns, policy.maxNewColumns, `the request adds ${added.length} new fields, over the limit of ${policy.maxNewColumns} per request (property ${POLICY_PROPERTIES.maxNewColumns}); the first past the limit is "${field}"`, { field, count: added.length });
  }
  const total = had + added.length;
  if (total > policy.maxColumns) {
    const field = added[Math.max(0, policy.maxColumns - had)];
    throw limitError(POLICY_PROPERTIES.maxColumns, policy.maxColumns, `table ${table} would have ${total} columns (nested fields count), over its limit of ${policy.maxColumns} (property ${POLICY_PROPERTIES.maxColumns}); the first past the limit is "${field}"`, { field, columns: total });
  }
}

/** Refuses a request with more rows than the table takes in one. */
export function checkRows(count: number, policy: IngestPolicy, table: string): void {
  if (count <= policy.maxRows) return;
  throw limitError(POLICY_PROPERTIES.maxRows, policy.maxRows, `the request holds ${count} rows, over the limit of ${policy.maxRows} per request for table ${table} (property ${POLICY_PROPERTIES.maxRows}): split it`, { rows: count });
}
