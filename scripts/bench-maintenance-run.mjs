// Child process of scripts/bench-maintenance.mjs: runs the maintenance bench Worker's bundle in Node
// (lake, queue and alarm stood in by bench-node-env.mjs) and POSTs the given paths in order, printing
// the last answer as JSON. With DUMP_DIR set, the table's data files are written there after the
// first path (the compaction inputs, for DuckDB to rewrite beside us).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { nodeEnv } from "./bench-node-env.mjs";

const [bundle, ...paths] = process.argv.slice(2);
const mod = await import(pathToFileURL(bundle).href);
const env = nodeEnv(mod);
let json;
for (const [i, path] of paths.entries()) {
  const res = await mod.default.fetch(new Request(`http://bench${path}`, { method: "POST", body: "{}" }), env);
  json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  if (i === 0 && process.env.DUMP_DIR) {
    rmSync(process.env.DUMP_DIR, { recursive: true, force: true });
    mkdirSync(process.env.DUMP_DIR, { recursive: true });
    let n = 0;
    for (const [key, bytes] of env.LAKE.objects) if (key.includes("/data/") && key.endsWith(".parquet")) writeFileSync(join(process.env.DUMP_DIR, `in-${n++}.parquet`), bytes);
  }
}
console.log(JSON.stringify({ ok: true, result: json }));
process.exit(0);
