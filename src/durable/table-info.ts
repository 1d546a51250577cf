import type { PartitionBy } from "../iceberg/append-rows.js";
import { currentSchema, currentSnapshot, defaultSpec } from "../iceberg/metadata.js";
import type { LoadedTable } from "../iceberg/table.js";
import type { PartitionSpec, Schema } from "../iceberg/types.js";
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
  schema: Schema | null;
  /** The highest field id ever assigned (new columns get ids after it). */
  lastColumnId: number;
  partitionSpec: PartitionSpec | null;
  /** `s3://…/metadata/vN.metadata.json`: what to hand an engine (or a catalog). */
  metadataLocation: string | null;
  /** A decimal string: snapshot ids are 64-bit, beyond JSON's exact integers. */
  currentSnapshotId: string | null;
  totalRecords: number;
  dataFiles: number;
  lastCommitAt: string | null;
  duplicatesDropped: number;
  quarantined: number;
  /** The uploads ledger by state. */
  uploads: Record<UploadState, number>;
}

export function tableStatus(name: string, config: TableConfig, t: LoadedTable | null, sql: SqlStorage): TableInfo {
  const snap = t ? currentSnapshot(t.metadata) : undefined;
  const lastCommit = Number(getMeta(sql, "last_commit_at") ?? 0);
  return {
    table: name,
    exists: t !== null,
    configured: getMeta(sql, "config") !== undefined,
    mode: config.mode,
    idField: config.idField ?? null,
    partitionBy: config.partitionBy,
    properties: config.properties,
    schema: t ? currentSchema(t.metadata) : null,
    lastColumnId: t ? t.metadata["last-column-id"] : 0,
    partitionSpec: t ? defaultSpec(t.metadata) : null,
    metadataLocation: t?.metadataLocation ?? null,
    currentSnapshotId: snap ? String(snap["snapshot-id"]) : null,
    totalRecords: Number(snap?.summary["total-records"] ?? 0),
    dataFiles: Number(snap?.summary["total-data-files"] ?? 0),
    lastCommitAt: lastCommit ? new Date(lastCommit).toISOString() : snap ? new Date(snap["timestamp-ms"]).toISOString() : null,
    duplicatesDropped: Number(getMeta(sql, "duplicates") ?? 0),
    quarantined: Number(getMeta(sql, "quarantined") ?? 0),
    uploads: uploadCounts(sql),
  };
}
