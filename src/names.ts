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

/**
 * A request's id: a UUID version 7 (RFC 9562: its first 48 bits are the time in ms, so a status
 * lookup can tell a request too old to be remembered from one not yet consumed) and, after `~`, the
 * table whose object keeps its receipt, so `GET /v1/requests/{id}` needs nothing else. Written here
 * because `crypto.randomUUID` makes only version 4, and seven lines do not need a dependency.
 */
export function newRequestId(table: string, now = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 5, t = now; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}~${table}`;
}

const REQUEST_ID = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}~(.+)$/;

/** The table and time of a request id made by `newRequestId`; a 400 naming the id otherwise. */
export function parseRequestId(id: string): { table: TableName; at: number } {
  const m = REQUEST_ID.exec(id);
  if (!m) throw new FloeError("invalid_input", `invalid request id ${JSON.stringify(id.slice(0, 200))}: expected the requestId a 202 answered`, { details: { requestId: id.slice(0, 200) } });
  const table = parseTableName(m[3]);
  if (table.full !== m[3]) throw new FloeError("invalid_input", `invalid request id ${JSON.stringify(id.slice(0, 200))}: its table is written ${table.full}`, { details: { requestId: id.slice(0, 200) } });
  return { table, at: parseInt(m[1] + m[2], 16) };
}
