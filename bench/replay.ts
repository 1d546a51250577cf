// Benchmark: replaying the quarantine. 200 quarantined messages of ~128 KB NDJSON each (the most one
// replay call takes, each the largest a message can be) are sent back to the queue by the real
// `replayQuarantine`; the baseline, in the same run, is only reading the same 200 records, the I/O
// a replay cannot avoid.
import type { Env } from "../src/config.js";
import { rpc } from "../src/errors.js";
import { quarantine } from "../src/queue/quarantine.js";
import { replayQuarantine } from "../src/queue/replay.js";
import { buildMessages } from "./batch.js";

/** Quarantines 200 messages of ~128 KB (two consumer batches' worth) as retries exhausted. */
export async function prepareReplay(env: Env, table: string, run: string) {
  const messages = [...buildMessages(table, `${run}-a`), ...buildMessages(table, `${run}-b`)];
  for (const [i, m] of messages.entries()) await quarantine(env, table, { id: `${run}-${i}`, attempts: 11, body: m }, "bench: retries exhausted", "retries_exhausted");
  return { entries: messages.length, bytes: messages.reduce((n, m) => n + m.ndjson.length, 0) };
}

/** The baseline: reads every waiting entry's record, as a replay must, and nothing else. */
export async function readRecords(env: Env, table: string) {
  const { entries } = await rpc(env.TABLES.get(env.TABLES.idFromName(table)).quarantine(table, { state: "quarantined", limit: 200 }));
  let bytes = 0;
  for (const e of entries) bytes += (await (await env.LAKE.get(e.key))!.arrayBuffer()).byteLength;
  return { records: entries.length, bytes };
}

export async function runReplay(env: Env, table: string) {
  const r = await replayQuarantine(env, table, { all: true });
  return { replayed: r.replayed.length, skipped: r.skipped.length, more: r.more };
}
