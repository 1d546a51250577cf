import { FloeError } from "../../errors.js";
import { numberProperty } from "../properties.js";
import type { ObjectStore } from "../../storage/object-store.js";
import { currentSnapshot, type Snapshot } from "../metadata.js";
import { manifestEntries, snapshotManifests } from "../transaction/manifests.js";
import type { DataFile } from "../data-file.js";
import { compactionSettings, minFileBytes, planCompaction, type CompactionJob } from "./compaction-plan.js";
import type { LoadedTable, TableLocation } from "../table.js";
import { planRewriteManifests, previewRewriteManifests } from "../transaction/replace.js";
import { transact } from "../transaction/transact.js";
import { expireSnapshots, soloGate, type CommitGate, type ExpireReport } from "./expire.js";
import { orphanAgeMs, removeOrphans, type OrphanReport } from "./orphans.js";

export const ACTIONS = ["rewrite-manifests", "compact", "expire-snapshots", "remove-orphans"] as const;
export type MaintenanceAction = (typeof ACTIONS)[number];

/** When automatic maintenance runs (`floe.maintenance.*` table properties). */
export interface MaintenanceSchedule {
  /** `floe.maintenance.enabled` (default true): off for a table whose catalog maintains it. */
  enabled: boolean;
  /** `floe.maintenance.after-commits` (default 50): a run after this many commits… */
  afterCommits: number;
  /** `floe.maintenance.interval-ms` (default 10 min): …or this long after the last run, if anything was committed since. */
  intervalMs: number;
  /** `floe.maintenance.orphans-interval-ms` (default 1 day): how often a run also removes orphans (it lists the whole table). */
  orphansIntervalMs: number;
}

export function maintenanceSchedule(props: Record<string, string>): MaintenanceSchedule {
  const num = (k: string, d: number, min: number) => numberProperty(props, k, d, { min });
  return {
    enabled: props["floe.maintenance.enabled"] !== "false",
    afterCommits: num("floe.maintenance.after-commits", 50, 1),
    intervalMs: num("floe.maintenance.interval-ms", 600_000, 1_000),
    orphansIntervalMs: num("floe.maintenance.orphans-interval-ms", 86_400_000, 1_000),
  };
}

/** What the table's committer remembers between runs. */
export interface MaintenanceState {
  commitsSince: number;
  lastRunAt: number;
  lastOrphansAt: number;
  /** After a failed run, none before this. */
  notBefore?: number;
}

/** When the next automatic run is due (ms since the epoch), or null when none is (off, or nothing committed). */
export function nextRunAt(s: MaintenanceSchedule, st: MaintenanceState, now: number): number | null {
  if (!s.enabled || st.commitsSince === 0) return null;
  const at = st.commitsSince >= s.afterCommits ? now : Math.max(now, st.lastRunAt + s.intervalMs);
  return Math.max(at, st.notBefore ?? 0);
}

/** The actions of an automatic run: compaction planning and expiry each time, orphans at their own interval. Manifests are merged on every commit already. */
export function scheduledActions(s: MaintenanceSchedule, st: MaintenanceState, now: number): MaintenanceAction[] {
  return now - st.lastOrphansAt >= s.orphansIntervalMs ? ["compact", "expire-snapshots", "remove-orphans"] : ["compact", "expire-snapshots"];
}

export interface MaintenanceReport {
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  actions: MaintenanceAction[];
  rewriteManifests?: { manifestsBefore: number; manifestsAfter: number; snapshotId: string | null };
  expireSnapshots?: ExpireReport;
  removeOrphans?: OrphanReport;
  /** The current snapshot's data files after the run. */
  files?: FileStats;
  /** Compaction jobs this run started (their steps run on the queue; progress shows in the table status). */
  compact?: { jobs: number; inputFiles: number; inputBytes: number };
}

export interface FileStats {
  dataFiles: number;
  bytes: number;
  /** Files under `floe.compaction.min-file-size-bytes`: what compaction would rewrite. */
  smallFiles: number;
}

/** The current snapshot's live data files, with the spec each was written with (reads its manifests). */
export async function liveFiles(store: ObjectStore, loc: TableLocation, t: LoadedTable): Promise<{ specId: number; dataFile: DataFile }[]> {
  const out: { specId: number; dataFile: DataFile }[] = [];
  for (const mf of await snapshotManifests(store, loc, currentSnapshot(t.metadata))) {
    if (mf.content !== 0) continue;
    for (const e of await manifestEntries(store, loc, mf)) if (e.status !== 2) out.push({ specId: mf.partitionSpecId, dataFile: e.dataFile });
  }
  return out;
}

export function fileStats(live: readonly { dataFile: DataFile }[], small: number): FileStats {
  return {
    dataFiles: live.length,
    bytes: live.reduce((n, f) => n + f.dataFile.fileSizeInBytes, 0),
    smallFiles: live.filter((f) => f.dataFile.fileSizeInBytes < small).length,
  };
}

/**
 * Runs the table-local maintenance actions in a safe order (merge manifests, expire, then look for
 * orphans, so the scan sees the files expiry just released as already deleted) and reports what
 * each did or, in a dry run, would do. `protect` keeps snapshots the committer still needs (a commit
 * in doubt). `compact` only plans here (files of `busy` jobs left out): the jobs rewrite data, and
 * the caller runs them (the Durable Object through the queue, a step per invocation; tests inline).
 * `gate` makes the commits (and only them) exclusive with the table's other writers.
 */
export async function maintainTable(
  store: ObjectStore,
  loc: TableLocation,
  table: LoadedTable,
  actions: readonly MaintenanceAction[],
  opts: { now: number; dryRun?: boolean; olderThanMs?: number; protect?: (s: Snapshot) => boolean; busy?: ReadonlySet<string>; keep?: ReadonlySet<string>; fault?: (point: string) => void; gate?: CommitGate },
): Promise<{ table: LoadedTable; report: MaintenanceReport; jobs: CompactionJob[] }> {
  for (const a of actions) if (!ACTIONS.includes(a)) throw new FloeError("invalid_input", `unknown maintenance action "${a}" (one of ${ACTIONS.join(", ")})`, { details: { field: "actions" } });
  const started = Date.now();
  const report: MaintenanceReport = { dryRun: opts.dryRun ?? false, startedAt: new Date(opts.now).toISOString(), durationMs: 0, actions: [...actions] };
  let t = table;
  if (actions.includes("rewrite-manifests")) {
    let counts = { manifestsBefore: 0, manifestsAfter: 0, snapshotId: null as string | null };
    const plan = async (b: LoadedTable) => {
      const p = await planRewriteManifests(store, loc, b, { now: opts.now });
      counts = p ? { manifestsBefore: p.manifestsBefore, manifestsAfter: p.manifestsAfter, snapshotId: String(p.snapshotId) } : { ...(await previewRewriteManifests(store, loc, b)), snapshotId: null };
      return p;
    };
    const base = t;
    if (opts.dryRun) counts = { ...(await previewRewriteManifests(store, loc, t)), snapshotId: null };
    else t = await (opts.gate ?? soloGate).commit(async (current) => (await transact(store, loc, (b) => plan(b!), { base: current ?? base })).table);
    report.rewriteManifests = counts;
  }
  if (actions.includes("expire-snapshots")) {
    const r = await expireSnapshots(store, loc, t, { now: opts.now, olderThanMs: opts.olderThanMs, protect: opts.protect, dryRun: opts.dryRun, fault: opts.fault, gate: opts.gate });
    t = r.table;
    report.expireSnapshots = r.report;
  }
  if (actions.includes("remove-orphans")) {
    report.removeOrphans = await removeOrphans(store, loc, t, { now: opts.now, olderThanMs: opts.olderThanMs ?? orphanAgeMs(t.metadata.properties), dryRun: opts.dryRun, keep: opts.keep, fault: opts.fault });
  }
  const live = await liveFiles(store, loc, t);
  report.files = fileStats(live, minFileBytes(t.metadata.properties));
  let jobs: CompactionJob[] = [];
  if (actions.includes("compact")) {
    jobs = planCompaction(loc, live, compactionSettings(t.metadata.properties), opts.busy);
    report.compact = { jobs: jobs.length, inputFiles: jobs.reduce((n, j) => n + j.inputs.length, 0), inputBytes: jobs.reduce((n, j) => n + j.inputs.reduce((m, f) => m + f.bytes, 0), 0) };
  }
  report.durationMs = Date.now() - started;
  return { table: t, report, jobs };
}
