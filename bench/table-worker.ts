// The bench Worker of the table benchmarks (`npm run bench`): the largest consumer batch and commit
// throughput, run against the real TableDO and the lake through R2's S3 API, as production runs.
// Kept apart from worker.ts so that the conversion benchmark's bundle (and its heap) stays the core alone.
import type { Env } from "../src/config.js";
import type { EventsMessage } from "../src/queue/messages.js";
import { buildMessages, consumeMessages } from "./batch.js";
import { commitBench } from "./commits.js";
import { prepareReplay, readRecords, runReplay } from "./replay.js";

export { TableDO } from "../src/durable/table-do.js";
export { CatalogDO } from "../src/durable/catalog-do.js";

/** Built by `/batch/prepare`, consumed by `/batch/run`, so the timed request excludes generating the batch. */
let prepared: EventsMessage[] | undefined;

/**
 * `POST /batch/prepare?table=&run=`, then `POST /batch/run?table=`: the largest consumer batch (batch.ts).
 * `POST /commits?table=&n=&concurrency=`: commit throughput of one table (commits.ts).
 * `POST /replay/prepare?table=&run=`, `/replay/read?table=`, `/replay/run?table=`: quarantine replay (replay.ts).
 */
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const { pathname, searchParams } = new URL(req.url);
    const table = searchParams.get("table") ?? "bench.events";
    if (pathname === "/batch/prepare") {
      prepared = buildMessages(table, searchParams.get("run") ?? crypto.randomUUID());
      return Response.json({ messages: prepared.length, bytes: prepared.reduce((n, m) => n + m.ndjson.length, 0) });
    }
    if (pathname === "/batch/run" && prepared) {
      const messages = prepared;
      prepared = undefined;
      return Response.json(await consumeMessages(env, table, messages));
    }
    if (pathname === "/replay/prepare") return Response.json(await prepareReplay(env, table, searchParams.get("run") ?? crypto.randomUUID()));
    if (pathname === "/replay/read") return Response.json(await readRecords(env, table));
    if (pathname === "/replay/run") return Response.json(await runReplay(env, table));
    if (pathname === "/commits") {
      return Response.json(await commitBench(env, table, Number(searchParams.get("n") ?? 300), Number(searchParams.get("concurrency") ?? 1)));
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
