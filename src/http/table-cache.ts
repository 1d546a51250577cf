import type { Env } from "../config.js";
import type { TableInfo } from "../durable/table-info.js";
import { rpc } from "../errors.js";

const TTL_MS = 5_000;
const cache = new Map<string, { info: TableInfo; at: number }>();

/**
 * The table's status as its Durable Object answers it, kept for 5 s per isolate: validating every
 * request against the table must not make every request a round trip to one object (about 1,000
 * requests/s each). The consumer re-checks rows against the schema it writes with.
 */
export async function tableInfo(env: Env, table: string): Promise<TableInfo> {
  const hit = cache.get(table);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.info;
  const info = await rpc(env.TABLES.get(env.TABLES.idFromName(table)).info(table));
  cache.set(table, { info, at: Date.now() });
  return info;
}

/** Forgets a table's cached status (after this isolate changed it). */
export function forgetTable(table: string): void {
  cache.delete(table);
}
