// Child process of `npm run bench`: runs the bench Worker's bundle (the exact code workerd runs)
// in Node under a given V8 heap limit, and POSTs to it, in order, each path given; the file (or
// "-" for none) streams in as the body of the first. Prints {"ok":true,…} if every request
// succeeded; Node exits with an OOM error if the work did not fit. Run with --expose-gc when there
// are set-up steps before the measured one. The runtime stand-ins it needs: bench-node-env.mjs.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { nodeEnv } from "./bench-node-env.mjs";

const [bundle, file, ...paths] = process.argv.slice(2);
const mod = await import(pathToFileURL(bundle).href);
const env = nodeEnv(mod);
let peak = 0;
let start; // heap after the set-up steps, if any: what the measured step starts from
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
let ok = true;
let json;
for (const [i, path] of paths.entries()) {
  const body = i === 0 && file !== "-" ? Readable.toWeb(createReadStream(file, { highWaterMark: 65536 })) : "{}";
  const res = await mod.default.fetch(new Request(`http://bench${path}`, { method: "POST", body, duplex: "half" }), env);
  json = await res.json();
  ok &&= res.ok;
  // Steps before the last only set up (e.g. build the queue batch): collect their garbage and
  // sample the last step alone, from a heap that holds what it starts with (the batch).
  if (i < paths.length - 1 && globalThis.gc) {
    globalThis.gc();
    peak = start = process.memoryUsage().heapUsed;
  }
}
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage().heapUsed);
console.log(JSON.stringify({ ok, rows: json.rows, result: json, heapUsedPeak: peak, heapUsedAtStart: start }));
process.exit(0); // nothing left to wait for: do not linger on idle handles
