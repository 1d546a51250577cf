import type { InternalValue } from "./types.js";

/**
 * A data file as the manifest's `data_file` struct describes it (spec: "Manifests", field ids
 * 100–146), in the core's own terms. Metric maps are keyed by Iceberg field id; bounds are in the
 * spec's single-value binary serialization (Appendix D).
 */
export interface DataFile {
  /** 0 = data, 1 = position deletes, 2 = equality deletes. Floe writes data files only. */
  content: 0;
  /** Full URI of the file, e.g. `s3://bucket/warehouse/ns/t/data/…/x.parquet`. */
  filePath: string;
  fileFormat: "PARQUET";
  /** Partition tuple: one internal value (or null) per partition field, in spec order. */
  partition: InternalValue[];
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes: Map<number, number>;
  valueCounts: Map<number, number>;
  nullValueCounts: Map<number, number>;
  nanValueCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
  /** Row-group start offsets, ascending. */
  splitOffsets?: number[];
  sortOrderId?: number;
}

/** Manifest entry status (spec): 0 existing, 1 added, 2 deleted. */
export type EntryStatus = 0 | 1 | 2;

export interface ManifestEntry {
  status: EntryStatus;
  /** null for added entries: inherited from the manifest list at read time (spec "Sequence Number Inheritance"). */
  snapshotId: bigint | null;
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  dataFile: DataFile;
}

/** Per partition field summary in a manifest list entry (spec `field_summary`, ids 509–518). */
export interface FieldSummary {
  containsNull: boolean;
  containsNan: boolean | null;
  lowerBound: Uint8Array | null;
  upperBound: Uint8Array | null;
}

/** A manifest list entry (spec `manifest_file`, ids 500–519). */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: number;
  partitionSpecId: number;
  /** 0 = data, 1 = deletes. */
  content: 0 | 1;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: number;
  existingRowsCount: number;
  deletedRowsCount: number;
  partitions: FieldSummary[];
  keyMetadata?: Uint8Array | null;
}
