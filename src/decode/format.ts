/** The file formats an upload can be decoded from. */
export type UploadFormat = "ndjson" | "json" | "csv" | "parquet" | "arrow";

/** What `formatFromName` found: the format, whether it is gzip-compressed, and CSV's delimiter for TSV. */
export interface FormatGuess {
  format: UploadFormat;
  gzip: boolean;
  csv?: { delimiter: string };
}

const BY_EXTENSION: Record<string, Omit<FormatGuess, "gzip">> = {
  ndjson: { format: "ndjson" },
  jsonl: { format: "ndjson" },
  json: { format: "json" },
  csv: { format: "csv" },
  tsv: { format: "csv", csv: { delimiter: "\t" } },
  parquet: { format: "parquet" },
  arrow: { format: "arrow" },
  arrows: { format: "arrow" },
  ipc: { format: "arrow" },
  feather: { format: "arrow" }, // Feather v2 is the Arrow IPC file format
};

const BY_CONTENT_TYPE: Record<string, Omit<FormatGuess, "gzip">> = {
  "application/x-ndjson": { format: "ndjson" },
  "application/ndjson": { format: "ndjson" },
  "application/jsonl": { format: "ndjson" },
  "application/x-jsonlines": { format: "ndjson" },
  "application/jsonlines": { format: "ndjson" },
  "application/json": { format: "json" },
  "text/json": { format: "json" },
  "text/csv": { format: "csv" },
  "application/csv": { format: "csv" },
  "text/tab-separated-values": { format: "csv", csv: { delimiter: "\t" } },
  "application/vnd.apache.parquet": { format: "parquet" },
  "application/x-parquet": { format: "parquet" },
  "application/parquet": { format: "parquet" },
  "application/vnd.apache.arrow.file": { format: "arrow" },
  "application/vnd.apache.arrow.stream": { format: "arrow" },
  "application/x-apache-arrow-stream": { format: "arrow" },
};

/**
 * The format of an uploaded object from its key's extension (case-insensitive; `.gz` or `.gzip`
 * after it means gzip), else from its content type (parameters such as `; charset=utf-8` ignored;
 * `application/gzip` alone says nothing about what is inside). Unknown: `undefined`.
 *
 * Extensions: `.ndjson` `.jsonl` → ndjson; `.json` → json (an array, or JSON Lines: both are read);
 * `.csv`; `.tsv` → csv with a tab delimiter; `.parquet`; `.arrow` `.arrows` `.ipc` `.feather` → arrow.
 *
 * @example
 * formatFromName("incoming/events/2024-01-02.csv.gz") // { format: "csv", gzip: true }
 * formatFromName("incoming/events/dump", "application/x-ndjson") // { format: "ndjson", gzip: false }
 */
export function formatFromName(key: string, contentType?: string): FormatGuess | undefined {
  const name = key.slice(key.lastIndexOf("/") + 1).toLowerCase();
  const parts = name.split(".");
  let gzip = false;
  if (parts.length >= 2 && (parts[parts.length - 1] === "gz" || parts[parts.length - 1] === "gzip")) {
    gzip = true;
    parts.pop();
  }
  const ext = parts.length > 1 ? parts[parts.length - 1] : undefined;
  const byExt = ext !== undefined && Object.hasOwn(BY_EXTENSION, ext) ? BY_EXTENSION[ext] : undefined;
  if (byExt) return { ...byExt, gzip };
  if (!contentType) return undefined;
  const type = contentType.split(";")[0].trim().toLowerCase();
  const byType = Object.hasOwn(BY_CONTENT_TYPE, type) ? BY_CONTENT_TYPE[type] : undefined;
  return byType ? { ...byType, gzip } : undefined;
}
