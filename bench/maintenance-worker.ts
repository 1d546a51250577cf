// The bench Worker of the maintenance benchmarks (`npm run bench`, scripts/bench-maintenance.mjs):
// the real TableDO and consumer, run in Node with the lake in memory (scripts/bench-node-env.mjs),
// where the harness also plays the queue and the alarm clock. Node only: it calls the object's
// alarm itself and reads the process's heap.
import type { Env } from "../src/config.js";
import { rpc } from "../src/errors.js";
import { compileRowConverter } from "../src/iceberg/rows.js";
import type { StructType } from "../src/iceberg/types.js";
import { PartitionedFileWriter } from "../src/iceberg/write-files.js";
import { parseTableName } from "../src/names.js";
import { consume } from "../src/queue/consumer.js";
import { lakeStore, locationOf } from "../src/storage/lake.js";
import { BENCH_SCHEMA } from "./worker.js";

export { TableDO } from "../src/durable/table-do.js";
export { CatalogDO } from "../src/durable/catalog-do.js";

type Queue = { take(): MessageBatch<unknown> & { messages: { acked: boolean; retried: boolean }[] } };
const SMALL: StructType = { type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "event", required: false, type: "string" }] };

/** Rows like the conversion benchmark's events (9 columns). */
function events(from: number, n: number): Record<string, unknown>[] {
  const kinds = ["click", "view", "purchase", "signup", "logout"];
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { id: i, ts: new Date(1_700_000_000_000 + i * 997).toISOString(), user_id: `user_${(i * 7919) % 50_000}`, event: kinds[i % 5], amount: Math.round(i * 13.37) / 100, quantity: i % 17, is_mobile: i % 3 === 0, country: ["US", "DE", "FR"][i % 3], session: `s-${Math.floor(i / 20)}` };
  });
}

/** One commit through the real protocol: claim `rows.length` keys, one Parquet file of them, commit. Answers the commit's time. */
async function commitRows(env: Env, table: string, rows: Record<string, unknown>[], key: string): Promise<number> {
  const stub = env.TABLES.get(env.TABLES.idFromName(table));
  const batchId = crypto.randomUUID();
  const claim = await rpc(stub.claim(table, batchId, rows.map((_, i) => `${key}:${i}`)));
  const schema = claim.info.schema!;
  const w = new PartitionedFileWriter(lakeStore(env), locationOf(env, parseTableName(table)), schema, claim.info.partitionSpec!);
  await w.write(compileRowConverter(schema, { unknownFields: "ignore" })(rows, 0));
  const files = await w.finish();
  const t = performance.now();
  await rpc(stub.commit(table, batchId, claim.fence, files, { schemaId: schema["schema-id"], specId: claim.info.partitionSpec!["spec-id"] }));
  return performance.now() - t;
}

/** Runs the table's alarm when it is due (workerd would), and delivers what maintenance queued to the real consumer, a message an invocation. */
async function runDue(env: Env, table: string, steps?: (ms: number, heap: number) => void): Promise<void> {
  const obj = env.TABLES.get(env.TABLES.idFromName(table)) as unknown as { alarm(): Promise<void>; ctx: DurableObjectState };
  const at = await obj.ctx.storage.getAlarm();
  if (at !== null && at <= Date.now()) await obj.alarm();
  await drain(env, steps);
}

async function drain(env: Env, steps?: (ms: number, heap: number) => void): Promise<void> {
  const queue = env.INGEST as unknown as Queue;
  for (let batch = queue.take(); batch.messages.length; batch = queue.take()) {
    for (const m of batch.messages) {
      const one = { ...batch, messages: [m] } as unknown as MessageBatch<unknown>;
      (globalThis as { gc?: () => void }).gc?.();
      let peak = process.memoryUsage().heapUsed;
      const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
      const t = performance.now();
      await consume(one, env);
      clearInterval(sample);
      steps?.(performance.now() - t, Math.max(peak, process.memoryUsage().heapUsed));
      if (m.retried) throw new Error(`a maintenance message was retried: ${JSON.stringify(m)}`);
    }
  }
}

/**
 * `POST /history?table=&n=&maintenance=on|off&checkpoints=100,1000`: n small commits to one table,
 * the commit time averaged over the 20 commits up to each checkpoint, with the table's state there.
 * `POST /compaction/prepare?table=&files=&rows=`: a table of `files` commits of `rows` events each.
 * `POST /compaction/run?table=`: maintenance (compact) on demand, its steps through the consumer; time and heap per step.
 */
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const { pathname, searchParams } = new URL(req.url);
    const table = searchParams.get("table") ?? "bench.history";
    const stub = env.TABLES.get(env.TABLES.idFromName(table));
    if (pathname === "/history") {
      const n = Number(searchParams.get("n") ?? 1000);
      const on = searchParams.get("maintenance") !== "off";
      const checkpoints = (searchParams.get("checkpoints") ?? "100,1000").split(",").map(Number);
      await rpc(stub.configure(table, { schema: SMALL, properties: { "floe.maintenance.enabled": String(on) } }));
      const times: number[] = [];
      const out: Record<string, unknown>[] = [];
      for (let i = 1; i <= n; i++) {
        times.push(await commitRows(env, table, [{ id: i, event: "click" }], `h${i}`));
        if (on) await runDue(env, table);
        if (checkpoints.includes(i)) {
          const info = await rpc(stub.info(table));
          const window = times.slice(-20);
          out.push({ commit: i, ms: window.reduce((a, b) => a + b, 0) / window.length, metadataBytes: info.metadataFileBytes, snapshots: info.snapshots, dataFiles: info.dataFiles, totalRecords: info.totalRecords });
        }
      }
      return Response.json({ maintenance: on, checkpoints: out });
    }
    if (pathname === "/compaction/prepare") {
      const files = Number(searchParams.get("files") ?? 100);
      const rows = Number(searchParams.get("rows") ?? 5000);
      await rpc(stub.configure(table, { schema: BENCH_SCHEMA, properties: { "floe.maintenance.enabled": "false" } }));
      for (let f = 0; f < files; f++) await commitRows(env, table, events(f * rows, rows), `c${f}`);
      const info = await rpc(stub.info(table));
      return Response.json({ dataFiles: info.dataFiles, bytes: info.averageFileBytes * info.dataFiles, totalRecords: info.totalRecords });
    }
    if (pathname === "/compaction/run") {
      const t = performance.now();
      const report = await rpc(stub.maintain(table, { actions: ["compact"] }));
      const steps: { ms: number; heap: number }[] = [];
      await drain(env, (ms, heap) => steps.push({ ms, heap }));
      const info = await rpc(stub.info(table));
      return Response.json({ ms: performance.now() - t, report, steps, dataFiles: info.dataFiles, totalRecords: info.totalRecords, compaction: info.maintenance.compaction });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
