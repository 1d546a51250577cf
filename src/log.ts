/**
 * Floe's log: one JSON object per line (`wrangler tail --format json`, Workers Logs and Logpush
 * index its fields), with the ids an operator follows an event by (`requestId`, `batchId`, `table`,
 * `snapshotId`, `fence`) and timings in ms. Only what is passed is logged: never a header, a body,
 * a token or a URL's query. Fields with value `undefined` are left out.
 *
 * @example
 * log("commit", { table: "default.events", batchId, snapshotId: "123", ms: 41 });
 * // {"level":"info","event":"commit","table":"default.events","batchId":"…","snapshotId":"123","ms":41,"at":"…"}
 */
export type LogEvent = "request" | "batch" | "commit" | "quarantine" | "replay" | "maintenance" | "compaction" | "reconcile" | "staging" | "retry" | "upload" | "drop" | "purge" | "discard" | "access" | "error";

export function log(event: LogEvent, fields: Record<string, unknown>, level: "info" | "warn" | "error" = "info"): void {
  const line = JSON.stringify({ level, event, ...fields, at: new Date().toISOString() }, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** An error's message for a log line, without its stack (which may quote input), cut to a readable length. */
export function errorText(e: unknown): string {
  return String((e as Error)?.message ?? e).slice(0, 500);
}
