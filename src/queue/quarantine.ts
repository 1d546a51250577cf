import type { Env } from "../config.js";
import { bindingStore } from "../storage/lake.js";

/**
 * Nothing accepted is silently lost: a message that cannot be written (a row that does not fit,
 * an unknown table, retries exhausted) is kept under `quarantine/{table}/{date}/` with its reason
 * and original body, where it can be read and replayed.
 */
export async function quarantine(env: Env, table: string, message: { id: string; attempts: number; body: unknown }, reason: string, code: string): Promise<string> {
  const at = new Date();
  const key = `quarantine/${table.replace(/[^a-z0-9_.]/g, "_")}/${at.toISOString().slice(0, 10)}/${at.getTime()}-${message.id}.json`;
  const store = bindingStore(env);
  // A staged request's rows are not in its message: keep a copy beside the record, since staged
  // bodies are swept after a few days (sweepStaging) and a replay must still find them.
  const staged = (message.body as { kind?: unknown; stagingKey?: unknown } | null)?.kind === "staged" ? String((message.body as { stagingKey: string }).stagingKey) : undefined;
  let stagedCopy: string | undefined;
  if (staged) stagedCopy = await store.copy(staged, key.replace(/\.json$/, ".ndjson")).then((o) => o.key, () => undefined);
  const record = { table, reason, code, attempts: message.attempts, quarantinedAt: at.toISOString(), message: message.body, ...(stagedCopy ? { stagedBody: stagedCopy } : {}) };
  await store.put(key, JSON.stringify(record, null, 2), { contentType: "application/json" });
  try {
    await env.TABLES.get(env.TABLES.idFromName(table)).quarantined(table, 1);
  } catch {
    // The count is for status only; the record itself is written.
  }
  return key;
}
