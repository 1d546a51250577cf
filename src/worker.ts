import type { Env } from "./config.js";
import { app } from "./http/app.js";
import { consume } from "./queue/consumer.js";

export { TableDO } from "./durable/table-do.js";
export { SourceDO } from "./durable/source-do.js";

/** The Worker: the HTTP API, and the consumer of the ingest queue and its dead-letter queue. */
export default {
  fetch: app.fetch,
  queue: consume,
} satisfies ExportedHandler<Env>;
