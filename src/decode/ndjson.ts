import { decodeLines, ndjsonLines, parseLine, parseText } from "./ndjson-lines.js";

export interface NdjsonOptions {
  /** Longest accepted line in bytes: bounds what one line can make the decoder hold. */
  maxLineBytes?: number;
  /** Rows handed out per yield. */
  batchRows?: number;
}

/**
 * Parses newline-delimited JSON from a byte stream, a batch of rows at a time, holding at most one
 * unfinished line and one batch. Blank lines (and a trailing `\r`) are skipped; a line that is not
 * JSON, or not UTF-8, is refused with its 1-based line number. This is the reference reading of
 * NDJSON: the columnar scanner (columnar/ndjson-scan.ts) hands every line it does not take to
 * the same `parseLine`.
 *
 * @example
 * for await (const rows of ndjsonBatches(request.body!)) await writer.write(rows);
 */
export async function* ndjsonBatches(stream: ReadableStream<Uint8Array>, opts: NdjsonOptions = {}): AsyncGenerator<unknown[]> {
  const maxLine = opts.maxLineBytes ?? 1024 * 1024;
  const batchRows = opts.batchRows ?? 10_000;
  let batch: unknown[] = [];
  for await (const lines of ndjsonLines(stream, maxLine)) {
    const texts = decodeLines(lines);
    for (let k = 0; k < lines.starts.length; k++) {
      // Parsed one line at a time, between yields: an error is raised where the reading reaches it.
      const line = lines.firstLine + k;
      const v = texts ? parseText(texts[k], line) : parseLine(lines.buf.subarray(lines.starts[k], lines.ends[k]), line);
      if (v === undefined) continue;
      batch.push(v);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
