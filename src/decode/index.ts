/**
 * Uploaded files → rows: the decoders behind R2 uploads (issue 4, "Formats"). Pure: bytes in,
 * batches of plain-object rows out; nothing here knows R2, Queues or tables.
 */
export { DEFAULT_BATCH_ROWS, DEFAULT_RECORD_BYTES, decodeGroups, decodeRows, uploadBytes, type DecodeOptions, type RowBatch } from "./decode-rows.js";
export type { ColumnSource } from "./columns.js";
export { formatFromName, type FormatGuess, type UploadFormat } from "./format.js";
export { inferCsvValue, type CsvOptions, type CsvType } from "./csv.js";
export { parquetFieldIds, parquetMetadataOf, type RandomAccessFile } from "./parquet.js";
