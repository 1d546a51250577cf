import { FloeError } from "../errors.js";

/**
 * Byte-stream plumbing shared by the decoders (gzip is in gzip.ts): a look at the first
 * chunk (a zero-byte upload decodes to zero rows before any format sees it), and a bounded
 * read-everything for the formats that need the whole file (Parquet without random access).
 */

/**
 * Reads up to the first non-empty chunk of `input`: `undefined` when the stream holds no bytes at
 * all, else a stream that yields everything, that chunk included.
 */
export async function nonEmpty(input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array> | undefined> {
  const reader = input.getReader();
  let first: Uint8Array | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      reader.releaseLock();
      return undefined;
    }
    if (value.byteLength > 0) {
      first = value;
      break;
    }
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        controller.enqueue(first);
        first = undefined;
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Reads a whole stream into one buffer, refusing more than `limit` bytes (FloeError `too_large`).
 * With the size known in advance (`size`, e.g. an R2 object's) the buffer is allocated once.
 */
export async function readAll(input: ReadableStream<Uint8Array>, limit: number, size?: number): Promise<Uint8Array> {
  const tooLarge = (got: number) =>
    new FloeError("too_large", `the file needs to be read whole and is larger than ${limit} bytes (at least ${got})`, { details: { limit, size: got } });
  if (size !== undefined && size > limit) throw tooLarge(size);
  const reader = input.getReader();
  // One growing buffer (exact when `size` is right): peak memory stays near the file's size.
  let buf = new Uint8Array(size ?? 64 * 1024);
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(total + value.byteLength);
      }
      if (total + value.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.min(limit, Math.max(buf.byteLength * 2, total + value.byteLength)));
        grown.set(buf.subarray(0, total));
        buf = grown;
      }
      buf.set(value, total);
      total += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return total === buf.byteLength ? buf : buf.subarray(0, total);
}

/** A stream of the bytes, for tests and for callers holding a file in memory. */
export function streamOf(bytes: Uint8Array, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) controller.close();
      else {
        controller.enqueue(bytes.subarray(at, at + chunkSize));
        at += chunkSize;
      }
    },
  });
}

/** The parts joined into one array of `size` bytes (their total). */
export function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
