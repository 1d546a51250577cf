import { Inflate } from "pako";
import { FloeError } from "../errors.js";

/**
 * Compressed bytes handed to the inflater per step. Deflate expands at most ~1032:1, so one step
 * can produce at most ~8.3 MB, and the stream holds no more than that (plus pako's 32 KB window)
 * however slowly its reader goes and however hostile the file: this is the memory bound of every
 * gzip path (uploads and `Content-Encoding: gzip` request bodies).
 */
const STEP = 8 * 1024;

/** pako's status codes (zlib's): Z_BUF_ERROR means the input ended before the stream did. */
const Z_BUF_ERROR = -5;

/**
 * Gunzips `input` as its reader asks for bytes, never ahead of it.
 *
 * Why not the platform's `DecompressionStream`: in workerd it inflates as fast as its input
 * arrives, whatever the reader's pace, so a 200 MB .gz read by a slower decoder grew the process
 * by 1.67 GB (measured). pako is a port of zlib that inflates synchronously in steps we choose,
 * checks the CRC-32 and length of every member like zlib (fflate's streaming Gunzip does not),
 * and runs in workerd (pure JavaScript, no code generation).
 *
 * Concatenated gzip members are read as one stream (RFC 1952 §2.2); zero bytes after a member
 * are padding. Corrupt or truncated data fails the stream with FloeError `invalid_input` naming
 * how many decompressed bytes came out before it (they are delivered first); an error of `input`
 * itself (a storage read that broke) passes through unchanged.
 *
 * @example
 * const text = await new Response(gunzip(object.body)).text();
 */
export function gunzip(input: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const source = input.getReader();
  const out: Uint8Array[] = [];
  let produced = 0;
  let failure: FloeError | undefined;
  let finished = false;
  let chunk: Uint8Array | undefined;
  let at = 0;
  let inflater: Inflate | undefined;

  const fresh = () => {
    // windowBits 16 + 15: gzip only (pako would also take a zlib stream by default).
    const next = new Inflate({ chunkSize: 64 * 1024, windowBits: 16 + 15 });
    next.onData = (data: Uint8Array) => {
      produced += data.byteLength;
      out.push(data);
    };
    next.onEnd = () => {};
    return next;
  };
  const fail = (status: number, msg: string) => {
    const why = status === Z_BUF_ERROR ? "truncated" : "corrupt";
    failure = new FloeError("invalid_input", `gzip: not valid gzip data (${why}${msg ? `, ${msg}` : ""}) after ${produced} decompressed bytes`, {
      details: { format: "gzip", byte: produced },
    });
    void source.cancel(failure).catch(() => {});
  };
  /** One step: inflate up to STEP compressed bytes, or finish at the end of the input. */
  const step = async () => {
    if (!chunk || at >= chunk.byteLength) {
      const next = await source.read();
      if (next.done) {
        finished = true;
        // An empty input is an empty file; a member cut short says so here (Z_BUF_ERROR).
        if (inflater && !inflater.ended) inflater.push(new Uint8Array(0), true);
        if (inflater && inflater.err) fail(inflater.err, inflater.msg);
        return;
      }
      chunk = next.value;
      at = 0;
      return;
    }
    if (inflater?.ended) {
      // pako stops at a member that ends exactly at a step's end: a new member starts a new
      // inflater; a zero byte there means padding, and the rest is ignored, as zlib does.
      if (chunk[at] === 0) {
        at = chunk.byteLength;
        return;
      }
      inflater = undefined;
    }
    inflater ??= fresh();
    const slice = chunk.subarray(at, Math.min(chunk.byteLength, at + STEP));
    at += slice.byteLength;
    inflater.push(slice, false);
    if (inflater.err) fail(inflater.err, inflater.msg);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (out.length === 0 && !failure && !finished) await step();
        const next = out.shift();
        if (next) controller.enqueue(next);
        else if (failure) controller.error(failure);
        else controller.close();
      },
      cancel: (reason) => source.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
