// Benchmark: quarantine replay (bench/replay.ts). 200 quarantined messages of ~128 KB, the most one
// `POST …/quarantine/replay` call takes, each as large as a message can be: the real replay in
// workerd (reads each record, sends them back a sendBatch at a time, marks the entries), beside
// only reading the same records (the I/O a replay cannot avoid) in the same run. Its heap is
// measured with the same bundle in Node, where the bucket is in memory.
const TABLE = "bench.replay";

/** Quarantine the entries (set-up), then replay them (measured). */
export const REPLAY_HEAP_PATHS = [`/replay/prepare?table=${TABLE}&run=heap`, `/replay/run?table=${TABLE}`];

export async function replayTime(post) {
  const prep = await post(`/replay/prepare?table=${TABLE}&run=time`);
  const read = await post(`/replay/read?table=${TABLE}`);
  const run = await post(`/replay/run?table=${TABLE}`);
  if (run.json.replayed !== prep.json.entries || read.json.records !== prep.json.entries) throw new Error(`replay: ${JSON.stringify({ prep: prep.json, read: read.json, run: run.json })}`);
  return { prep: prep.json, read, run };
}

export function replayLines(t, heap, mb) {
  const n = t.prep.entries;
  const h = heap.sampled;
  return [
    `quarantine replay (${n} entries × ${(t.prep.bytes / n / 1024).toFixed(0)} KB NDJSON = ${mb(t.prep.bytes)} MB; the real replay in workerd, records through the R2 binding, messages to a local queue): ${t.run.ms.toFixed(0)} ms, ${(t.run.ms / n).toFixed(1)} ms per entry; baseline, reading the same ${n} records only: ${t.read.ms.toFixed(0)} ms; ratio replay/read ${(t.run.ms / t.read.ms).toFixed(2)}`,
    `  peak heap of the replay (Node, same bundle, the records in an in-memory bucket): heap used ${h ? `${mb(h.heapUsedPeak)} MB, of which ${mb(h.heapUsedAtStart)} MB before replaying (the bucket holding the records, and the code): the replay's own ${mb(h.heapUsedPeak - h.heapUsedAtStart)} MB` : "n/a"}, sampled every 2 ms; set-up and replay complete within a V8 old-space limit of ${heap.limit === Infinity ? "> 128" : heap.limit} MB`,
  ];
}
