import type { RowGroup } from "hyparquet";
import type { DataFile } from "../iceberg/data-file.js";
import { compareValues, toSingleValue, truncateLowerBound, truncateUpperBound } from "../iceberg/values.js";
import { isPrimitive, type IcebergType, type InternalValue, type PrimitiveType, type Schema } from "../iceberg/types.js";

/** Iceberg's default metrics mode, `truncate(16)`: string and binary bounds are cut to 16 characters / bytes. */
export const METRICS_TRUNCATE_LENGTH = 16;

interface Leaf {
  id: number;
  type: PrimitiveType;
  /** Inside a list or map: bounds would describe elements, not rows, so none are kept (as Iceberg's Java writer). */
  repeated: boolean;
}

/** Parquet leaf path (`a.list.element`, `m.key_value.key`) → the Iceberg field it stores. */
function leaves(schema: Schema): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const visit = (t: IcebergType, id: number, path: string, repeated: boolean) => {
    if (isPrimitive(t)) {
      out.set(path, { id, type: t, repeated });
    } else if (t.type === "struct") {
      for (const f of t.fields) visit(f.type, f.id, path ? `${path}.${f.name}` : f.name, repeated);
    } else if (t.type === "list") {
      visit(t.element, t["element-id"], `${path}.list.element`, true);
    } else {
      visit(t.key, t["key-id"], `${path}.key_value.key`, true);
      visit(t.value, t["value-id"], `${path}.key_value.value`, true);
    }
  };
  visit(schema, 0, "", false);
  return out;
}

/**
 * Turns the writer's per-row-group column statistics into the manifest's `data_file` metrics
 * (spec "Manifests": column_sizes, value_counts, null_value_counts, nan_value_counts,
 * lower_bounds, upper_bounds), keyed by field id. Bounds are computed from the untruncated values
 * hyparquet-writer keeps, then truncated as Iceberg's `truncate(16)` mode does and serialized in
 * the single-value binary form (Appendix D). NaN never becomes a bound; it is counted instead.
 */
export function fileMetrics(schema: Schema, rowGroups: RowGroup[], recordCount: number, fileSize: number): WrittenMetrics {
  const byPath = leaves(schema);
  const columnSizes = new Map<number, number>();
  const valueCounts = new Map<number, number>();
  const nullValueCounts = new Map<number, number>();
  const nanValueCounts = new Map<number, number>();
  const lower = new Map<number, { type: PrimitiveType; v: InternalValue }>();
  const upper = new Map<number, { type: PrimitiveType; v: InternalValue }>();
  const splitOffsets: number[] = [];
  const add = (m: Map<number, number>, id: number, n: number) => m.set(id, (m.get(id) ?? 0) + n);

  for (const rg of rowGroups) {
    const first = rg.columns[0]?.meta_data;
    if (first) splitOffsets.push(Number(first.dictionary_page_offset ?? first.data_page_offset));
    for (const chunk of rg.columns) {
      const md = chunk.meta_data;
      if (!md) continue;
      const leaf = byPath.get(md.path_in_schema.join("."));
      if (!leaf) continue;
      add(columnSizes, leaf.id, Number(md.total_compressed_size));
      add(valueCounts, leaf.id, Number(md.num_values));
      const st = md.statistics as ({ null_count?: bigint; nan_count?: bigint; min_value?: unknown; max_value?: unknown } | undefined);
      if (!st) continue;
      add(nullValueCounts, leaf.id, Number(st.null_count ?? 0n));
      // Only a writer that counted NaNs says how many (hyparquet-writer does; a footer read back has no such field).
      if ((leaf.type === "float" || leaf.type === "double") && st.nan_count !== undefined) add(nanValueCounts, leaf.id, Number(st.nan_count));
      if (leaf.repeated) continue;
      const min = toInternal(leaf.type, st.min_value);
      const max = toInternal(leaf.type, st.max_value);
      if (min !== null) {
        const cur = lower.get(leaf.id);
        if (!cur || compareValues(leaf.type, min, cur.v) < 0) lower.set(leaf.id, { type: leaf.type, v: min });
      }
      if (max !== null) {
        const cur = upper.get(leaf.id);
        if (!cur || compareValues(leaf.type, max, cur.v) > 0) upper.set(leaf.id, { type: leaf.type, v: max });
      }
    }
  }

  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  for (const [id, { type, v }] of lower) {
    const t = truncateLowerBound(type, v, METRICS_TRUNCATE_LENGTH);
    if (t !== null) lowerBounds.set(id, toSingleValue(type, t));
  }
  for (const [id, { type, v }] of upper) {
    // No upper bound exists for a prefix of all-max code points / 0xFF bytes: leave it out.
    const t = truncateUpperBound(type, v, METRICS_TRUNCATE_LENGTH);
    if (t !== null) upperBounds.set(id, toSingleValue(type, t));
  }
  return { recordCount, fileSizeInBytes: fileSize, columnSizes, valueCounts, nullValueCounts, nanValueCounts, lowerBounds, upperBounds, splitOffsets };
}

export type WrittenMetrics = Omit<DataFile, "filePath" | "partition" | "content" | "fileFormat">;

/**
 * Statistics hold the values as hyparquet-writer compared them: our internal values for most
 * types; signed zero and NaN are already handled by the writer (min −0, max +0, NaN skipped).
 */
function toInternal(type: PrimitiveType, v: unknown): InternalValue {
  if (v === undefined || v === null) return null;
  if (type === "int" || type === "date") return typeof v === "bigint" ? Number(v) : (v as number);
  if (typeof v === "number" && (type === "long" || type === "time" || type === "timestamp" || type === "timestamptz")) return BigInt(v);
  return v as InternalValue;
}
