import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A running `wrangler dev` started by a test. */
export interface WranglerDev {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** The local S3 API wrangler serves for the R2 buckets: `${url}/cdn-cgi/local/r2/s3`. */
  s3Endpoint: string;
  /** Kills the process group and removes the persistence folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Everything wrangler printed so far (stdout and stderr interleaved), for failure messages. */
  logs(): string;
}

export interface WranglerDevOptions {
  /** Worker variables, passed as `--var KEY:VALUE` (they override `[vars]` and `.dev.vars`). */
  vars?: Record<string, string>;
  /** Port to listen on; a free one is picked when absent. */
  port?: number;
  /** A wrangler config file to run instead of the repository's `wrangler.toml` (`--config`). */
  config?: string;
  /** How long to wait for the server to answer before failing with its logs (default 90 s). */
  timeoutMs?: number;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LOG_LIMIT = 200_000;
// wrangler colours its output even when piped; the escapes make failure messages unreadable.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Starts `wrangler dev` on 127.0.0.1 in the repository root with its own persistence folder (so runs
 * never share local R2/DO/Queue state) and resolves once the server answers HTTP. On timeout or early
 * exit it rejects with wrangler's output, so a broken Worker shows up as a readable test failure.
 *
 * @example
 * const dev = await startWranglerDev({ vars: { AUTO_CREATE_TABLES: "false" } });
 * try { await fetch(`${dev.url}/healthz`); } finally { await dev.stop(); }
 */
export async function startWranglerDev(opts: WranglerDevOptions = {}): Promise<WranglerDev> {
  const port = opts.port ?? (await freePort());
  // The inspector defaults to port 9229: two wrangler processes (parallel test files) would fight for it.
  const inspectorPort = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), "floe-wrangler-"));
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", persistTo, "--show-interactive-dev-session=false", "--log-level", "log");
  if (opts.config) args.push("--config", opts.config);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push("--var", `${k}:${v}`);

  // wrangler 4 needs Node >= 22.12. Under `npx vitest` this process already runs the project's Node 22
  // (the `node` devDependency), so run wrangler's entry with it directly; otherwise go through npx,
  // which puts node_modules/.bin (and so that Node) first on PATH.
  const [major, minor] = process.versions.node.split(".").map(Number);
  const modern = major > 22 || (major === 22 && minor >= 12);
  const [cmd, cmdArgs] = modern
    ? [process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args]]
    : ["npx", ["wrangler", ...args]];
  // detached: the child leads its own process group, so stop() can kill wrangler and the workerd it spawns.
  const child = spawn(cmd, cmdArgs, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
  });

  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString().replace(ANSI, "");
    if (output.length > LOG_LIMIT) output = output.slice(-LOG_LIMIT);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const killOnExit = () => killGroup(child, "SIGKILL");
  process.once("exit", killOnExit);

  let stopped = false;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    // workerd can outlive wrangler by a moment and still be writing its SQLite files into persistTo.
    killGroup(child, "SIGKILL");
    rmSync(persistTo, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };

  const timeoutMs = opts.timeoutMs ?? 90_000;
  const ready = await waitUntilAnswering(url, exited, () => output, timeoutMs);
  if (ready !== "ready") {
    await stop();
    const why =
      ready === "timeout" ? `did not answer within ${timeoutMs} ms` : ready === "error" ? "reported an error while starting" : `exited with code ${ready.code}`;
    throw new Error(`wrangler dev on port ${port} ${why}; its output:\n${output}`);
  }
  return { url, port, s3Endpoint: `${url}/cdn-cgi/local/r2/s3`, stop, logs: () => output };
}

/**
 * Polls until any HTTP answer comes back (even a 500: the server is up), the process exits, wrangler
 * prints an `[ERROR]` (it then stays alive waiting for a file change, so without this we would sit
 * out the whole timeout, e.g. on a Worker that fails to build), or time runs out.
 */
async function waitUntilAnswering(
  url: string,
  exited: Promise<number | null>,
  output: () => string,
  timeoutMs: number,
): Promise<"ready" | "timeout" | "error" | { code: number | null }> {
  let exit: { code: number | null } | undefined;
  void exited.then((code) => (exit = { code }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) return exit;
    if (/\[ERROR\]/.test(output())) return "error";
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return "ready";
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return exit ?? "timeout";
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone (ESRCH): nothing to do.
  }
}

/** A port the OS reports free right now (another process could take it before wrangler binds; rare). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}
