// The bench Worker of the large-upload benchmark (`npm run bench`, scripts/bench-uploads.mjs): a big
// file put into the local R2 bucket, then upload messages handed to the real consumer (`consume`)
// one queue batch at a time, exactly as Cloudflare Queues would hand them, with the real TableDO
// and the lake written through the S3 API that wrangler dev serves. The same bundle runs in Node
// (scripts/bench-uploads.mjs, child mode) to measure the heap of each invocation.
import type { Env } from "../src/config.js";
import { rpc } from "../src/errors.js";
import type { IngestMessage } from "../src/queue/messages.js";
import { consume } from "../src/queue/consumer.js";

export { TableDO } from "../src/durable/table-do.js";
export { CatalogDO } from "../src/durable/catalog-do.js";

/**
 * `PUT /object?key=`: streams the body into the lake bucket (as an S3 PUT or the upload endpoint
 * would); answers `{key, eTag, size}`.
 * `POST /consume`: the body is a JSON array of queue message bodies, consumed as ONE queue batch
 * (one consumer invocation). What the consumer sends to the queue (the range messages of a split
 * object) is not delivered: it is answered as `sent`, for the caller to deliver as later batches.
 * `GET /status?table=`: the table's status and its uploads ledger.
 */
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const { pathname, searchParams } = new URL(req.url);
    if (pathname === "/object" && req.method === "PUT") {
      const key = searchParams.get("key")!;
      const put = await env.LAKE.put(key, req.body, { httpMetadata: { contentType: req.headers.get("content-type") ?? "application/octet-stream" } });
      return Response.json({ key, eTag: put.etag, size: put.size });
    }
    if (pathname === "/consume") {
      const bodies = (await req.json()) as unknown[];
      const sent: IngestMessage[] = [];
      const queue = {
        send: async (body: IngestMessage) => void sent.push(body),
        sendBatch: async (msgs: Iterable<{ body: IngestMessage }>) => void sent.push(...[...msgs].map((m) => m.body)),
      } as unknown as Queue<IngestMessage>;
      let acked = 0;
      const retried: unknown[] = [];
      const batch = {
        queue: "floe-ingest",
        messages: bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), body, attempts: 1, ack: () => acked++, retry: (o: unknown) => retried.push(o ?? {}) })),
        ackAll: () => undefined,
        retryAll: () => undefined,
      } as unknown as MessageBatch<unknown>;
      const t = Date.now();
      await consume(batch, { ...env, INGEST: queue });
      return Response.json({ messages: bodies.length, acked, retried: retried.length, sent, ms: Date.now() - t });
    }
    if (pathname === "/status") {
      const table = searchParams.get("table")!;
      const stub = env.TABLES.get(env.TABLES.idFromName(table));
      const info = await rpc(stub.info(table));
      const uploads = await rpc(stub.uploads(table, { limit: 100 }));
      return Response.json({ totalRecords: info.totalRecords, dataFiles: info.dataFiles, quarantined: info.quarantined, fields: info.schema?.fields.length ?? 0, uploads });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
