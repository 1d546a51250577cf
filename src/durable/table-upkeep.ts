import type { Env } from "../config.js";
import { leaseMs } from "../config.js";
import { FloeError, isFloeError } from "../errors.js";
import { InjectedCrash, maybeFail, parseFaults, type FaultPoint } from "../faults.js";
import type { CompactionJob } from "../iceberg/maintenance/compaction-plan.js";
import { commitCompaction, type SegmentOut, type StepOut } from "../iceberg/maintenance/compaction-run.js";
import type { Schema } from "../iceberg/types.js";
import type { CommitGate } from "../iceberg/maintenance/expire.js";
import { maintainTable, maintenanceSchedule, nextRunAt, scheduledActions, type MaintenanceAction, type MaintenanceReport } from "../iceberg/maintenance/maintain.js";
import { currentSchema } from "../iceberg/metadata.js";
import type { LoadedTable, TableLocation } from "../iceberg/table.js";
import { compactMessage } from "../queue/messages.js";
import type { ObjectStore } from "../storage/object-store.js";
import { addJobs, busyInputs, endJob, finishStep, getJob, jobFiles, leaseStep, pruneJobs, runningJobs, stalledJobs, stepCount, type StoredJob } from "./compactions.js";
import { errorText, log } from "../log.js";
import { getMeta, setMeta } from "./keys.js";
import { maintenanceStateOf, type TableConfig } from "./table-info.js";

const DAY_MS = 86_400_000;
/** A running compaction job that has not moved for this many step leases has lost its message: it is sent again. */
const IDLE_LEASES = 2;

/** A compaction step leased to a consumer run (`run`), or how long another run still holds it (`busyMs`). */
export interface StepLease {
  busyMs: number;
  run: { job: CompactionJob; schema: Schema; step: number; segments: SegmentOut[]; codec?: string; location: TableLocation } | null;
}

/** What the table's Durable Object lends its upkeep: its storage, its cached table, its serial chain. */
export interface UpkeepHost {
  sql: SqlStorage;
  env: Env;
  storage: DurableObjectStorage;
  store(): ObjectStore;
  location(): TableLocation;
  config(): TableConfig;
  loaded(name: string, fresh?: boolean): Promise<LoadedTable | null>;
  reconcile(): Promise<void>;
  serial<T>(fn: () => Promise<T>): Promise<T>;
  table(): LoadedTable | null | undefined;
  setTable(t: LoadedTable | undefined): void;
}

/**
 * The table's maintenance, run inside its Durable Object and serialized with its commits: runs of
 * the maintenance actions (on demand and from the alarm), the compaction job ledger and the
 * commits of finished jobs. The pure work is `iceberg/maintenance/`; this is where it meets the
 * object's storage, the queue and the alarm.
 */
export class TableUpkeep {
  constructor(private readonly host: UpkeepHost) {}

  /** Runs maintenance actions now and records the run; the jobs it plans go to the queue. */
  async run(name: string, actions: MaintenanceAction[], opts: { dryRun?: boolean; olderThanMs?: number }): Promise<MaintenanceReport> {
    // One run at a time (the alarm's and the endpoint's take turns); ingest's commits wait only for
    // a run's own commits (the gate), not for its reads, deletes and listings.
    const run = this.runs.then(async () => {
      const report = await this.runNow(name, actions, opts);
      log("maintenance", { table: name, actions, dryRun: report.dryRun, ms: report.durationMs, snapshotsExpired: report.expireSnapshots?.snapshotsExpired, orphans: report.removeOrphans?.orphans, compactionJobs: report.compact?.jobs, dataFiles: report.files?.dataFiles, smallFiles: report.files?.smallFiles });
      return report;
    });
    this.runs = run.catch(() => undefined);
    return run;
  }

  private runs: Promise<unknown> = Promise.resolve();

  private async runNow(name: string, actions: MaintenanceAction[], opts: { dryRun?: boolean; olderThanMs?: number }): Promise<MaintenanceReport> {
    const gate: CommitGate = {
      commit: (fn) =>
        this.host.serial(async () => {
          // A commit left in doubt is settled from the lake first: its batch ids must be read from
          // its snapshot (the newest, which retention always keeps) before the table changes again.
          await this.host.loaded(name);
          await this.host.reconcile();
          try {
            const t = await fn(this.host.table() ?? null);
            this.host.setTable(t);
            return t;
          } catch (e) {
            this.host.setTable(undefined); // it may have committed before failing: read the lake again
            throw e;
          }
        }),
    };
    await gate.commit(async (t) => {
      if (!t) throw new FloeError("not_found", `table ${name} does not exist`, { details: { table: name } });
      return t;
    });
    const now = Date.now();
    const faults = parseFaults(this.host.env.FLOE_FAULTS);
    let r: Awaited<ReturnType<typeof maintainTable>>;
    try {
      r = await maintainTable(this.host.store(), this.host.location(), this.host.table()!, actions, { now, dryRun: opts.dryRun, olderThanMs: opts.olderThanMs, busy: busyInputs(this.host.sql), keep: jobFiles(this.host.sql), fault: (p) => maybeFail(faults, p as FaultPoint), gate });
    } catch (e) {
      this.host.setTable(undefined); // it may have committed before failing: read the lake again
      throw e;
    }
    if (!opts.dryRun) {
      this.host.storage.transactionSync(() => {
        setMeta(this.host.sql, "last_maintenance", JSON.stringify(r.report));
        if (actions.includes("expire-snapshots")) {
          setMeta(this.host.sql, "commits_since_maintenance", "0");
          setMeta(this.host.sql, "last_maintenance_at", String(now));
        }
        if (actions.includes("remove-orphans")) setMeta(this.host.sql, "last_orphans_at", String(now));
        addJobs(this.host.sql, r.jobs, currentSchema(r.table.metadata), now);
      });
      // Each job's steps run on the queue, one per message, so that they fit a Worker invocation
      // and take turns with ingest instead of blocking this object.
      for (let i = 0; i < r.jobs.length; i += 100) await this.host.env.INGEST.sendBatch(r.jobs.slice(i, i + 100).map((j) => ({ body: compactMessage(name, j.id) })));
    }
    return r.report;
  }

  /**
   * A compaction job's next step, leased to the caller (the consumer, on a `compact` message), how
   * long another run still holds it, or null when there is none to run: the job ended, or only
   * the commit was left (it is done here, now, serialized with ingest).
   */
  async step(name: string, id: string): Promise<StepLease | null> {
    const { sql } = this.host;
    setMeta(sql, "name", name);
    const now = Date.now();
    const held = getJob(sql, id);
    // Another run holds the step (a duplicate message, or a run that crashed: its lease runs out).
    if (held?.state === "running" && held.leaseUntil > now) return { busyMs: held.leaseUntil - now, run: null };
    const j = leaseStep(sql, id, now, this.stepLeaseMs());
    if (!j) return null;
    if (j.step >= stepCount(j.job) - 1) {
      await this.host.serial(() => this.commitJob(name, j));
      return null;
    }
    const segments = j.outputs.flatMap((o) => ("segment" in o ? [o.segment] : []));
    return { busyMs: 0, run: { job: j.job, schema: j.schema, step: j.step, segments, codec: this.host.config().properties["write.parquet.compression-codec"], location: this.host.location() } };
  }

  async stepDone(name: string, id: string, step: number, out: StepOut): Promise<boolean> {
    setMeta(this.host.sql, "name", name);
    const j = finishStep(this.host.sql, id, step, out, Date.now());
    if (!j) return false; // a repeated step (its message came twice): the first one counted
    if (j.step < stepCount(j.job) - 1) return true;
    await this.host.serial(() => this.commitJob(name, j));
    return false;
  }

  async failed(name: string, id: string, reason: string): Promise<void> {
    setMeta(this.host.sql, "name", name);
    const j = getJob(this.host.sql, id);
    if (j?.state !== "running") return;
    endJob(this.host.sql, id, "cancelled", reason, Date.now());
    await this.dropSegments(j);
  }

  private async commitJob(name: string, j: StoredJob): Promise<void> {
    const output = j.outputs.at(-1);
    if (!output || !("output" in output)) throw new FloeError("internal", `compaction job ${j.job.id} reached its commit without an output file`);
    await this.host.loaded(name);
    await this.host.reconcile();
    try {
      const r = await commitCompaction(this.host.store(), this.host.location(), this.host.table()!, j.job, output.output);
      this.host.setTable(r.table);
      maybeFail(parseFaults(this.host.env.FLOE_FAULTS), "compact-after-commit");
      this.host.storage.transactionSync(() => {
        endJob(this.host.sql, j.job.id, "done", null, Date.now());
        setMeta(this.host.sql, "metadata_location", r.table.metadataLocation);
        setMeta(this.host.sql, "commits_since_maintenance", String(Number(getMeta(this.host.sql, "commits_since_maintenance") ?? 0) + 1));
      });
    } catch (e) {
      if (e instanceof InjectedCrash) {
        this.host.setTable(undefined);
        throw e;
      }
      if (!isFloeError(e, "commit_conflict") || e.details?.stale === undefined) {
        this.host.setTable(undefined);
        throw e;
      }
      // Inputs no longer live: either this very job committed before a crash (its snapshot says
      // so), or something else replaced them first; then the job ends and is planned again.
      const t = await this.host.loaded(name, true);
      const landed = t?.metadata.snapshots.some((s) => s.summary["floe.compaction-job"] === j.job.id);
      endJob(this.host.sql, j.job.id, landed ? "done" : "cancelled", landed ? null : e.message, Date.now());
    }
    await this.dropSegments(j);
  }

  /** Segments are never referenced by a snapshot: deleted once their job ends (orphan removal catches any left). */
  private async dropSegments(j: StoredJob): Promise<void> {
    const keys = j.outputs.flatMap((o) => ("segment" in o ? [o.segment.key] : []));
    if (keys.length) await this.host.store().delete(keys).catch(() => undefined);
  }

  /** When the alarm should next look in: automatic maintenance due, or (while jobs run) a look for a stalled one. */
  nextAlarm(now: number): number {
    const { sql } = this.host;
    const runAt = nextRunAt(maintenanceSchedule(this.properties()), maintenanceStateOf(sql), now);
    const jobsAt = runningJobs(sql) ? now + this.idleMs() : Number.POSITIVE_INFINITY;
    return Math.min(runAt ?? Number.POSITIVE_INFINITY, jobsAt);
  }

  /**
   * The alarm's part: ended jobs forgotten after a week, stalled jobs sent again, and an automatic
   * run when one is due. A failed run is logged and tried again after a back-off; ingest is never
   * blocked by it.
   */
  async onAlarm(now: number): Promise<void> {
    const { sql, env } = this.host;
    pruneJobs(sql, now, 7 * DAY_MS);
    const name = getMeta(sql, "name");
    if (!name) return;
    const stalled = stalledJobs(sql, now, this.idleMs());
    if (stalled.length) await env.INGEST.sendBatch(stalled.map((id) => ({ body: compactMessage(name, id) })));
    const schedule = maintenanceSchedule(this.properties());
    const due = nextRunAt(schedule, maintenanceStateOf(sql), now);
    if (due === null || due > now) return;
    try {
      await this.run(name, scheduledActions(schedule, maintenanceStateOf(sql), now), {});
    } catch (e) {
      log("maintenance", { table: name, outcome: "failed, tried again later", error: errorText(e) }, "warn");
      setMeta(sql, "maintenance_not_before", String(now + Math.min(60_000, schedule.intervalMs))); // back off a minute (or the interval)
    }
  }

  /** How long a consumer run holds a step: five claim leases (5 minutes; `FLOE_LEASE_MS` shortens it in tests). */
  private stepLeaseMs(): number {
    return 5 * leaseMs(this.host.env);
  }

  private idleMs(): number {
    return IDLE_LEASES * this.stepLeaseMs();
  }

  private properties(): Record<string, string> {
    return this.host.table()?.metadata.properties ?? this.host.config().properties;
  }
}
