import { gunzip } from "../decode/gzip.js";
import { concatBytes } from "../decode/bytes.js";
import { FloeError } from "../errors.js";

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"]);

/**
 * Reads a request body whole, up to `limit` bytes after decompression (`Content-Encoding: gzip`),
 * refusing more with a 413 that names the limit. The count runs while reading, so an oversized or
 * decompression-bomb body is cut off at the limit, not buffered first.
 */
export async function readBody(req: Request, limit: number): Promise<string> {
  const all = await readBodyBytes(req, limit);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new FloeError("invalid_input", "the body is not valid UTF-8");
  }
}

/** The body's bytes as sent (after gzip, if any), up to `limit`: what a webhook signature covers. */
export async function readBodyBytes(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const encoding = (req.headers.get("content-encoding") ?? "identity").toLowerCase();
  let stream: ReadableStream<Uint8Array> = req.body;
  if (encoding === "gzip") stream = gunzip(stream);
  else if (encoding !== "identity") throw new FloeError("unsupported_media_type", `Content-Encoding ${encoding} is not supported (use gzip or none)`, { details: { contentEncoding: encoding } });
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof FloeError) throw e;
    throw new FloeError("invalid_input", `the body could not be read${encoding === "gzip" ? " as gzip" : ""}: ${(e as Error).message}`, { details: { contentEncoding: encoding } });
  }
  return concatBytes(chunks, size);
}

function tooLarge(limit: number): FloeError {
  return new FloeError("too_large", `the body is over the limit of ${limit} bytes (after decompression); split it into several requests`, { details: { limit } });
}

/**
 * Rows of an events body: a JSON object (one event), a JSON array of objects, or NDJSON (one
 * object per line). Invalid JSON is refused with where it is: the line for NDJSON.
 */
export function parseEvents(text: string, contentType: string | undefined): unknown[] {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new FloeError("invalid_input", `invalid JSON: ${(e as Error).message}`);
    }
    const rows = Array.isArray(v) ? v : [v];
    if (!rows.length) throw new FloeError("invalid_input", "no events: the array is empty");
    return rows;
  }
  if (NDJSON_TYPES.has(type)) {
    const rows: unknown[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      try {
        rows.push(JSON.parse(line));
      } catch (e) {
        throw new FloeError("invalid_input", `line ${i + 1}: invalid JSON (${(e as Error).message})`, { details: { line: i + 1 } });
      }
    }
    if (!rows.length) throw new FloeError("invalid_input", "no events: the body is empty");
    return rows;
  }
  throw new FloeError("unsupported_media_type", `Content-Type ${type || "(none)"} is not supported: send application/json (an object or an array of objects) or application/x-ndjson`, { details: { contentType: type } });
}
