// Benchmark 1, the largest consumer batch (bench/batch.ts): 100 messages of ~128 KB through the
// real consumer and TableDO in workerd. Time here; its heap is measured by bench.mjs with the
// same bundle in Node (BATCH_HEAP_PATHS), as for the conversion.
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TABLE = "bench.batch";

/** The requests that build one batch and consume it (the second is what is measured). */
export const BATCH_HEAP_PATHS = [`/batch/prepare?table=${TABLE}&run=heap`, `/batch/run?table=${TABLE}`];

/** A warm-up batch (it creates the table and warms the JIT), then the best of RUNS fresh batches. */
export async function batchTime(post) {
  let best, last;
  for (let i = 0; i <= RUNS; i++) {
    await post(`/batch/prepare?table=${TABLE}&run=run${i}`);
    const r = await post(`/batch/run?table=${TABLE}`);
    // Every message acked and every event in the table: the batch was really written, once.
    if (r.json.acked !== r.json.messages || r.json.retried || r.json.totalRecords !== (i + 1) * r.json.rows) throw new Error(`batch: ${JSON.stringify(r.json)}`);
    if (i > 0 && (!best || r.ms < best.ms)) best = r;
    last = r;
  }
  return { ...best, filesPerBatch: last.json.dataFiles / (RUNS + 1) };
}

export function batchLines(best, heap, mb) {
  const j = best.json;
  return [
    `largest consumer batch (${j.messages} queue messages × ${(j.ndjsonBytes / j.messages / 1024).toFixed(0)} KB NDJSON = ${mb(j.ndjsonBytes)} MB, ${j.rows} events of ~1 KB in 5 shapes; the real consumer and TableDO in workerd, Parquet and metadata through the local S3 API; best of ${RUNS} after a warm-up): ${best.ms.toFixed(0)} ms, ${Math.round(j.rows / (best.ms / 1000))} events/s, ${best.filesPerBatch} Parquet file(s) and 1 commit per batch`,
    `  peak heap of the batch (Node, same bundle: consumer and TableDO in one heap, lake in memory through the R2 binding path; the batch itself already in memory): heap used ${heap.sampled ? `${mb(heap.sampled.heapUsedPeak)} MB, of which ${mb(heap.sampled.heapUsedAtStart)} MB before consuming (the batch and the code)` : "n/a"}, sampled every 2 ms; completes within a V8 old-space limit of ${heap.limit === Infinity ? "> 128" : heap.limit} MB (aim ≤ 48 MB)`,
  ];
}
