import type { Env } from "./config.js";
import { app } from "./http/app.js";
import { log } from "./log.js";
import { consume } from "./queue/consumer.js";
import { sweepStaging } from "./queue/staging.js";
import { reconcile } from "./uploads/reconcile.js";

export { TableDO } from "./durable/table-do.js";
export { SourceDO } from "./durable/source-do.js";
export { CatalogDO } from "./durable/catalog-do.js";
export { TokenRegistry } from "./durable/token-registry.js";

/** The Worker: the HTTP API, the consumer of the ingest queue (and its dead-letter queue), and the cron (upload reconciler, stale staged bodies). */
export default {
  fetch: app.fetch,
  queue: consume,
  scheduled: async (_event, env, ctx) => {
    ctx.waitUntil(reconcile(env).then((r) => log("reconcile", { ...r })));
    ctx.waitUntil(sweepStaging(env).then((r) => r.deleted && log("staging", { deleted: r.deleted })));
  },
} satisfies ExportedHandler<Env>;
