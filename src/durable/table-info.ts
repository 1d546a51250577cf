import { quarantineCounts, type QuarantineState } from "./quarantine-ledger.js";
import type { PartitionBy } from "../iceberg/batch-writer.js";
import type { IngestPolicy } from "../iceberg/ingest-policy.js";
import { maintenanceSchedule, nextRunAt, type MaintenanceReport, type MaintenanceState } from "../iceberg/maintenance/maintain.js";
import { currentSchema, currentSnapshot, defaultSpec } from "../iceberg/metadata.js";
import type { LoadedTable, TableLocation } from "../iceberg/table.js";
import type { PartitionSpec, Schema } from "../iceberg/types.js";
import { compactionStatus } from "./compactions.js";
import { externalOutcomes, type ExternalOutcomes } from "./external.js";
import { getMeta } from "./keys.js";
import { uploadCounts, type UploadState } from "./uploads-ledger.js";

/** A table's configuration, held by its Durable Object. */
export interface TableConfig {
  /** `evolve`: unknown fields become new optional columns. `strict`: they are refused. */
  mode: "evolve" | "strict";
  /** A top-level field whose value is the event key (instead of `{Idempotency-Key or request id}:{row}`). */
  idField?: string;
  partitionBy: PartitionBy[];
  /** Iceberg table properties, and Floe's own (`floe.dedupe-window-days`, `write.target-file-size-bytes`, `write.parquet.compression-codec`). */
  properties: Record<string, string>;
}

/** What `GET /v1/tables/{table}` answers, and what the edge and the consumer need to know of a table. */
export interface TableInfo {
  table: string;
  /** The table has metadata in the lake (it has been created). */
  exists: boolean;
  /** `PUT /v1/tables/{table}` has configured it (it may not have data or metadata yet). */
  configured: boolean;
  mode: TableConfig["mode"];
  idField: string | null;
  partitionBy: PartitionBy[];
  properties: Record<string, string>;
  /** Number inference and the limits on what rows may add (the table's properties, ingest-policy.ts). */
  policy: IngestPolicy;
  schema: Schema | null;
  /** The highest field id ever assigned (new columns get ids after it). */
  lastColumnId: number;
  partitionSpec: PartitionSpec | null;
  /** When a table of this name was last dropped (epoch ms): messages sent before it are discarded. */
  droppedAt: number | null;
  /** Where the table's files are written (`uri`), and their store key prefix (`key`): also before it exists. */
  location: TableLocation;
  /** The external REST catalog the table commits through (and what its commits met), or null for the lake's own layout. */
  externalCatalog: ({ uri: string } & ExternalOutcomes) | null;
  /** `s3://…/metadata/vN.metadata.json`: what to hand an engine (or a catalog). */
  metadataLocation: string | null;
  /** A decimal string: snapshot ids are 64-bit, beyond JSON's exact integers. */
  currentSnapshotId: string | null;
  totalRecords: number;
  dataFiles: number;
  /** Bytes of the current snapshot's data files. */
  totalBytes: number;
  /** Snapshots the table's metadata keeps (retention bounds it). */
  snapshots: number;
  averageFileBytes: number;
  /** Data files under `floe.compaction.min-file-size-bytes`, as counted by the last maintenance run (null before one). */
  smallFiles: number | null;
  /** Size of the current metadata.json. */
  metadataFileBytes: number;
  maintenance: {
    enabled: boolean;
    commitsSinceLastRun: number;
    /** When the next automatic run is due (ISO time), or null. */
    nextRunAt: string | null;
    /** The last run's report (automatic or on demand), or null. */
    lastRun: MaintenanceReport | null;
    /** Compaction jobs: how many run, ended, and the latest with their reasons. */
    compaction: ReturnType<typeof compactionStatus>;
  };
  lastCommitAt: string | null;
  duplicatesDropped: number;
  /** Messages ever sent to the quarantine (each time, replays that failed again included). */
  quarantined: number;
  /** The quarantine's entries by state: waiting (`quarantined`), sent again (`replayed`), `landed`. */
  quarantine: Record<QuarantineState, number>;
  /** The uploads ledger by state. */
  uploads: Record<UploadState, number>;
}

/** What the table object remembers of automatic maintenance between runs. */
export function maintenanceStateOf(sql: SqlStorage): MaintenanceState {
  return {
    commitsSince: Number(getMeta(sql, "commits_since_maintenance") ?? 0),
    lastRunAt: Number(getMeta(sql, "last_maintenance_at") ?? 0),
    lastOrphansAt: Number(getMeta(sql, "last_orphans_at") ?? 0),
    notBefore: Number(getMeta(sql, "maintenance_not_before") ?? 0),
  };
}

export function tableStatus(name: string, config: TableConfig, t: LoadedTable | null, sql: SqlStorage, location: TableLocation, policy: IngestPolicy, external?: string): TableInfo {
  const snap = t ? currentSnapshot(t.metadata) : undefined;
  const lastCommit = Number(getMeta(sql, "last_commit_at") ?? 0);
  const raw = getMeta(sql, "last_maintenance");
  const lastRun = raw ? (JSON.parse(raw) as MaintenanceReport) : null;
  const schedule = maintenanceSchedule(t?.metadata.properties ?? config.properties);
  const state = maintenanceStateOf(sql);
  const next = nextRunAt(schedule, state, Date.now());
  return {
    table: name,
    exists: t !== null,
    configured: getMeta(sql, "config") !== undefined,
    mode: config.mode,
    idField: config.idField ?? null,
    partitionBy: config.partitionBy,
    properties: config.properties,
    policy,
    schema: t ? currentSchema(t.metadata) : null,
    lastColumnId: t ? t.metadata["last-column-id"] : 0,
    partitionSpec: t ? defaultSpec(t.metadata) : null,
    location,
    externalCatalog: external ? { uri: external, ...externalOutcomes(sql) } : null,
    metadataLocation: t?.metadataLocation ?? null,
    currentSnapshotId: snap ? String(snap["snapshot-id"]) : null,
    totalRecords: Number(snap?.summary["total-records"] ?? 0),
    dataFiles: Number(snap?.summary["total-data-files"] ?? 0),
    totalBytes: Number(snap?.summary["total-files-size"] ?? 0),
    snapshots: t?.metadata.snapshots.length ?? 0,
    averageFileBytes: Number(snap?.summary["total-data-files"] ?? 0) ? Math.round(Number(snap?.summary["total-files-size"] ?? 0) / Number(snap?.summary["total-data-files"])) : 0,
    smallFiles: lastRun?.files?.smallFiles ?? null,
    metadataFileBytes: t?.metadataBytes ?? 0,
    maintenance: { enabled: schedule.enabled, commitsSinceLastRun: state.commitsSince, nextRunAt: next === null ? null : new Date(next).toISOString(), lastRun, compaction: compactionStatus(sql) },
    lastCommitAt: lastCommit ? new Date(lastCommit).toISOString() : snap ? new Date(snap["timestamp-ms"]).toISOString() : null,
    duplicatesDropped: Number(getMeta(sql, "duplicates") ?? 0),
    droppedAt: Number(getMeta(sql, "dropped_at") ?? 0) || null,
    quarantined: Number(getMeta(sql, "quarantined") ?? 0),
    quarantine: quarantineCounts(sql),
    uploads: uploadCounts(sql),
  };
}
