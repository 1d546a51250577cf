import type { RowGroup } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import type { Schema } from "../iceberg/types.js";
import { parquetSchema } from "./schema.js";
import { CREATED_BY, footerMetadata } from "./writer.js";

/**
 * Where a Parquet file's row groups end: past the last byte of its last column chunk. Files
 * hyparquet-writer writes have their row groups back to back from byte 4 (after `PAR1`), then page
 * indexes, then the footer.
 */
export function rowGroupsEnd(rowGroups: readonly RowGroup[]): number {
  let end = 4;
  for (const rg of rowGroups) {
    for (const c of rg.columns) {
      const md = c.meta_data;
      if (!md) continue;
      const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
      end = Math.max(end, start + Number(md.total_compressed_size));
    }
  }
  return end;
}

/**
 * The row groups of several files, moved to where they land when the files' row-group bytes
 * (`[4, rowGroupsEnd)` of each) are written one after another after a `PAR1`: every offset shifted
 * by the distance moved. Page-index and bloom-filter offsets are dropped, since those regions are
 * not copied (readers treat them as optional).
 */
export function concatRowGroups(parts: readonly { rowGroups: readonly RowGroup[] }[]): { rowGroups: RowGroup[]; ranges: { start: number; end: number }[] } {
  const rowGroups: RowGroup[] = [];
  const ranges: { start: number; end: number }[] = [];
  let at = 4;
  for (const p of parts) {
    const end = rowGroupsEnd(p.rowGroups);
    const delta = BigInt(at - 4);
    for (const rg of p.rowGroups) {
      rowGroups.push({
        ...rg,
        file_offset: rg.file_offset === undefined ? undefined : rg.file_offset + delta,
        columns: rg.columns.map((c) => ({
          ...c,
          file_offset: c.file_offset + delta,
          offset_index_offset: undefined,
          offset_index_length: undefined,
          column_index_offset: undefined,
          column_index_length: undefined,
          meta_data: c.meta_data && {
            ...c.meta_data,
            data_page_offset: c.meta_data.data_page_offset + delta,
            dictionary_page_offset: c.meta_data.dictionary_page_offset === undefined ? undefined : c.meta_data.dictionary_page_offset + delta,
            index_page_offset: c.meta_data.index_page_offset === undefined ? undefined : c.meta_data.index_page_offset + delta,
            bloom_filter_offset: undefined,
            bloom_filter_length: undefined,
          },
        })),
      });
    }
    ranges.push({ start: 4, end });
    at += end - 4;
  }
  return { rowGroups, ranges };
}

/** The footer (metadata, its length, `PAR1`) of a Floe data file with these row groups. */
export function parquetFooter(schema: Schema, rowGroups: RowGroup[]): Uint8Array {
  const out = new ByteWriter();
  const numRows = rowGroups.reduce((n, rg) => n + rg.num_rows, 0n);
  writeMetadata(out, { version: 2, created_by: CREATED_BY, schema: parquetSchema(schema), num_rows: numRows, row_groups: rowGroups, key_value_metadata: footerMetadata(schema), metadata_length: 0 });
  out.appendUint32(0x31524150);
  return new Uint8Array(out.buffer.slice(0, out.index));
}
