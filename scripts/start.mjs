// `npm start [-- wrangler dev args]`: the service on this machine with nothing to set up.
// Copies .dev.vars.example to .dev.vars on first run, points S3_ENDPOINT at the port wrangler dev
// will serve (the local bucket's S3 API lives there), prints the URL and the dev tokens, and runs
// `wrangler dev` with any extra arguments (e.g. `npm start -- --port 9000`).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("floe: created .dev.vars from .dev.vars.example (local development values)");
}
const vars = Object.fromEntries(
  readFileSync(".dev.vars", "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const portArg = args.findIndex((a) => a === "--port" || a.startsWith("--port="));
const port = portArg === -1 ? 8787 : Number(args[portArg].includes("=") ? args[portArg].split("=")[1] : args[portArg + 1]);
const ipArg = args.findIndex((a) => a === "--ip" || a.startsWith("--ip="));
const host = ipArg === -1 ? "127.0.0.1" : args[ipArg].includes("=") ? args[ipArg].split("=")[1] : args[ipArg + 1];
const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
const s3 = `${url}/cdn-cgi/local/r2/s3`;

console.log(`
floe: starting on ${url}
  ingest token: ${vars.FLOE_INGEST_TOKEN}
  admin token:  ${vars.FLOE_ADMIN_TOKEN}
  Iceberg REST catalog: ${url}/iceberg (warehouse "warehouse", read-only token ${vars.FLOE_CATALOG_TOKEN ?? "(set FLOE_CATALOG_TOKEN)"})
  lake (S3 API of the local R2 bucket): ${s3}/${vars.LAKE_BUCKET ?? "floe-lake"}
  uploads: put files under incoming/{table}/ (S3 API) or PUT ${url}/v1/tables/{table}/uploads/{name}; the reconciler runs every 15 s
  try: curl -X POST ${url}/v1/tables/demo/events -H 'Authorization: Bearer ${vars.FLOE_INGEST_TOKEN}' -H 'Content-Type: application/json' -d '{"id":1,"msg":"hello"}'
`);
const withPort = portArg === -1 ? ["--port", String(port)] : [];
const withIp = ipArg === -1 ? ["--ip", host] : [];
const child = spawn("npx", ["wrangler", "dev", ...withPort, ...withIp, "--var", `S3_ENDPOINT:${s3}`, ...args], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));

// Locally R2 sends no event notifications and wrangler dev runs no crons: run the upload
// reconciler every 15 s instead, so a file put into incoming/{table}/ lands with no manual step.
setInterval(() => {
  fetch(`${url}/v1/admin/reconcile`, { method: "POST", headers: { Authorization: `Bearer ${vars.FLOE_ADMIN_TOKEN}` } }).catch(() => undefined);
}, 15_000).unref();
