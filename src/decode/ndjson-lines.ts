import { FloeError } from "../errors.js";
import { concatBytes } from "./bytes.js";
import { LF } from "./json-bytes.js";

/**
 * Whole lines of the input: `buf[start, end)` holds them, each ended by `\n` except perhaps the last
 * line of the input. The consumer walks them (`lineEnd`) and checks their length (`checkLine`), so
 * the columnar scanner can find a line's end as it reads it instead of in a pass of its own.
 */
export interface Stretch {
  buf: Uint8Array;
  start: number;
  end: number;
}

/** The number (1-based) of the next line the consumer will read: it counts, the splitter names lines by it in refusals. */
export interface LineCounter {
  line: number;
}


/** Where the line that starts at `from` ends (its `\n`, or the stretch's end). */
export function lineEnd(s: Stretch, from: number): number {
  const nl = s.buf.indexOf(LF, from);
  return nl === -1 || nl >= s.end ? s.end : nl;
}

/** Refuses a line longer than the limit, naming it (`too_large`). */
export function checkLine(bytes: number, line: number, maxLineBytes: number): void {
  if (bytes > maxLineBytes) throw tooLong(line, maxLineBytes);
}

const tooLong = (line: number, maxLineBytes: number) => new FloeError("too_large", `line ${line}: longer than ${maxLineBytes} bytes`, { details: { line, limit: maxLineBytes } });

/**
 * Cuts a byte stream into stretches of whole lines, holding at most one unfinished line (the part
 * of a line cut by a chunk boundary is copied once, when its end arrives; every other line stays in
 * its chunk). A UTF-8 byte-order mark at the start of the input is dropped, as a TextDecoder does.
 * Newlines are found in bytes, which is exact for UTF-8: no multi-byte sequence holds 0x0A. A line
 * longer than `maxLineBytes` is refused (`too_large`, naming it) whether or not it ends in the chunk
 * that holds it, so the limit does not depend on how the input was cut: the unfinished line here,
 * the lines of a stretch by its consumer (`checkLine`) as it reaches them.
 */
export async function* ndjsonLines(stream: ReadableStream<Uint8Array>, maxLineBytes: number, at: LineCounter): AsyncGenerator<Stretch> {
  const reader = stream.getReader();
  let carry: Uint8Array[] = [];
  let carryBytes = 0;
  let atStart = true;
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
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
          chunk = concatBytes([...carry, chunk], carryBytes + chunk.length);
          carry = [];
          carryBytes = 0;
        }
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      let from = 0;
      const first = chunk.indexOf(LF);
      if (first === -1) {
        carry.push(chunk);
        carryBytes += chunk.length;
        if (carryBytes > maxLineBytes) throw tooLong(at.line, maxLineBytes);
        continue;
      }
      if (carryBytes > 0) {
        // The line begun in earlier chunks ends here: its bytes, joined, are a stretch of their own.
        if (carryBytes + first > maxLineBytes) throw tooLong(at.line, maxLineBytes);
        const joined = concatBytes([...carry, chunk.subarray(0, first + 1)], carryBytes + first + 1);
        carry = [];
        carryBytes = 0;
        yield { buf: joined, start: 0, end: joined.length };
        from = first + 1;
      }
      const last = chunk.lastIndexOf(LF);
      if (last >= from) {
        yield { buf: chunk, start: from, end: last + 1 };
      }
      if (last + 1 < chunk.length) {
        carry.push(chunk.subarray(last + 1));
        carryBytes += chunk.length - last - 1;
        if (carryBytes > maxLineBytes) throw tooLong(at.line, maxLineBytes);
      }
    }
    if (carryBytes > 0) {
      let tail = concatBytes(carry, carryBytes);
      if (atStart && tail[0] === 0xef && tail[1] === 0xbb && tail[2] === 0xbf) tail = tail.subarray(3);
      yield { buf: tail, start: 0, end: tail.length };
    }
  } finally {
    // Left before its end (a refusal, or a consumer that stopped reading): the rest is not wanted.
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
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
export function decodeStretch(s: Stretch): string[] | null {
  try {
    const text = strict.decode(s.buf.subarray(s.start, s.end));
    const lines = text.split("\n");
    if (s.buf[s.end - 1] === LF) lines.pop(); // the text after the stretch's last \n is no line
    return lines;
  } catch {
    return null;
  }
}

/** What a JSON value that should have been an object is, for refusals. */
export function describeJson(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}
