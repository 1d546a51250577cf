import type { Env } from "../config.js";
import { rpc } from "../errors.js";
import type { UploadMessage } from "../queue/messages.js";
import { lakeConfig } from "../config.js";
import { objectId } from "./ingest.js";
import { INCOMING, routeObject, uploadRules } from "./routing.js";

export interface ReconcileResult {
  listed: number;
  enqueued: number;
  tooNew: number;
  notRoutable: number;
}

/**
 * R2 notifications can be lost: every few minutes (and on `POST /v1/admin/reconcile`) the upload
 * prefixes are listed and every object older than the grace period that its table's ledger does
 * not know is enqueued, as its notification would have been. A notification that was only late
 * finds the object already known (or is deduplicated by its version key).
 */
export async function reconcile(env: Env, now = Date.now()): Promise<ReconcileResult> {
  const grace = Number(env.RECONCILE_GRACE_SECONDS ?? 300) * 1000;
  const bucket = lakeConfig(env).LAKE_BUCKET;
  const prefixes = [INCOMING, ...uploadRules(env).map((r) => r.prefix)];
  const byTable = new Map<string, UploadMessage[]>();
  const result: ReconcileResult = { listed: 0, enqueued: 0, tooNew: 0, notRoutable: 0 };
  const seen = new Set<string>();
  for (const prefix of prefixes) {
    let cursor: string | undefined;
    do {
      const page = await env.LAKE.list({ prefix, cursor });
      for (const o of page.objects) {
        if (seen.has(o.key)) continue;
        seen.add(o.key);
        result.listed++;
        if (now - o.uploaded.getTime() < grace) {
          result.tooNew++;
          continue;
        }
        let table: string;
        try {
          table = routeObject(env, o.key).table;
        } catch (e) {
          const t = (e as { details?: { table?: string } }).details?.table;
          if (!t) {
            result.notRoutable++;
            continue;
          }
          table = t; // enqueued anyway: ingesting it records the failure in the table's ledger
        }
        const m: UploadMessage = { v: 1, kind: "upload", bucket, key: o.key, eTag: o.etag, size: o.size };
        if (!byTable.has(table)) byTable.set(table, []);
        byTable.get(table)!.push(m);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  for (const [table, msgs] of byTable) {
    const stub = env.TABLES.get(env.TABLES.idFromName(table));
    for (let i = 0; i < msgs.length; i += 100) {
      const chunk = msgs.slice(i, i + 100);
      const known = new Set(await rpc(stub.knownUploads(table, chunk.map(objectId))));
      const unknown = chunk.filter((m) => !known.has(objectId(m)));
      if (unknown.length) await env.INGEST.sendBatch(unknown.map((body) => ({ body })));
      result.enqueued += unknown.length;
    }
  }
  return result;
}
