import type { ColumnChunk, CompressionCodec, SchemaTree } from "hyparquet";
import type { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writeColumn } from "hyparquet-writer/src/column.js";
import { encodeNestedValues } from "hyparquet-writer/src/dremel.js";
import type { Compressors } from "../parquet/codecs.js";

const PAGE_BYTES = 1024 * 1024;

/**
 * Writes the column chunks of one `value` column (a struct, list, map, or a decimal, uuid, binary
 * or fixed) with hyparquet-writer's encoder: Dremel levels for nesting, its dictionary trial and
 * statistics. Our own encoder (column-chunk.ts) covers the flat typed columns; these stay with the
 * library until ours does them too.
 */
export function writeValueChunks(out: ByteWriter, column: SchemaTree[], values: unknown[], codec: CompressionCodec, compressors: Compressors): ColumnChunk[] {
  const chunks: ColumnChunk[] = [];
  for (const leaf of leaves(column)) {
    const schemaPath = leaf.map((n) => n.element);
    const encoder = {
      columnName: schemaPath.slice(1).map((e) => e.name).join("."),
      element: schemaPath[schemaPath.length - 1],
      schemaPath,
      codec,
      compressors,
      stats: true,
      pageSize: PAGE_BYTES,
      columnIndex: false,
      offsetIndex: false,
    };
    chunks.push(writeColumn({ writer: out, column: encoder, pageData: encodeNestedValues(leaf, values) }).chunk);
  }
  return chunks;
}

/** Every path from the column's node to one of its primitive leaves. */
function leaves(path: SchemaTree[]): SchemaTree[][] {
  const node = path[path.length - 1];
  if (!node.children.length) return [path];
  return node.children.flatMap((child) => leaves([...path, child]));
}
