import type { ColumnChunk, CompressionCodec, Encoding, ParquetType, Statistics } from "hyparquet";
import type { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";
import { BooleanColumn, NumberColumn, StringColumn, type Column } from "./columns.js";

// Typed arrays are written to the file as they lie in memory, which is Parquet's little-endian
// order only on a little-endian machine (every machine Workers and Node run on here).
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("floe's Parquet writer needs a little-endian machine");

export interface ChunkOptions {
  codec: CompressionCodec;
  /** Compresses one page body (null for UNCOMPRESSED). */
  compress: ((page: Uint8Array) => Uint8Array) | null;
  /** A data page is cut past this many bytes of encoded values (parquet-mr's default page size). */
  pageBytes?: number;
}

/** Where a column goes in the file's schema. */
export interface ChunkTarget {
  path: string[];
  type: ParquetType;
  required: boolean;
}

const PAGE_BYTES = 1024 * 1024;
/** A dictionary page larger than this is not written (parquet-mr's default dictionary page size). */
const MAX_DICTIONARY_BYTES = 1024 * 1024;

/**
 * Writes one flat column chunk from a typed column: an optional dictionary page, then DATA_PAGE
 * (v1, which every Parquet reader handles) pages of about 1 MiB, each with its definition levels
 * (RLE/bit-packed, width 1) unless the column is required, and its values PLAIN or, for strings
 * whose dictionary makes the chunk smaller, RLE_DICTIONARY. Statistics (min, max, null count,
 * NaN count) are taken from the typed values as hyparquet-writer would take them: NaN is no
 * bound, a zero bound is −0 as a minimum and +0 as a maximum, strings compare as unsigned bytes.
 * They are returned as JS values for the footer writer and the Iceberg metrics (`fileMetrics`).
 */
export function writeColumnChunk(out: ByteWriter, col: Column, target: ChunkTarget, opts: ChunkOptions): ColumnChunk {
  const start = out.offset;
  const pageBytes = opts.pageBytes ?? PAGE_BYTES;
  let uncompressed = 0;
  let dictionaryOffset: bigint | undefined;
  let encoding: Encoding = "PLAIN";
  let ids: Int32Array | undefined;
  let bitWidth = 0;

  const page = (type: "DATA_PAGE" | "DICTIONARY_PAGE", body: Uint8Array, count: number, enc: Encoding) => {
    const compressed = opts.compress ? opts.compress(body) : body;
    const headerStart = out.offset;
    writePageHeader(out, {
      type,
      uncompressed_page_size: body.length,
      compressed_page_size: compressed.length,
      ...(type === "DATA_PAGE"
        ? { data_page_header: { num_values: count, encoding: enc, definition_level_encoding: "RLE", repetition_level_encoding: "RLE" } }
        : { dictionary_page_header: { num_values: count, encoding: "PLAIN" } }),
    });
    uncompressed += out.offset - headerStart + body.length;
    out.appendBytes(compressed);
  };

  if (col instanceof StringColumn) {
    const d = col.dict;
    bitWidth = Math.max(1, 32 - Math.clz32(Math.max(0, d.count - 1)));
    const dictionaryBytes = d.bytes + 4 * d.count;
    const present = col.length - col.nulls;
    let plainBytes = 4 * present;
    for (let i = 0; i < col.length; i++) if (col.defs[i]) plainBytes += d.starts[col.ids[i] + 1] - d.starts[col.ids[i]];
    if (d.count > 0 && dictionaryBytes <= MAX_DICTIONARY_BYTES && dictionaryBytes + (present * bitWidth) / 8 < plainBytes) {
      encoding = "RLE_DICTIONARY";
      dictionaryOffset = BigInt(out.offset);
      page("DICTIONARY_PAGE", plainStrings(d.pool, d.starts, 0, d.count), d.count, "PLAIN");
      ids = col.ids;
    }
  }

  const dataOffset = BigInt(out.offset);
  for (const [from, to] of pageRanges(col, ids ? bitWidth / 8 : 0, pageBytes)) {
    const levels = target.required ? null : definitionLevels(col.defs, from, to);
    const values = ids ? dictionaryIndexes(col as StringColumn, from, to, bitWidth) : plainValues(col, target.type, from, to);
    let body = values;
    if (levels) {
      body = new Uint8Array(levels.length + values.length);
      body.set(levels);
      body.set(values, levels.length);
    }
    page("DATA_PAGE", body, to - from, encoding);
  }

  const encodings: Encoding[] = ids ? ["PLAIN", "RLE", "RLE_DICTIONARY"] : ["PLAIN", "RLE"];
  return {
    file_offset: BigInt(start),
    meta_data: {
      type: target.type,
      encodings,
      path_in_schema: target.path,
      codec: opts.codec,
      num_values: BigInt(col.length),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(out.offset - start),
      data_page_offset: dataOffset,
      dictionary_page_offset: dictionaryOffset,
      statistics: statistics(col),
    },
  };
}

/** Row ranges of about `pageBytes` of values each (`idBytes` > 0: dictionary indexes of that many bytes). */
function pageRanges(col: Column, idBytes: number, pageBytes: number): [number, number][] {
  const n = col.length;
  if (n === 0) return [[0, 0]];
  let perRow = 0;
  if (idBytes > 0) perRow = idBytes;
  else if (col instanceof NumberColumn) perRow = col.kind === "int" || col.kind === "float" ? 4 : 8;
  else if (col instanceof BooleanColumn) perRow = 1 / 8;
  const ranges: [number, number][] = [];
  if (perRow > 0) {
    const rows = Math.max(1, Math.floor(pageBytes / perRow));
    for (let a = 0; a < n; a += rows) ranges.push([a, Math.min(n, a + rows)]);
    return ranges;
  }
  const s = col as StringColumn;
  const starts = s.dict.starts;
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (s.defs[i]) bytes += 4 + starts[s.ids[i] + 1] - starts[s.ids[i]];
    if (bytes >= pageBytes) {
      ranges.push([from, i + 1]);
      from = i + 1;
      bytes = 0;
    }
  }
  if (from < n) ranges.push([from, n]);
  return ranges;
}

/** Definition levels of rows [from, to): 4-byte length, then one RLE run (no nulls, all nulls) or bit-packed groups of 8. */
function definitionLevels(defs: Uint8Array, from: number, to: number): Uint8Array {
  const n = to - from;
  let present = 0;
  for (let i = from; i < to; i++) present += defs[i];
  if (present === n || present === 0) {
    const header = varint(n << 1);
    const out = new Uint8Array(4 + header.length + 1);
    writeLength(out, header.length + 1);
    out.set(header, 4);
    out[4 + header.length] = present === 0 ? 0 : 1;
    return out;
  }
  const groups = Math.ceil(n / 8);
  const header = varint((groups << 1) | 1);
  const out = new Uint8Array(4 + header.length + groups);
  writeLength(out, header.length + groups);
  out.set(header, 4);
  let at = 4 + header.length;
  for (let g = 0; g < groups; g++) {
    let byte = 0;
    const base = from + g * 8;
    for (let b = 0; b < 8 && base + b < to; b++) byte |= defs[base + b] << b;
    out[at++] = byte;
  }
  return out;
}

/** The present values of rows [from, to), PLAIN-encoded. */
function plainValues(col: Column, type: ParquetType, from: number, to: number): Uint8Array {
  const defs = col.defs;
  let present = 0;
  for (let i = from; i < to; i++) present += defs[i];
  if (col instanceof BooleanColumn) {
    const out = new Uint8Array(Math.ceil(present / 8));
    let k = 0;
    for (let i = from; i < to; i++) if (defs[i]) out[k >> 3] |= col.values[i] << (k++ & 7);
    return out;
  }
  if (col instanceof StringColumn) {
    const { pool, starts } = col.dict;
    let size = 4 * present;
    for (let i = from; i < to; i++) if (defs[i]) size += starts[col.ids[i] + 1] - starts[col.ids[i]];
    const out = new Uint8Array(size);
    let at = 0;
    for (let i = from; i < to; i++) {
      if (!defs[i]) continue;
      const id = col.ids[i];
      at = putString(out, at, pool, starts[id], starts[id + 1]);
    }
    return out;
  }
  const num = col as NumberColumn;
  const v = num.values;
  let k = 0;
  switch (type) {
    case "INT32": {
      const out = new Int32Array(present);
      for (let i = from; i < to; i++) if (defs[i]) out[k++] = v[i];
      return new Uint8Array(out.buffer);
    }
    case "FLOAT": {
      const out = new Float32Array(present);
      for (let i = from; i < to; i++) if (defs[i]) out[k++] = v[i];
      return new Uint8Array(out.buffer);
    }
    case "DOUBLE": {
      const out = new Float64Array(present);
      for (let i = from; i < to; i++) if (defs[i]) out[k++] = v[i];
      return new Uint8Array(out.buffer);
    }
    default: {
      if (num.big) {
        const out = new BigInt64Array(present);
        for (let i = from; i < to; i++) if (defs[i]) out[k++] = num.big[i];
        return new Uint8Array(out.buffer);
      }
      // A safe integer split into its low and high 32 bits, two's complement.
      const out = new Int32Array(present * 2);
      for (let i = from; i < to; i++) {
        if (!defs[i]) continue;
        const x = v[i];
        const hi = Math.floor(x / 4294967296);
        out[k++] = (x - hi * 4294967296) | 0;
        out[k++] = hi;
      }
      return new Uint8Array(out.buffer);
    }
  }
}

/** Dictionary indexes of the present rows in [from, to): bit width, then the RLE/bit-packed hybrid. */
function dictionaryIndexes(col: StringColumn, from: number, to: number, bitWidth: number): Uint8Array {
  const ids = new Int32Array(to - from);
  let k = 0;
  for (let i = from; i < to; i++) if (col.defs[i]) ids[k++] = col.ids[i];
  const w = new HybridWriter(Math.ceil((k * bitWidth) / 8) + 16);
  w.appendUint8(bitWidth);
  writeRleBitPackedHybrid(w as unknown as ByteWriter, ids.subarray(0, k), bitWidth);
  return w.bytes();
}

/** PLAIN BYTE_ARRAY: each entry as a 4-byte little-endian length and its bytes. */
function plainStrings(pool: Uint8Array, starts: Int32Array, first: number, end: number): Uint8Array {
  const out = new Uint8Array(starts[end] - starts[first] + 4 * (end - first));
  let at = 0;
  for (let id = first; id < end; id++) at = putString(out, at, pool, starts[id], starts[id + 1]);
  return out;
}

function putString(out: Uint8Array, at: number, pool: Uint8Array, s: number, e: number): number {
  const len = e - s;
  out[at] = len & 0xff;
  out[at + 1] = (len >>> 8) & 0xff;
  out[at + 2] = (len >>> 16) & 0xff;
  out[at + 3] = len >>> 24;
  at += 4;
  if (len < 32) for (let k = 0; k < len; k++) out[at + k] = pool[s + k];
  else out.set(pool.subarray(s, e), at);
  return at + len;
}

/** Statistics with the NaN count hyparquet-writer's footer writer and `fileMetrics` read (hyparquet's type lacks it). */
type ChunkStatistics = Statistics & { nan_count?: bigint };

function statistics(col: Column): ChunkStatistics {
  const null_count = BigInt(col.nulls);
  if (col.nulls === col.length) return col.kind === "float" || col.kind === "double" ? { null_count, nan_count: 0n } : { null_count };
  if (col instanceof BooleanColumn) {
    let any0 = false;
    let any1 = false;
    for (let i = 0; i < col.length; i++) {
      if (!col.defs[i]) continue;
      if (col.values[i]) any1 = true;
      else any0 = true;
    }
    return { null_count, min_value: !any0, max_value: any1 };
  }
  if (col instanceof StringColumn) {
    const d = col.dict;
    let min = 0;
    let max = 0;
    for (let id = 1; id < d.count; id++) {
      if (compareEntries(d.pool, d.starts, id, min) < 0) min = id;
      if (compareEntries(d.pool, d.starts, id, max) > 0) max = id;
    }
    return { null_count, min_value: d.text(min), max_value: d.text(max) };
  }
  const num = col as NumberColumn;
  if (num.big) {
    let min: bigint | undefined;
    let max: bigint | undefined;
    for (let i = 0; i < num.length; i++) {
      if (!num.defs[i]) continue;
      const x = num.big[i];
      if (min === undefined || x < min) min = x;
      if (max === undefined || x > max) max = x;
    }
    return { null_count, min_value: min, max_value: max };
  }
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  const v = num.values;
  for (let i = 0; i < num.length; i++) {
    if (!num.defs[i]) continue;
    const x = v[i];
    if (x !== x) nan++;
    else {
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  const floating = num.kind === "float" || num.kind === "double";
  if (!floating) return { null_count, min_value: min, max_value: max };
  const stats: ChunkStatistics = { null_count, nan_count: BigInt(nan) };
  if (nan === num.length - num.nulls) return stats;
  const round = num.kind === "float" ? Math.fround : (x: number) => x;
  return { ...stats, min_value: min === 0 ? -0 : round(min), max_value: max === 0 ? 0 : round(max) };
}

function compareEntries(pool: Uint8Array, starts: Int32Array, a: number, b: number): number {
  const as = starts[a];
  const bs = starts[b];
  const al = starts[a + 1] - as;
  const bl = starts[b + 1] - bs;
  const n = Math.min(al, bl);
  for (let k = 0; k < n; k++) {
    const d = pool[as + k] - pool[bs + k];
    if (d !== 0) return d;
  }
  return al - bl;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function writeLength(out: Uint8Array, n: number): void {
  out[0] = n & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = (n >>> 16) & 0xff;
  out[3] = n >>> 24;
}

/** The two methods hyparquet-writer's hybrid encoder calls, over one preallocated buffer. */
class HybridWriter {
  private buf: Uint8Array;
  offset = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  appendUint8(b: number): void {
    if (this.offset === this.buf.length) {
      const buf = new Uint8Array(this.buf.length * 2);
      buf.set(this.buf);
      this.buf = buf;
    }
    this.buf[this.offset++] = b;
  }
  appendVarInt(n: number): void {
    while (n > 0x7f) {
      this.appendUint8((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.appendUint8(n);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }
}
