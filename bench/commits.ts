// Benchmark 2, commit throughput of one table: K concurrent writers each run the consumer's commit
// protocol against the real TableDO (claim → one small Parquet file through the lake store →
// commit), so the figure shows what one table's single committer sustains and how much group
// commit folds concurrent commits into fewer snapshots.
import type { Env } from "../src/config.js";
import { rpc } from "../src/errors.js";
import { compileRowConverter } from "../src/iceberg/rows.js";
import type { StructType } from "../src/iceberg/types.js";
import { PartitionedFileWriter } from "../src/iceberg/write-files.js";
import { parseTableName } from "../src/names.js";
import { lakeStore, locationOf } from "../src/storage/lake.js";

const SCHEMA: StructType = {
  type: "struct",
  fields: [
    { id: 0, name: "id", required: false, type: "long" },
    { id: 0, name: "event", required: false, type: "string" },
    { id: 0, name: "amount", required: false, type: "double" },
  ],
};
const KEYS_PER_BATCH = 4;

export async function commitBench(env: Env, table: string, total: number, concurrency: number) {
  const name = parseTableName(table);
  const stub = env.TABLES.get(env.TABLES.idFromName(name.full));
  await rpc(stub.configure(name.full, { schema: SCHEMA }));
  const latencies: number[] = [];
  const snapshots = new Set<string>();
  let next = 0;
  // workerd's clock only moves across I/O; every point read here follows an await on a fetch or RPC.
  const t0 = Date.now();
  const writer = async () => {
    while (next < total) {
      const n = next++;
      const batchId = crypto.randomUUID();
      const keys = Array.from({ length: KEYS_PER_BATCH }, (_, k) => `bench:${n}:${k}`);
      const claim = await rpc(stub.claim(name.full, batchId, keys));
      const schema = claim.info.schema!;
      const files = new PartitionedFileWriter(lakeStore(env), locationOf(env, name), schema, claim.info.partitionSpec!);
      const rows = keys.map((_, k) => ({ id: n * KEYS_PER_BATCH + k, event: "click", amount: k + 0.5 }));
      await files.write(compileRowConverter(schema, { unknownFields: "ignore" })(rows, 0));
      const written = await files.finish();
      const t = Date.now();
      const r = await rpc(stub.commit(name.full, batchId, claim.fence, written, { schemaId: schema["schema-id"], specId: claim.info.partitionSpec!["spec-id"] }));
      latencies.push(Date.now() - t);
      snapshots.add(String(r.snapshotId));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  const ms = Date.now() - t0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const info = await rpc(stub.info(name.full));
  return { commits: latencies.length, ms, p50: pct(50), p99: pct(99), snapshots: snapshots.size, dataFiles: info.dataFiles, totalRecords: info.totalRecords };
}
