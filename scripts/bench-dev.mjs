// `wrangler dev` for the benchmarks: on a free loopback port, with its state under bench-out/ (never
// the repo's .wrangler/, which `npm start` uses), in its own process group so that stopping it
// stops the workerd processes it started and nothing else.
import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `wrangler dev -c <config>` with `vars(base)` as `--var`s (the S3 endpoint depends on the
 * port) and resolves once `probe(base)` answers; `stop()` ends its process group.
 */
export async function startDev({ config, name, vars = () => ({}), probe = (base) => fetch(base) }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const state = join(process.cwd(), "bench-out", `state-${name}`);
  rmSync(state, { recursive: true, force: true });
  const varArgs = Object.entries(vars(base)).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn("npx", ["wrangler", "dev", "-c", config, "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--log-level", "error", ...varArgs], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const stop = () => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ } };
  process.on("exit", stop);
  for (let i = 0; ; i++) {
    try { await probe(base); break; } catch { /* not up yet */ }
    if (i > 300) { stop(); throw new Error(`wrangler dev -c ${config} did not start:\n${log}`); }
    await sleep(200);
  }
  return { base, pid: child.pid, stop, log: () => log };
}

/** The workerd processes under a wrangler dev we started (it runs two: a proxy and the Worker with the local R2). */
export function workerdPids(rootPid) {
  const table = execFileSync("ps", ["-eo", "pid=,ppid=,comm="], { encoding: "utf8" }).trim().split("\n").map((l) => l.trim().split(/\s+/));
  const found = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    for (const [cpid, ppid, comm] of table) {
      if (Number(ppid) !== pid) continue;
      if (comm === "workerd") found.push(Number(cpid));
      stack.push(Number(cpid));
    }
  }
  return found;
}
