import { FloeError } from "../errors.js";
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, isSpace, LF, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "./json-bytes.js";

export interface JsonOptions {
  /** Rows handed out per yield. */
  batchRows?: number;
  /** Largest accepted element in bytes: bounds what one element can make the decoder hold. */
  maxRecordBytes?: number;
}

// The cutter reads JSON's structural characters as bytes (json-bytes.ts): every byte of a
// multi-byte UTF-8 sequence is ≥ 0x80, so it never mistakes part of a character for one of them.

const enum State {
  /** Before the first value: `[` starts an array, anything else a sequence of values. */
  Start,
  /** Just after `[`: a value or `]`. */
  ArrayFirst,
  /** After `,` in the array: a value. */
  ArrayNext,
  /** After an element: `,` or `]`. */
  ArrayAfter,
  /** After the closing `]`: whitespace only. */
  ArrayDone,
  /** A sequence of whitespace-separated values (JSON Lines, or concatenated pretty-printed objects). */
  Sequence,
}

/** Where an element is, for messages. */
interface Place {
  element: number;
  line: number;
  byte: number;
}

/**
 * Streams the rows of a JSON document that is either one top-level array of objects
 * (`[{…},{…}]`) or a sequence of objects separated by whitespace (JSON Lines, which many tools
 * write under a `.json` name, or pretty-printed objects one after another). A scanner tracks
 * strings, escapes and nesting depth on the raw bytes to cut the elements; the elements that a
 * chunk holds whole are parsed with one `JSON.parse` (an element cut by a chunk boundary on its
 * own), so memory holds one chunk, one element and one batch. A UTF-8 BOM is skipped; a file of
 * only whitespace, or `[]`, has no rows.
 *
 * Errors are FloeError `invalid_input` naming the 0-based element, its line and its byte offset
 * (counted in the decompressed bytes): invalid JSON, an element that is not an object, a missing
 * `,`, data after the closing `]`, and an array that ends before its `]` (a truncated upload).
 *
 * @example
 * for await (const rows of jsonRows(object.body)) console.log(rows.length);
 */
export async function* jsonRows(input: ReadableStream<Uint8Array>, opts: JsonOptions = {}): AsyncGenerator<Record<string, unknown>[]> {
  yield* cutJson(input, opts, rowSink(opts.batchRows ?? 10_000));
}

/**
 * Where the cutter hands the elements it cuts, in order. An element lies whole in the current
 * chunk (`buf` is the chunk) or was joined from several (`buf` is its own); `parse` reads one as
 * the reference does (JSON.parse, and the refusals named by element, line and byte). At the end of
 * each chunk the cutter takes the batches that are ready (`ready`), and all at the end (`final`).
 */
export interface JsonSink<B> {
  element(buf: Uint8Array, start: number, end: number, place: JsonPlace, parse: (bytes: Uint8Array, p: JsonPlace) => Record<string, unknown>, inChunk: boolean): void;
  /** The chunk is cut: settle what was deferred (may throw the first bad element). */
  endChunk(chunk: Uint8Array, helpers: ChunkHelpers): void;
  ready(final: boolean): B[];
}

export type JsonPlace = Place;

/** What a sink may use at a chunk's end: the reading of a run of elements as one array, of one element, of a parsed value. */
export interface ChunkHelpers {
  /** The values of `[bytes]`, or undefined if that is not JSON (or not UTF-8). */
  parseRun(bytes: Uint8Array): unknown[] | undefined;
  parse(bytes: Uint8Array, p: JsonPlace): Record<string, unknown>;
  asRow(v: unknown, p: JsonPlace): Record<string, unknown>;
  /** The input is a sequence of values (JSON Lines), not one array: elements are separated by whitespace, not commas. */
  sequence: boolean;
}

/** The reference sink: elements parsed (whole ones of a chunk with one JSON.parse), rows in batches. */
function rowSink(batchRows: number): JsonSink<Record<string, unknown>[]> {
  let batch: Record<string, unknown>[] = [];
  // Elements that start and end inside the current chunk, parsed together at its end.
  let whole: (Place & { start: number; end: number })[] = [];
  return {
    element(buf, start, end, p, parse, inChunk) {
      if (inChunk) whole.push({ ...p, start, end });
      else batch.push(parse(buf.subarray(start, end), p)); // joined: the first to end in this chunk, so order is kept
    },
    endChunk(chunk, { parseRun, parse, asRow, sequence }) {
      if (whole.length === 0) return;
      const first = whole[0].start;
      const span = chunk.slice(first, whole[whole.length - 1].end);
      // Between two elements of an array there is a comma; in a sequence only whitespace, one byte
      // of which becomes a comma. Then the span is the inside of one array: one JSON.parse.
      let joinable = true;
      if (sequence) {
        for (let k = 1; k < whole.length && joinable; k++) {
          const gap = whole[k].start - 1 - first;
          if (whole[k].start > whole[k - 1].end && isSpace(span[gap])) span[gap] = COMMA;
          else joinable = false;
        }
      }
      let values: unknown[] | undefined;
      if (joinable) values = parseRun(span);
      // `start`/`end` are offsets in this chunk: they stay out of an error's details, which must not
      // depend on how the input was chunked (the property tests compare chunkings).
      const place = ({ element, line, byte }: Place): Place => ({ element, line, byte });
      if (values && values.length === whole.length) for (let k = 0; k < whole.length; k++) batch.push(asRow(values[k], place(whole[k])));
      else for (const w of whole) batch.push(parse(chunk.subarray(w.start, w.end), place(w)));
      whole = [];
    },
    ready(final) {
      const out: Record<string, unknown>[][] = [];
      let i = 0;
      for (; i + batchRows <= batch.length || (final && i < batch.length); i += batchRows) out.push(batch.slice(i, i + batchRows));
      batch = batch.slice(i);
      return out;
    },
  };
}

/** The cutter (see jsonRows), handing its elements to `sink`. */
export async function* cutJson<B>(input: ReadableStream<Uint8Array>, opts: JsonOptions, sink: JsonSink<B>): AsyncGenerator<B> {
  const maxBytes = opts.maxRecordBytes ?? 16 * 1024 * 1024;
  // Decodes one element (or a run of them) at a time. `ignoreBOM: true` keeps a U+FEFF that opens
  // an element in its text, where JSON.parse refuses it: with `false` every decode call dropped it,
  // so a BOM in the middle of a file passed for whitespace (the file's own BOM is skipped by the
  // scanner, in State.Start).
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  let state = State.Start;
  let offset = 0; // absolute offset of the current chunk's first byte
  let line = 1;
  let element = 0; // index of the next element to start
  // The element being cut: where it started, its bytes from earlier chunks, its nesting.
  let inValue = false;
  let valueStart = 0;
  let valueLine = 1;
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  const fail = (message: string, details: Record<string, unknown>): never => {
    throw new FloeError("invalid_input", `JSON: ${message}`, { details: { format: "json", ...details } });
  };
  const named = (p: Place) => `element ${p.element} (line ${p.line}, byte ${p.byte})`;
  const tooLarge = (p: Place): never => {
    throw new FloeError("too_large", `JSON: ${named(p)} is longer than ${maxBytes} bytes`, { details: { format: "json", ...p, limit: maxBytes } });
  };
  /** Parses one element's bytes, or says exactly what is wrong with them. */
  const parseOne = (bytes: Uint8Array, p: Place): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes));
    } catch (e) {
      fail(`${named(p)}: ${e instanceof TypeError ? "not valid UTF-8" : `invalid JSON (${(e as Error).message})`}`, { ...p });
    }
    return asRow(value, p);
  };
  const asRow = (value: unknown, p: Place): Record<string, unknown> => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      fail(`${named(p)}: expected an object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`, { ...p });
    }
    return value as Record<string, unknown>;
  };

  const parseRun = (bytes: Uint8Array): unknown[] | undefined => {
    try {
      return JSON.parse(`[${decoder.decode(bytes)}]`) as unknown[];
    } catch {
      return undefined; // one of them is bad: parse them one by one to say which
    }
  };
  const parseWhole = (chunk: Uint8Array) => sink.endChunk(chunk, { parseRun, parse: parseOne, asRow, sequence: state === State.Sequence });

  const reader = input.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      let segStart = 0; // where the current element's bytes begin in this chunk
      const n = chunk.byteLength;
      /** The element being cut ends before byte `end` of this chunk. */
      const endValue = (end: number) => {
        const p = { element, line: valueLine, byte: valueStart };
        element++;
        inValue = false;
        if (parts.length === 0) {
          if (end - segStart > maxBytes) tooLarge(p);
          sink.element(chunk, segStart, end, p, parseOne, true);
          return;
        }
        // Begun in an earlier chunk: it is the first to end in this one, so order is kept.
        const bytes = concat(parts, partBytes, chunk.subarray(segStart, end));
        parts = [];
        partBytes = 0;
        if (bytes.byteLength > maxBytes) tooLarge(p);
        sink.element(bytes, 0, bytes.byteLength, p, parseOne, false);
      };
      try {
        for (let i = 0; i < n; i++) {
          let b = chunk[i];
          if (inValue) {
            if (inString) {
              // The hot loop: run to the closing quote.
              for (; i < n; i++) {
                b = chunk[i];
                if (escaped) escaped = false;
                else if (b === BACKSLASH) escaped = true;
                else if (b === QUOTE) {
                  inString = false;
                  break;
                }
              }
              continue;
            }
            if (b === QUOTE) {
              inString = true;
              continue;
            }
            if (b === OPEN_BRACE || b === OPEN_BRACKET) {
              depth++;
              continue;
            }
            if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && depth > 0) {
              if (--depth === 0) endValue(i + 1);
              continue;
            }
            if (!(depth === 0 && (isSpace(b) || b === COMMA || b === CLOSE_BRACKET || b === CLOSE_BRACE))) {
              if (b === LF) line++;
              continue;
            }
            // The end of a bare scalar (`[1, 2]`): cut before it and read `b` as structure below.
            endValue(i);
          }
          if (isSpace(b)) {
            if (b === LF) line++;
            continue;
          }
          const at = offset + i;
          switch (state) {
            case State.Start:
              // A UTF-8 byte order mark (EF BB BF) may open the file.
              if (at < 3 && b === [0xef, 0xbb, 0xbf][at]) continue;
              if (b === OPEN_BRACKET) {
                state = State.ArrayFirst;
                continue;
              }
              state = State.Sequence;
              break;
            case State.ArrayFirst:
              if (b === CLOSE_BRACKET) {
                state = State.ArrayDone;
                continue;
              }
              break;
            case State.ArrayNext:
              if (b === CLOSE_BRACKET) fail(`byte ${at} (line ${line}): expected element ${element} after ',', got ']'`, { element, line, byte: at });
              break;
            case State.ArrayAfter:
              if (b === COMMA) state = State.ArrayNext;
              else if (b === CLOSE_BRACKET) state = State.ArrayDone;
              else fail(`byte ${at} (line ${line}): expected ',' or ']' after element ${element - 1}, got '${String.fromCharCode(b)}'`, { element: element - 1, line, byte: at });
              continue;
            case State.ArrayDone:
              fail(`byte ${at} (line ${line}): unexpected data after the array's closing ']'`, { line, byte: at });
              break;
            case State.Sequence:
              break;
          }
          // A value starts at `b`.
          if (b === CLOSE_BRACE || b === CLOSE_BRACKET) fail(`byte ${at} (line ${line}): unexpected '${String.fromCharCode(b)}'`, { element, line, byte: at });
          if (state === State.ArrayFirst || state === State.ArrayNext) state = State.ArrayAfter;
          inValue = true;
          valueStart = at;
          valueLine = line;
          segStart = i;
          depth = b === OPEN_BRACE || b === OPEN_BRACKET ? 1 : 0;
          inString = b === QUOTE;
          escaped = false;
        }
      } catch (e) {
        // An element earlier in this chunk may be broken too: report the first problem in the file.
        parseWhole(chunk);
        throw e;
      }
      parseWhole(chunk);
      if (inValue) {
        const rest = chunk.slice(segStart); // a copy: the stream may reuse its chunk
        parts.push(rest);
        partBytes += rest.byteLength;
        if (partBytes > maxBytes) tooLarge({ element, line: valueLine, byte: valueStart });
      }
      offset += n;
      yield* sink.ready(false);
    }
    if (inValue) {
      const p = { element, line: valueLine, byte: valueStart };
      if (depth === 0 && !inString) {
        const bytes = concat(parts, partBytes, new Uint8Array(0));
        sink.element(bytes, 0, bytes.byteLength, p, parseOne, false);
      } else fail(`${named(p)} is incomplete: the data ends at byte ${offset} (truncated?)`, { ...p, end: offset });
    }
    if (state === State.ArrayFirst || state === State.ArrayNext || state === State.ArrayAfter) {
      fail(`the array ends at byte ${offset} without its closing ']' after ${element} elements (truncated?)`, { element, line, byte: offset });
    }
    yield* sink.ready(true);
  } finally {
    reader.releaseLock();
  }
}

function concat(parts: Uint8Array[], size: number, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(size + tail.byteLength);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  out.set(tail, at);
  return out;
}
