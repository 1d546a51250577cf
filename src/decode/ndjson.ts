import { checkLine, decodeStretch, lineEnd, ndjsonLines, parseLine, parseText, type LineCounter } from "./ndjson-lines.js";

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
  const at: LineCounter = { line: 1 };
  for await (const stretch of ndjsonLines(stream, maxLine, at)) {
    const texts = decodeStretch(stretch);
    for (let from = stretch.start, k = 0; from < stretch.end; k++) {
      const end = lineEnd(stretch, from);
      const line = at.line++;
      checkLine(end - from, line, maxLine);
      // Parsed one line at a time, between yields: an error is raised where the reading reaches it.
      const v = texts ? parseText(texts[k], line) : parseLine(stretch.buf.subarray(from, end), line);
      from = end + 1;
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
