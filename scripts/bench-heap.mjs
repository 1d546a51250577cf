// Child process of `npm run bench`: runs the bench Worker's bundle (the exact code workerd runs)
// in Node under a given V8 heap limit, streaming the NDJSON file as the request body.
// Prints {"ok":true,…} if the conversion completed. Node exits with an OOM error if it did not fit.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

const [bundle, file] = process.argv.slice(2);
const worker = (await import(pathToFileURL(bundle).href)).default;
let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
const body = Readable.toWeb(createReadStream(file, { highWaterMark: 65536 }));
const res = await worker.fetch(new Request("http://bench/convert?source=body", { method: "POST", body, duplex: "half" }));
const json = await res.json();
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage().heapUsed);
console.log(JSON.stringify({ ok: res.ok, rows: json.rows, heapUsedPeak: peak }));
