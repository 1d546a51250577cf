import { FloeError } from "./errors.js";

const PART = /^[a-z_][a-z0-9_]{0,127}$/;

export interface TableName {
  namespace: string;
  table: string;
  /** `namespace.table`, the table's one name everywhere (Durable Object, messages, status). */
  full: string;
}

export const DEFAULT_NAMESPACE = "default";

/**
 * Parses `table` or `namespace.table`, each part `[a-z_][a-z0-9_]{0,127}`. Nothing else passes,
 * so a name can never reach another R2 key (no `/`, `..`, or encoded separators).
 */
export function parseTableName(raw: string): TableName {
  const parts = raw.split(".");
  if (parts.length > 2 || !parts.every((p) => PART.test(p))) {
    throw new FloeError("invalid_input", `invalid table name ${JSON.stringify(raw.slice(0, 140))}: use [a-z_][a-z0-9_]{0,127}, optionally as namespace.table`, { details: { table: raw.slice(0, 140) } });
  }
  const [namespace, table] = parts.length === 2 ? parts : [DEFAULT_NAMESPACE, parts[0]];
  return { namespace, table, full: `${namespace}.${table}` };
}
