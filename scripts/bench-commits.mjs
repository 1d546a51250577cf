// Benchmark 2, commit throughput of one table (bench/commits.ts): the bench Worker runs K writers
// (claim → one small Parquet file → commit) against the real TableDO; each level gets a fresh table
// so that every run starts from an empty snapshot history. The same bundle also runs in Node with
// the lake in memory (bench.mjs), which separates our CPU from the local lake's I/O.
const COMMITS = Number(process.env.BENCH_COMMITS ?? 300);
export const COMMIT_LEVELS = [1, 8, 32];

export const commitPath = (k) => `/commits?table=bench.commits_${k}&n=${COMMITS}&concurrency=${k}`;

const rate = (r) => (r.commits / (r.ms / 1000)).toFixed(1);

function check(r) {
  if (r?.commits !== COMMITS || r.dataFiles !== COMMITS) throw new Error(`commits: ${JSON.stringify(r)}`);
  return r;
}

export async function commitBench(post) {
  const lines = [`commit throughput, one table (real TableDO in workerd; each commit: claim 4 keys → 1 Parquet file of 4 rows through the local S3 API → commit; ${COMMITS} commits per level):`];
  for (const k of COMMIT_LEVELS) {
    const r = check((await post(commitPath(k))).json);
    lines.push(`  concurrency ${String(k).padStart(2)}: ${rate(r)} files committed/s; commit latency p50 ${r.p50} ms, p99 ${r.p99} ms; ${(r.snapshots / r.commits).toFixed(2)} snapshots per commit (${r.snapshots} snapshots)`);
  }
  return lines;
}

/** `results[i]`: the Node run of COMMIT_LEVELS[i]. */
export function commitNodeLine(results) {
  return `  same bundle in Node, lake in memory (no S3 or local R2 I/O): ${results.map((r, i) => `concurrency ${COMMIT_LEVELS[i]}: ${rate(check(r))} files/s, p50 ${r.p50} ms`).join("; ")}`;
}
