import { FloeError } from "../errors.js";

/** Complete lines of one stretch of input: line k is `buf[starts[k], ends[k])`, without its `\n`. */
export interface Lines {
  buf: Uint8Array;
  starts: number[];
  ends: number[];
  /** 1-based number of the first line. */
  firstLine: number;
}

const LF = 0x0a;

/**
 * Splits a byte stream into lines on `\n`, holding at most one unfinished line (the part of a
 * line cut by a chunk boundary is copied once, when its end arrives; every other line is a view
 * of its chunk). A UTF-8 byte-order mark at the start of the input is dropped, as a TextDecoder
 * does. Newlines are found in bytes, which is exact for UTF-8: no multi-byte sequence holds 0x0A.
 * A line longer than `maxLineBytes` is refused (`too_large`, naming it) whether or not it ends in
 * the chunk that holds it, so the limit does not depend on how the input was cut.
 */
export async function* ndjsonLines(stream: ReadableStream<Uint8Array>, maxLineBytes: number): AsyncGenerator<Lines> {
  const reader = stream.getReader();
  let line = 1; // number of the next line
  let carry: Uint8Array[] = [];
  let carryBytes = 0;
  let atStart = true;
  const tooLong = () => new FloeError("too_large", `line ${line}: longer than ${maxLineBytes} bytes`, { details: { line, limit: maxLineBytes } });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (atStart) {
        // The mark may arrive split: wait until three bytes are there to tell.
        if (carryBytes + chunk.length < 3) {
          carry.push(chunk);
          carryBytes += chunk.length;
          continue;
        }
        atStart = false;
        if (carryBytes) {
          chunk = concat([...carry, chunk], carryBytes + chunk.length);
          carry = [];
          carryBytes = 0;
        }
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      let from = 0;
      let nl = chunk.indexOf(LF);
      if (nl !== -1 && carryBytes > 0) {
        // The line begun in earlier chunks ends here: its bytes, joined, are a stretch of their own.
        if (carryBytes + nl > maxLineBytes) throw tooLong();
        const joined = concat([...carry, chunk.subarray(0, nl)], carryBytes + nl);
        carry = [];
        carryBytes = 0;
        yield { buf: joined, starts: [0], ends: [joined.length], firstLine: line++ };
        from = nl + 1;
        nl = chunk.indexOf(LF, from);
      }
      const starts: number[] = [];
      const ends: number[] = [];
      const first = line;
      while (nl !== -1) {
        if (nl - from > maxLineBytes) throw tooLong();
        starts.push(from);
        ends.push(nl);
        line++;
        from = nl + 1;
        nl = chunk.indexOf(LF, from);
      }
      if (starts.length) yield { buf: chunk, starts, ends, firstLine: first };
      if (from < chunk.length) {
        carry.push(chunk.subarray(from));
        carryBytes += chunk.length - from;
        if (carryBytes > maxLineBytes) throw tooLong();
      }
    }
    if (carryBytes > 0) {
      let last = concat(carry, carryBytes);
      if (atStart && last[0] === 0xef && last[1] === 0xbb && last[2] === 0xbf) last = last.subarray(3);
      yield { buf: last, starts: [0], ends: [last.length], firstLine: line };
    }
  } finally {
    reader.releaseLock();
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * One NDJSON line as the reference path reads it: UTF-8 (refused, naming the line, if it is not),
 * a trailing `\r` dropped, a line of only whitespace skipped (undefined), anything else
 * `JSON.parse`d (refused with the parser's reason and the line's number).
 */
export function parseLine(bytes: Uint8Array, line: number): unknown {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    throw new FloeError("invalid_input", `line ${line}: not valid UTF-8`, { details: { line } });
  }
  return parseText(text, line);
}

/** `parseLine` for a line already decoded. */
export function parseText(text: string, line: number): unknown {
  const t = text.endsWith("\r") ? text.slice(0, -1) : text;
  if (t.trim() === "") return undefined;
  try {
    return JSON.parse(t);
  } catch (e) {
    throw new FloeError("invalid_input", `line ${line}: invalid JSON (${(e as Error).message})`, { details: { line } });
  }
}

/**
 * The text of every line of a stretch, by one decode of the whole stretch; null when it is not
 * valid UTF-8 (then `parseLine` line by line names the line that is not).
 */
export function decodeLines(lines: Lines): string[] | null {
  const { buf, starts, ends } = lines;
  try {
    return strict.decode(buf.subarray(starts[0], ends[ends.length - 1])).split("\n");
  } catch {
    return null;
  }
}

/** What a JSON value that should have been an object is, for refusals. */
export function describeJson(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}
