// `npm run demo`, with `npm start` running: sends sample events, waits for their commit, and
// prints the rows read back from the Iceberg table by icebird (a reader Floe did not write).
import { readFileSync } from "node:fs";
import { icebergRead } from "icebird";
import { pointFetchAtLake } from "./lake-fetch.mjs";

const base = process.env.FLOE_URL ?? "http://127.0.0.1:8787";
const vars = Object.fromEntries(readFileSync(".dev.vars", "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
const auth = { Authorization: `Bearer ${vars.FLOE_INGEST_TOKEN}` };
const table = "demo_events";

const status = async () => {
  const res = await fetch(`${base}/v1/tables/${table}`, { headers: auth });
  return res.status === 404 ? { totalRecords: 0 } : res.json();
};

const before = (await status()).totalRecords;
const events = ["signup", "login", "purchase", "login", "logout"].map((type, i) => ({
  event_id: `${Date.now()}-${i}`,
  type,
  user: `user_${i % 3}`,
  amount: type === "purchase" ? 42.5 : null,
  at: new Date(Date.now() + i).toISOString(),
}));
const res = await fetch(`${base}/v1/tables/${table}/events`, {
  method: "POST",
  headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": `demo-${Date.now()}` },
  body: JSON.stringify(events),
});
console.log(`POST /v1/tables/${table}/events → ${res.status}`, await res.json());

const t0 = Date.now();
let s;
do {
  await new Promise((r) => setTimeout(r, 500));
  s = await status();
} while (s.totalRecords < before + events.length && Date.now() - t0 < 60_000);
if (s.totalRecords < before + events.length) throw new Error(`the events did not land within 60 s: ${JSON.stringify(s)}`);
console.log(`committed after ${Date.now() - t0} ms: snapshot ${s.currentSnapshotId}, ${s.totalRecords} rows in ${s.dataFiles} files, metadata ${s.metadataLocation}`);

pointFetchAtLake({ endpoint: vars.S3_ENDPOINT.replace(/127\.0\.0\.1:\d+/, new URL(base).host), accessKeyId: vars.S3_ACCESS_KEY_ID, secretAccessKey: vars.S3_SECRET_ACCESS_KEY });
const tableUrl = s.metadataLocation.replace(/\/metadata\/[^/]+$/, "");
const rows = await icebergRead({ tableUrl });
console.log(`read back by icebird from ${tableUrl}:`);
console.table(rows.slice(-20).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v instanceof Date ? v.toISOString() : v]))));
