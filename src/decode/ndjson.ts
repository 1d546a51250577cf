import { FloeError } from "../errors.js";

export interface NdjsonOptions {
  /** Longest accepted line in bytes: bounds what one line can make the decoder hold. */
  maxLineBytes?: number;
  /** Rows handed out per yield. */
  batchRows?: number;
}

/**
 * Parses newline-delimited JSON from a byte stream, a batch of rows at a time, holding at most one
 * unfinished line and one batch. Blank lines (and a trailing `\r`) are skipped; a line that is not
 * JSON is refused with its 1-based line number.
 *
 * @example
 * for await (const rows of ndjsonBatches(request.body!)) await writer.write(rows);
 */
export async function* ndjsonBatches(stream: ReadableStream<Uint8Array>, opts: NdjsonOptions = {}): AsyncGenerator<unknown[]> {
  const maxLine = opts.maxLineBytes ?? 1024 * 1024;
  const batchRows = opts.batchRows ?? 10_000;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let carry = "";
  let line = 0;
  let batch: unknown[] = [];
  const parse = (text: string) => {
    line++;
    const t = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (t.trim() === "") return;
    try {
      batch.push(JSON.parse(t));
    } catch (e) {
      throw new FloeError("invalid_input", `line ${line}: invalid JSON (${(e as Error).message})`, { details: { line } });
    }
  };
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text: string;
      try {
        text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      } catch {
        throw new FloeError("invalid_input", `line ${line + 1}: not valid UTF-8`, { details: { line: line + 1 } });
      }
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        const piece = text.slice(start, nl);
        parse(carry ? carry + piece : piece);
        carry = "";
        start = nl + 1;
        if (batch.length >= batchRows) {
          yield batch;
          batch = [];
        }
      }
      carry += text.slice(start);
      // Counted in UTF-16 units, which is what the pending string holds (never more than its UTF-8 bytes).
      if (carry.length > maxLine) throw new FloeError("too_large", `line ${line + 1}: longer than ${maxLine} bytes`, { details: { line: line + 1, limit: maxLine } });
      if (done) break;
    }
    if (carry) parse(carry);
    if (batch.length) yield batch;
  } finally {
    reader.releaseLock();
  }
}
