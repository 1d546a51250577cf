import type { CompactionJob } from "../iceberg/maintenance/compaction-plan.js";
import type { StepOut } from "../iceberg/maintenance/compaction-run.js";
import { fromTagged, toTagged } from "../iceberg/tagged-json.js";
import type { Schema } from "../iceberg/types.js";

/**
 * The compaction jobs of one table, in its Durable Object's SQLite: each job's plan, the schema its
 * segments are written with, the outputs of the steps done so far, and a lease on the step being
 * run. Steps run one per queue message (so each fits a Worker invocation); the ledger makes a step
 * that ran twice (a redelivered message) harmless and lets a job survive any crash between steps.
 */
export function migrateCompactions(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS compactions (
    id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    schema TEXT NOT NULL,
    step INTEGER NOT NULL,
    outputs TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    lease_until INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL)`);
}

export type JobState = "running" | "done" | "cancelled";

type Row = {
  id: string;
  job: string;
  schema: string;
  step: number;
  outputs: string;
  state: JobState;
  reason: string | null;
  lease_until: number;
  created: number;
  updated: number;
};

export interface StoredJob {
  job: CompactionJob;
  schema: Schema;
  /** The next step: segments are 0..n-1, then (with several segments) the join, then the commit. */
  step: number;
  outputs: StepOut[];
  state: JobState;
  reason: string | null;
  leaseUntil: number;
  updated: number;
}

const decode = (r: Row): StoredJob => ({
  job: JSON.parse(r.job) as CompactionJob,
  schema: JSON.parse(r.schema) as Schema,
  step: r.step,
  outputs: fromTagged(JSON.parse(r.outputs)) as StepOut[],
  state: r.state,
  reason: r.reason,
  leaseUntil: r.lease_until,
  updated: r.updated,
});

/** Steps a job has: one per segment, a join when there are several, and the commit. */
export const stepCount = (job: CompactionJob) => job.segments.length + (job.segments.length > 1 ? 1 : 0) + 1;

export function addJobs(sql: SqlStorage, jobs: readonly CompactionJob[], schema: Schema, now: number): void {
  for (const j of jobs) sql.exec("INSERT INTO compactions (id, job, schema, step, outputs, state, reason, lease_until, created, updated) VALUES (?, ?, ?, 0, '[]', 'running', NULL, 0, ?, ?)", j.id, JSON.stringify(j), JSON.stringify(schema), now, now);
}

export function getJob(sql: SqlStorage, id: string): StoredJob | undefined {
  const r = sql.exec<Row>("SELECT * FROM compactions WHERE id = ?", id).toArray()[0];
  return r ? decode(r) : undefined;
}

/** Takes a lease on the job's next step, or undefined when it is finished or another run holds the step. */
export function leaseStep(sql: SqlStorage, id: string, now: number, leaseMs: number): StoredJob | undefined {
  const j = getJob(sql, id);
  if (!j || j.state !== "running" || j.leaseUntil > now) return undefined;
  sql.exec("UPDATE compactions SET lease_until = ?, updated = ? WHERE id = ?", now + leaseMs, now, id);
  return { ...j, leaseUntil: now + leaseMs };
}

/** Records a finished step (only the step the job is at: a repeated one changes nothing) and frees the lease. */
export function finishStep(sql: SqlStorage, id: string, step: number, out: StepOut | null, now: number): StoredJob | undefined {
  const j = getJob(sql, id);
  if (!j || j.state !== "running" || j.step !== step) return undefined;
  const outputs = out ? [...j.outputs, out] : j.outputs;
  sql.exec("UPDATE compactions SET step = ?, outputs = ?, lease_until = 0, updated = ? WHERE id = ?", step + 1, JSON.stringify(toTagged(outputs)), now, id);
  return { ...j, step: step + 1, outputs, leaseUntil: 0 };
}

export function endJob(sql: SqlStorage, id: string, state: "done" | "cancelled", reason: string | null, now: number): void {
  sql.exec("UPDATE compactions SET state = ?, reason = ?, lease_until = 0, updated = ? WHERE id = ?", state, reason, now, id);
}

/** How many jobs are running (cheap: checked after every commit to schedule the alarm). */
export function runningJobs(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM compactions WHERE state = 'running'").one().n;
}

/** Input files of running jobs: a new plan leaves them out. */
export function busyInputs(sql: SqlStorage): Set<string> {
  const out = new Set<string>();
  for (const r of sql.exec<{ job: string }>("SELECT job FROM compactions WHERE state = 'running'")) for (const f of (JSON.parse(r.job) as CompactionJob).inputs) out.add(f.path);
  return out;
}

/**
 * Store keys of what running jobs wrote (segments, an output not yet committed): not referenced by
 * any snapshot yet, but not orphans either, however old.
 */
export function jobFiles(sql: SqlStorage): Set<string> {
  const out = new Set<string>();
  for (const r of sql.exec<{ outputs: string }>("SELECT outputs FROM compactions WHERE state = 'running'")) {
    for (const o of fromTagged(JSON.parse(r.outputs)) as StepOut[]) out.add("segment" in o ? o.segment.key : o.output.filePath);
  }
  return out;
}

/** Running jobs that have not moved for `idleMs`: their message was lost (or its retries ran out). */
export function stalledJobs(sql: SqlStorage, now: number, idleMs: number): string[] {
  return sql.exec<{ id: string }>("SELECT id FROM compactions WHERE state = 'running' AND updated < ? AND lease_until < ?", now - idleMs, now).toArray().map((r) => r.id);
}

/** Jobs by state, and the last few ended ones with their reasons, for the table status. */
export function compactionStatus(sql: SqlStorage): { running: number; done: number; cancelled: number; recent: { id: string; state: JobState; reason: string | null; inputs: number; updatedAt: string }[] } {
  const counts = { running: 0, done: 0, cancelled: 0 };
  for (const r of sql.exec<{ state: JobState; n: number }>("SELECT state, count(*) AS n FROM compactions GROUP BY state")) counts[r.state] = r.n;
  // Counted by SQLite: the status is read on every claim, and a job's plan can name thousands of files.
  const recent = sql
    .exec<{ id: string; state: JobState; reason: string | null; inputs: number; updated: number }>("SELECT id, state, reason, json_array_length(job, '$.inputs') AS inputs, updated FROM compactions ORDER BY updated DESC LIMIT 5")
    .toArray()
    .map((r) => ({ id: r.id, state: r.state, reason: r.reason, inputs: r.inputs, updatedAt: new Date(r.updated).toISOString() }));
  return { ...counts, recent };
}

/** Forgets ended jobs older than `keepMs`. */
export function pruneJobs(sql: SqlStorage, now: number, keepMs: number): void {
  sql.exec("DELETE FROM compactions WHERE state != 'running' AND updated < ?", now - keepMs);
}
