import { FloeError } from "../errors.js";
import type { IcebergType } from "../iceberg/types.js";
import { sourceRows, type ColumnSource } from "./columns.js";
import { CsvParser, type CsvRecord } from "./csv-parser.js";

/** What a CSV column's text is converted to. */
export type CsvType = "string" | "long" | "double" | "boolean";

export interface CsvOptions {
  /** One character; `,` by default (`\t` for TSV). */
  delimiter?: string;
  /** The first record names the columns (default true); without one they are `column0`, `column1`… */
  header?: boolean;
  /** Column types, e.g. from the table's schema; columns not named here are inferred (or strings with `infer: false`). */
  types?: Record<string, CsvType>;
  /** Infer numbers and booleans in columns without a type (default true). */
  infer?: boolean;
}

export interface CsvReadOptions extends CsvOptions {
  batchRows?: number;
  /** Longest accepted record, in characters. */
  maxRecordBytes?: number;
}

type Convert = (text: string, quoted: boolean, line: number, column: string) => unknown;

// A JSON number literal (RFC 8259 §6): no leading zeros, no `+`, no bare `.5` or `5.`.
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LONG = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The inference rule for a field without a declared type, one value at a time:
 * - an unquoted empty field is null; a quoted empty field (`""`) is the empty string;
 * - a JSON number literal becomes a number: an integer beyond 2^53 a bigint (exact), a decimal
 *   with more than 15 significant digits stays text (a double would round it);
 *   so `02134`, `+1`, `1.` and `0x1F` stay strings (a zip code keeps its zero);
 * - `true` / `false` in any case become booleans;
 * - everything else stays a string (dates and timestamps included: the table's type decides).
 */
export function inferCsvValue(text: string, quoted: boolean): unknown {
  if (text === "") return quoted ? "" : null;
  const c = text.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
    if (INTEGER.test(text)) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    if (NUMBER.test(text) && significantDigits(text) <= 15) return Number(text);
    return text;
  }
  if (text.length === 4 && text.toLowerCase() === "true") return true;
  if (text.length === 5 && text.toLowerCase() === "false") return false;
  return text;
}

function significantDigits(text: string): number {
  const mantissa = text.replace(/[eE].*$/, "").replace(/[-.]/g, "");
  return mantissa.replace(/^0+/, "").length;
}

function typeError(line: number, column: string, type: CsvType, text: string): FloeError {
  const got = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return new FloeError("invalid_input", `CSV line ${line}, column "${column}": expected ${type}, got ${JSON.stringify(got)}`, {
    details: { format: "csv", line, field: column, expected: type },
  });
}

/**
 * Declared conversions. An unquoted empty field is null; so is a quoted empty one for the
 * non-string types. long → bigint (any size up to 64 bits); double accepts decimal and exponent
 * forms plus `NaN`, `Infinity`, `-Infinity`; boolean accepts true/false (any case) and 1/0.
 */
const CONVERT: Record<CsvType, Convert> = {
  string: (text, quoted) => (text === "" && !quoted ? null : text),
  long: (text, _q, line, column) => {
    if (text === "") return null;
    if (!LONG.test(text)) throw typeError(line, column, "long", text);
    const v = BigInt(text);
    if (v < INT64_MIN || v > INT64_MAX) throw typeError(line, column, "long", text);
    return v;
  },
  double: (text, _q, line, column) => {
    if (text === "") return null;
    if (DOUBLE.test(text) || text === "NaN" || text === "Infinity" || text === "-Infinity") return Number(text);
    throw typeError(line, column, "double", text);
  },
  boolean: (text, _q, line, column) => {
    if (text === "") return null;
    const t = text.toLowerCase();
    if (t === "true" || t === "1") return true;
    if (t === "false" || t === "0") return false;
    throw typeError(line, column, "boolean", text);
  },
};

/**
 * Streams the rows of an RFC 4180 CSV file (see `CsvParser` for the dialect), a batch at a time.
 * A UTF-8 BOM is dropped. With a header (the default) its cells name the columns: an empty name
 * becomes `column<i>`, a repeated one is refused. Every record must have as many fields as the
 * header (or, without one, as the first record): a ragged record is refused with the physical
 * line it starts on and both counts. Values follow `types`, else `inferCsvValue`, else stay text.
 * Errors are FloeError `invalid_input` naming the line (and column).
 *
 * @example
 * for await (const rows of csvRows(body, { types: { id: "long" } })) console.log(rows[0]);
 */
export function csvRows(input: ReadableStream<Uint8Array>, opts: CsvReadOptions = {}): AsyncGenerator<Record<string, unknown>[]> {
  return sourceRows(csvGroups(input, opts), opts.batchRows ?? 10_000);
}

/** `csvRows`' batches given column by column (no row objects): the same values, batches and refusals. */
export async function* csvGroups(input: ReadableStream<Uint8Array>, opts: CsvReadOptions = {}): AsyncGenerator<ColumnSource> {
  const batchRows = opts.batchRows ?? 10_000;
  // Each record goes straight into the columns as the tokenizer ends it: no object or array per record.
  const parser = new CsvParser(opts.delimiter ?? ",", opts.maxRecordBytes ?? 16 * 1024 * 1024, (fields, quoted, line) => take(fields, quoted, line));
  const header = opts.header ?? true;
  const infer = opts.infer ?? true;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let names: string[] | undefined;
  let converters: Convert[] = [];
  /** Each column's declared type (undefined: inferred or text). */
  let declared: (CsvType | undefined)[] = [];
  /** The converted values of the rows not yet handed out, a column each. */
  let columns: unknown[][] = [];
  let pending = 0;
  let first = 0;

  const setColumns = (record: CsvRecord, fromHeader: boolean) => {
    names = fromHeader ? record.fields.map((f, i) => (f === "" ? `column${i}` : f)) : record.fields.map((_, i) => `column${i}`);
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) {
        throw new FloeError("invalid_input", `CSV line ${record.line}: the header names column "${name}" twice`, { details: { format: "csv", line: record.line, field: name } });
      }
      seen.add(name);
    }
    declared = names.map((name) => (opts.types && Object.hasOwn(opts.types, name) && Object.hasOwn(CONVERT, opts.types[name]) ? opts.types[name] : undefined));
    converters = names.map((name) => {
      // Own keys only: the header is the file's text, and a column named "constructor" or
      // "__proto__" must not find Object.prototype's members in `types` or in CONVERT.
      const type = opts.types && Object.hasOwn(opts.types, name) ? opts.types[name] : undefined;
      if (type !== undefined) {
        const convert = Object.hasOwn(CONVERT, type) ? CONVERT[type] : undefined;
        if (!convert) throw new FloeError("invalid_input", `CSV: unknown type ${JSON.stringify(type)} for column "${name}"`, { details: { field: name } });
        return convert;
      }
      return infer ? (text: string, quoted: boolean) => inferCsvValue(text, quoted) : CONVERT.string;
    });
    columns = names.map(() => []);
  };

  function take(fields: readonly string[], quoted: readonly boolean[], line: number): void {
    if (names === undefined) {
      setColumns({ fields: fields.slice(), quoted: quoted.slice(), line }, header);
      if (header) return;
    }
    const cols = names!;
    if (fields.length !== cols.length) {
      const expected = cols.length;
      const got = fields.length;
      throw new FloeError("invalid_input", `CSV line ${line}: expected ${expected} fields, got ${got}`, {
        details: { format: "csv", line, expected, got },
      });
    }
    for (let c = 0; c < cols.length; c++) columns[c].push(converters[c](fields[c], quoted[c], line, cols[c]));
    pending++;
  }

  /** The first `n` pending rows as a source. */
  const cut = (n: number): ColumnSource => {
    const values = n === pending ? columns : columns.map((col) => col.splice(0, n));
    if (n === pending) columns = names!.map(() => []);
    pending -= n;
    const types = declared;
    // A declared column's values are already what the row converter makes of them for a field of the
    // same type (long: bigints in range; double: numbers; boolean; text): no converter per value.
    const readInternal = async (i: number, type: IcebergType) => (types[i] !== undefined && types[i] === type ? values[i] : undefined);
    const src: ColumnSource = { first, rowCount: n, names: names!, read: async (i) => values[i], readInternal };
    first += n;
    return src;
  };

  const reader = input.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text: string;
      try {
        text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      } catch {
        const line = parser.currentLine;
        throw new FloeError("invalid_input", `CSV line ${line} or the next: not valid UTF-8 (save the file as UTF-8)`, { details: { format: "csv", line } });
      }
      parser.push(text);
      parser.throwIfRefused();
      if (done) {
        parser.end();
        break;
      }
      while (pending >= batchRows) yield cut(batchRows);
    }
    while (pending > 0) yield cut(Math.min(batchRows, pending));
  } finally {
    reader.releaseLock();
  }
}
