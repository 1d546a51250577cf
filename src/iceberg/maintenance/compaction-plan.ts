import type { DataFile } from "../data-file.js";
import { numberProperty } from "../properties.js";
import { toTagged } from "../tagged-json.js";
import type { TableLocation } from "../table.js";

/** `write.target-file-size-bytes` (default 128 MB, as R2 Data Catalog's compaction targets). */
export function targetFileBytes(props: Record<string, string>): number {
  return numberProperty(props, "write.target-file-size-bytes", 128 * 1024 * 1024, { min: 1 });
}

/** `floe.compaction.min-file-size-bytes` (default 75% of the target size). */
export function minFileBytes(props: Record<string, string>): number {
  return numberProperty(props, "floe.compaction.min-file-size-bytes", Math.floor(targetFileBytes(props) * 0.75), { min: 0 });
}

/** Bin-pack compaction settings, from table properties. */
export interface CompactionSettings {
  /** `floe.compaction.enabled` (default true). */
  enabled: boolean;
  /** `write.target-file-size-bytes` (default 128 MB): the size outputs aim at. */
  targetBytes: number;
  /** `floe.compaction.min-file-size-bytes` (default 75% of the target): smaller files are rewritten. */
  minFileBytes: number;
  /** `floe.compaction.min-input-files` (default 5): a partition is compacted once this many small files qualify. */
  minInputFiles: number;
  /**
   * `floe.compaction.step-input-bytes` (default 24 MiB): input one job step reads and re-encodes,
   * so that a step fits a Worker invocation's CPU and memory (see README, "Maintenance").
   */
  stepInputBytes: number;
  /** `floe.compaction.max-jobs` (default 8): jobs one maintenance run starts. */
  maxJobs: number;
}

export function compactionSettings(props: Record<string, string>): CompactionSettings {
  const int = (k: string, d: number, min: number) => numberProperty(props, k, d, { min, integer: true });
  return {
    enabled: props["floe.compaction.enabled"] !== "false",
    targetBytes: targetFileBytes(props),
    minFileBytes: minFileBytes(props),
    minInputFiles: int("floe.compaction.min-input-files", 5, 2),
    stepInputBytes: int("floe.compaction.step-input-bytes", 24 * 1024 * 1024, 1),
    maxJobs: int("floe.compaction.max-jobs", 8, 1),
  };
}

export interface CompactionInput {
  path: string;
  bytes: number;
  records: number;
}

/**
 * One output file's worth of inputs from one partition. Its steps: each segment (inputs
 * `segments[i]` up to `segments[i + 1]`) is read and written as one Parquet file; several segments
 * are then joined into the output by copying their row groups byte for byte; the output then
 * replaces the inputs in one commit.
 */
export interface CompactionJob {
  id: string;
  specId: number;
  /** The partition tuple as manifests hold it, as tagged JSON text (bigints and bytes survive storage). */
  partition: string;
  /** Where the output goes, relative to the table: the inputs' directory (`data/ts_day=…`). */
  dir: string;
  inputs: CompactionInput[];
  /** Start index of each segment in `inputs`. */
  segments: number[];
}

/**
 * Plans bin-pack compaction over the current snapshot's live data files: per partition (and spec),
 * files under `minFileBytes` that no job already holds are packed, in the order given, into groups
 * of at most `targetBytes`; a partition with fewer than `minInputFiles` such files is left alone, and
 * so is a group of one. Each group is a job, split into segments of at most `stepInputBytes`.
 */
export function planCompaction(loc: TableLocation, files: readonly { specId: number; dataFile: DataFile }[], s: CompactionSettings, busy: ReadonlySet<string> = new Set()): CompactionJob[] {
  if (!s.enabled) return [];
  const groups = new Map<string, { specId: number; partition: DataFile["partition"]; files: DataFile[] }>();
  for (const { specId, dataFile } of files) {
    if (dataFile.fileSizeInBytes >= s.minFileBytes || busy.has(dataFile.filePath) || dataFile.fileFormat !== "PARQUET") continue;
    if (!dataFile.filePath.startsWith(`${loc.uri}/`)) continue; // never rewrite (and later delete) another writer's files elsewhere
    const key = `${specId}/${JSON.stringify(toTagged(dataFile.partition))}`;
    const g = groups.get(key) ?? { specId, partition: dataFile.partition, files: [] };
    g.files.push(dataFile);
    groups.set(key, g);
  }
  const jobs: CompactionJob[] = [];
  for (const g of groups.values()) {
    if (g.files.length < s.minInputFiles) continue;
    let bin: DataFile[] = [];
    let size = 0;
    const close = () => {
      if (bin.length >= 2 && jobs.length < s.maxJobs) jobs.push(job(loc, g.specId, g.partition, bin, s.stepInputBytes));
      bin = [];
      size = 0;
    };
    for (const f of g.files) {
      if (bin.length && size + f.fileSizeInBytes > s.targetBytes) close();
      bin.push(f);
      size += f.fileSizeInBytes;
    }
    close();
  }
  return jobs;
}

function job(loc: TableLocation, specId: number, partition: DataFile["partition"], files: DataFile[], stepBytes: number): CompactionJob {
  const inputs = files.map((f) => ({ path: f.filePath, bytes: f.fileSizeInBytes, records: f.recordCount }));
  const segments = [0];
  let size = 0;
  inputs.forEach((f, i) => {
    if (size > 0 && size + f.bytes > stepBytes) {
      segments.push(i);
      size = 0;
    }
    size += f.bytes;
  });
  const rel = files[0].filePath.slice(loc.uri.length + 1);
  return { id: crypto.randomUUID(), specId, partition: JSON.stringify(toTagged(partition)), dir: rel.slice(0, rel.lastIndexOf("/")), inputs, segments };
}
