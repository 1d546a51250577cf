import { isoDaysOfBytes, isoMicrosOfBytes } from "../iceberg/iso-fast.js";
import { fieldConverter, type Convert } from "../iceberg/rows.js";
import type { InternalValue, Schema } from "../iceberg/types.js";
import { FNV_OFFSET, FNV_PRIME } from "./dictionary.js";
import { ascii, BACKSLASH, CLOSE_BRACE, COMMA, hex4, LF, literal, OPEN_BRACE, putUtf8, QUOTE, skipSpace, skipValue, strictUtf8, validUtf8 } from "../decode/json-bytes.js";
import { BooleanColumn, columnKinds, newColumn, NumberColumn, StringColumn, type Column, type ColumnKind } from "./columns.js";

const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;

/** Bytes a string's fast loop must stop at: the quote, the backslash, control characters, and non-ASCII (to be validated). */
const SPECIAL = new Uint8Array(256);
for (let x = 0; x < 256; x++) SPECIAL[x] = x < 0x20 || x === QUOTE || x === BACKSLASH || x >= 0x80 ? 1 : 0;

// Column types as the scanner tells them apart (time has no fast form: its lines go to the reference).
const T_BOOLEAN = 1;
const T_INT = 2;
const T_LONG = 3;
const T_FLOAT = 4;
const T_DOUBLE = 5;
const T_STRING = 6;
const T_TIMESTAMP = 7; // timestamp and timestamptz: the same shape is read, UTC
const T_DATE = 8;
/** Any other type (time, decimal, uuid, binary, fixed, nested): the value's JSON text is parsed and converted as the reference does. */
const T_VALUE = 9;
const TYPE_CODES: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, {
  boolean: T_BOOLEAN,
  int: T_INT,
  long: T_LONG,
  float: T_FLOAT,
  double: T_DOUBLE,
  string: T_STRING,
  timestamp: T_TIMESTAMP,
  timestamptz: T_TIMESTAMP,
  date: T_DATE,
});

/** 10^k, exact as doubles for k ≤ 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

// What a member's value was, before the row is committed to the columns.
const NONE = 0;
const NULL = 1;
const NUM = 2;
const STR = 3;
const BOOL = 4;
const VALUE = 5;

/**
 * Reads one NDJSON line straight into typed columns, for a flat schema: `{"key": value, …}` where
 * every key is a column of the table and every value is null or what that column takes as the
 * reference conversion would: a number (long and int when it is an integer in range, double, float
 * when it fits), true/false (boolean), a string (string, with JSON escapes decoded), an ISO instant
 * of the shape `fastIsoUtcMicros` reads (timestamp, timestamptz), `YYYY-MM-DD` (date).
 *
 * Values of other types (time, decimal, uuid, binary, fixed, structs, lists, maps) are cut from the
 * line, parsed alone and converted by the row converter's code for the field.
 *
 * Anything else is not taken (-1) and leaves the columns as they were: unknown, duplicate or
 * escaped keys, a value the column would have to convert or refuse, invalid UTF-8 in a string, a
 * missing required column, a line that is not an object or not JSON. The caller hands such a line to the reference path (`parseLine` and the row converter),
 * which decides it exactly as it would have without this scanner. So the scanner only has to be
 * right about what it accepts; the differential tests hold it to that.
 */
export class LineScanner {
  private readonly names: Uint8Array[];
  private readonly plain: boolean[];
  private readonly converters: (Convert | null)[];
  /** Converted values of T_VALUE columns in the current line. */
  private readonly values: unknown[] = [];
  /** Each column's type as a code (T_…): compared as small integers on every value. */
  private readonly types: Uint8Array;
  private readonly required: boolean[];
  private readonly n: number;
  // Per column, the value found in the current line (when `seen` holds the line's stamp).
  private readonly state: Uint8Array;
  private readonly seen: Float64Array;
  private stamp = 0;
  private readonly num: Float64Array;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  /** String values with escapes are decoded here; `from`/`to` then point into it with `escaped`. */
  private readonly escaped: Uint8Array;
  private readonly hash: Int32Array;
  private unescaped = new Uint8Array(1024);
  private unescapedLen = 0;
  private hint = 0;

  /** A scanner for `schema`. */
  static for(schema: Schema, capacity?: number): LineScanner {
    return new LineScanner(schema, columnKinds(schema), capacity);
  }

  private constructor(
    schema: Schema,
    private readonly kinds: ColumnKind[],
    /** Rows a batch will hold: columns are made that large up front. */
    private readonly capacity?: number,
  ) {
    const enc = new TextEncoder();
    this.names = schema.fields.map((f) => enc.encode(f.name));
    // A name with a quote, a backslash or a control character is written escaped in JSON: its raw
    // bytes are not its key's bytes, so lines with it go to the reference.
    this.plain = this.names.map((name) => name.every((x) => x >= 0x20 && x !== QUOTE && x !== BACKSLASH));
    this.types = Uint8Array.from(schema.fields, (f) => (typeof f.type === "string" ? (TYPE_CODES[f.type] ?? T_VALUE) : T_VALUE));
    // In "error" mode: a value with a field the table lacks is handed over (the reference evolves the schema, or refuses it).
    this.converters = schema.fields.map((f, c) => (this.types[c] === T_VALUE ? fieldConverter(f, { unknownFields: "error" }) : null));
    this.required = schema.fields.map((f) => f.required);
    this.n = schema.fields.length;
    this.state = new Uint8Array(this.n);
    this.seen = new Float64Array(this.n);
    this.num = new Float64Array(this.n);
    this.from = new Int32Array(this.n);
    this.to = new Int32Array(this.n);
    this.escaped = new Uint8Array(this.n);
    this.hash = new Int32Array(this.n);
  }

  /** Rows taken since the last `take`. */
  taken = 0;

  /** Hands over the columns filled so far and starts new ones. */
  take(): Column[] {
    const out = this.filled;
    this.filled = null;
    this.taken = 0;
    return out ?? this.kinds.map((k) => newColumn(k));
  }

  /** The columns being filled, made when the first row after a `take` arrives (a scanner often ends with none). */
  private filled: Column[] | null = null;

  /** Where the last line scanned (taken or blank) ends: its `\n`, or the end given. */
  lineEnd = 0;

  /**
   * Scans the line that starts at b[start] and ends at the next `\n` (or at `end`): 1 when it is
   * blank (whitespace only), 0 when it was taken as a row, -1 when it was not (nothing appended;
   * `lineEnd` is then not known).
   */
  scan(b: Uint8Array, start: number, end: number): number {
    let i = skipSpace(b, start, end);
    if (i === end || b[i] === LF) {
      this.lineEnd = i;
      return 1;
    }
    if (b[i] !== OPEN_BRACE) return -1;
    // A column holds a value of this line when its stamp is this line's (no clearing per line).
    const stamp = ++this.stamp;
    const seen = this.seen;
    this.unescapedLen = 0;
    i = skipSpace(b, i + 1, end);
    if (i < end && b[i] === CLOSE_BRACE) return this.commit(b, skipSpace(b, i + 1, end), end);
    for (;;) {
      if (i >= end || b[i] !== QUOTE) return -1;
      // The key: first the column after the last one found (keys usually come in the same order),
      // compared in place; else the raw bytes up to the closing quote, looked up (an escape in a
      // key is left to the reference).
      const ks = i + 1;
      let c = this.hint;
      let k = ks + this.keyAt(c, b, ks, end);
      if (k === ks - 1) {
        k = ks;
        while (k < end && b[k] !== QUOTE) {
          if (b[k] === BACKSLASH) return -1;
          k++;
        }
        if (k >= end) return -1;
        c = this.column(b, ks, k);
      }
      if (c < 0 || seen[c] === stamp) return -1;
      seen[c] = stamp;
      this.hint = c + 1 === this.n ? 0 : c + 1;
      i = skipSpace(b, k + 1, end);
      if (i >= end || b[i] !== COLON) return -1;
      i = skipSpace(b, i + 1, end);
      if (i >= end) return -1;
      i = this.value(c, b, i, end);
      if (i < 0) return -1;
      i = skipSpace(b, i, end);
      if (i >= end) return -1;
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1, end);
        continue;
      }
      if (b[i] !== CLOSE_BRACE) return -1;
      return this.commit(b, skipSpace(b, i + 1, end), end);
    }
  }

  /** The length of column c's name if the key at b[s] is that name and ends there with its quote, else -1. */
  private keyAt(c: number, b: Uint8Array, s: number, end: number): number {
    const name = this.names[c];
    const len = name.length;
    if (!this.plain[c] || s + len >= end || b[s + len] !== QUOTE) return -1;
    for (let k = 0; k < len; k++) if (name[k] !== b[s + k]) return -1;
    return len;
  }

  /** The column whose name is the raw key b[s, e), or -1. */
  private column(b: Uint8Array, s: number, e: number): number {
    for (let c = 0; c < this.n; c++) {
      const name = this.names[c];
      if (!this.plain[c] || name.length !== e - s) continue;
      let k = 0;
      while (k < name.length && name[k] === b[s + k]) k++;
      if (k === name.length) return c;
    }
    return -1;
  }

  /** Reads the value at b[i] for column c; returns the index after it, or -1. */
  private value(c: number, b: Uint8Array, i: number, end: number): number {
    const x = b[i];
    const type = this.types[c];
    if (type === T_VALUE) return this.generic(c, b, i, end);
    if (x === 0x6e /* n */) {
      if (!literal(b, i, end, "null") || this.required[c]) return -1;
      this.state[c] = NULL;
      return i + 4;
    }
    if (x === 0x74 /* t */ || x === 0x66 /* f */) {
      if (type !== T_BOOLEAN) return -1;
      const word = x === 0x74 ? "true" : "false";
      if (!literal(b, i, end, word)) return -1;
      this.state[c] = BOOL;
      this.num[c] = x === 0x74 ? 1 : 0;
      return i + word.length;
    }
    if (x === QUOTE) {
      if (type === T_STRING) return this.string(c, b, i + 1, end);
      if (type === T_TIMESTAMP || type === T_DATE) {
        // The shapes read here have a fixed length (10 for a date, 20–30 for an instant): look for the quote there first.
        let k = i + 1;
        if (type === T_DATE) k += 10;
        else if (i + 25 < end && b[i + 25] === QUOTE) k = i + 25;
        else while (k < end && b[k] !== QUOTE && b[k] !== BACKSLASH) k++;
        if (k >= end || b[k] !== QUOTE) return -1;
        const v = type === T_DATE ? isoDaysOfBytes(b, i + 1, k) : isoMicrosOfBytes(b, i + 1, k);
        if (v === undefined) return -1;
        this.state[c] = NUM;
        this.num[c] = v;
        return k + 1;
      }
      return -1;
    }
    if (x === MINUS || (x >= 0x30 && x <= 0x39)) return this.number(c, b, i, end, type);
    return -1;
  }

  /**
   * A value of a type without a typed reading: its JSON text is cut (balanced brackets, strings
   * with escapes), parsed and converted by the reference's converter for the field. A refusal of
   * either hands the line over, where the reference names it.
   */
  private generic(c: number, b: Uint8Array, i: number, end: number): number {
    const k = skipValue(b, i, end);
    if (k < 0) return -1;
    let v: unknown;
    try {
      v = this.converters[c]!(JSON.parse(strictUtf8.decode(b.subarray(i, k))), 0, "");
    } catch {
      return -1;
    }
    if ((v === null || v === undefined) && this.required[c]) return -1;
    this.state[c] = VALUE;
    this.values[c] = v;
    return k;
  }

  /**
   * A JSON number token, as the column takes it (the reference's rules: long a safe integer, int
   * an integer in 32 bits, float one that fits 32 bits). Up to 15 digits without exponent it is
   * read as m / 10^k, which is the correctly rounded double JSON.parse gives (both exact, one
   * rounding); longer ones and exponents go through Number() on the token's text, the same
   * conversion JSON.parse uses.
   */
  private number(c: number, b: Uint8Array, i: number, end: number, type: number): number {
    const neg = b[i] === MINUS;
    let k = neg ? i + 1 : i;
    const ds = k;
    let m = 0;
    while (k < end && b[k] >= 0x30 && b[k] <= 0x39) m = m * 10 + (b[k++] - 0x30);
    const intDigits = k - ds;
    if (intDigits === 0 || (intDigits > 1 && b[ds] === 0x30)) return -1;
    let frac = 0;
    if (k < end && b[k] === DOT) {
      const fs = ++k;
      while (k < end && b[k] >= 0x30 && b[k] <= 0x39) m = m * 10 + (b[k++] - 0x30);
      frac = k - fs;
      if (frac === 0) return -1;
    }
    let exp = false;
    if (k < end && (b[k] === 0x65 || b[k] === 0x45)) {
      exp = true;
      k++;
      if (k < end && (b[k] === 0x2b || b[k] === MINUS)) k++;
      const es = k;
      while (k < end && b[k] >= 0x30 && b[k] <= 0x39) k++;
      if (k === es) return -1;
    }
    let v: number;
    if (!exp && intDigits + frac <= 15) {
      v = frac ? m / POW10[frac] : m;
      if (neg) v = -v;
    } else v = Number(ascii(b, i, k));
    switch (type) {
      case T_LONG:
        if (!Number.isSafeInteger(v)) return -1;
        v = v === 0 ? 0 : v; // -0 is 0 as a long
        break;
      case T_INT:
        if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) return -1;
        v = v | 0;
        break;
      case T_FLOAT: {
        const f = Math.fround(v);
        if (Number.isFinite(v) && !Number.isFinite(f)) return -1; // the reference refuses it, naming the row
        v = f;
        break;
      }
      case T_DOUBLE:
        break;
      default:
        return -1;
    }
    this.state[c] = NUM;
    this.num[c] = v;
    return k;
  }

  /**
   * A string's body from b[i] (after the opening quote): raw when it has no escape, else decoded.
   * The dictionary's hash is taken in the same pass (FNV-1a, as `StringDictionary.intern`).
   */
  private string(c: number, b: Uint8Array, i: number, end: number): number {
    let k = i;
    let high = false;
    let h = FNV_OFFSET;
    for (;;) {
      if (k >= end) return -1;
      const x = b[k];
      if (SPECIAL[x] !== 0) {
        if (x === QUOTE) break;
        if (x === BACKSLASH) return this.escapedString(c, b, i, end);
        if (x < 0x20) return -1;
        high = true;
      }
      h = Math.imul(h ^ x, FNV_PRIME);
      k++;
    }
    if (high && !validUtf8(b, i, k)) return -1;
    this.state[c] = STR;
    this.escaped[c] = 0;
    this.from[c] = i;
    this.to[c] = k;
    this.hash[c] = h;
    return k + 1;
  }

  private escapedString(c: number, b: Uint8Array, i: number, end: number): number {
    const start = this.unescapedLen;
    // Decoded, a string is never longer than its JSON text.
    if (this.unescaped.length < start + (end - i)) {
      const grown = new Uint8Array(Math.max(this.unescaped.length * 2, start + (end - i)));
      grown.set(this.unescaped.subarray(0, start));
      this.unescaped = grown;
    }
    const out = this.unescaped;
    let o = start;
    let k = i;
    let runStart = k;
    for (;;) {
      if (k >= end) return -1;
      const x = b[k];
      if (x === QUOTE) break;
      if (x < 0x20) return -1;
      if (x !== BACKSLASH) {
        k++;
        continue;
      }
      if (!validUtf8(b, runStart, k)) return -1;
      while (runStart < k) out[o++] = b[runStart++];
      if (k + 1 >= end) return -1;
      const e = b[k + 1];
      k += 2;
      switch (e) {
        case QUOTE:
        case BACKSLASH:
        case 0x2f /* / */:
          out[o++] = e;
          break;
        case 0x62 /* b */:
          out[o++] = 8;
          break;
        case 0x66 /* f */:
          out[o++] = 12;
          break;
        case 0x6e /* n */:
          out[o++] = 10;
          break;
        case 0x72 /* r */:
          out[o++] = 13;
          break;
        case 0x74 /* t */:
          out[o++] = 9;
          break;
        case 0x75 /* u */: {
          let cp = hex4(b, k, end);
          if (cp < 0) return -1;
          k += 4;
          if (cp >= 0xd800 && cp <= 0xdbff && b[k] === BACKSLASH && b[k + 1] === 0x75) {
            const lo = hex4(b, k + 2, end);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              k += 6;
            }
          }
          // A lone surrogate is a JS string JSON.parse makes, but not UTF-8: the reference writes it as U+FFFD.
          if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
          o = putUtf8(out, o, cp);
          break;
        }
        default:
          return -1;
      }
      runStart = k;
    }
    if (!validUtf8(b, runStart, k)) return -1;
    while (runStart < k) out[o++] = b[runStart++];
    this.unescapedLen = o;
    this.state[c] = STR;
    this.escaped[c] = 1;
    this.from[c] = start;
    this.to[c] = o;
    return k + 1;
  }

  /** Appends the line's values as one row, or refuses it (a required column missing, trailing bytes). */
  private commit(b: Uint8Array, after: number, end: number): number {
    if (after !== end && b[after] !== LF) return -1;
    this.lineEnd = after;
    const st = this.state;
    const stamp = this.stamp;
    const seen = this.seen;
    for (let c = 0; c < this.n; c++) if (seen[c] !== stamp && this.required[c]) return -1;
    const columns = (this.filled ??= this.kinds.map((k) => newColumn(k, this.capacity)));
    for (let c = 0; c < this.n; c++) {
      const col = columns[c];
      switch (seen[c] === stamp ? st[c] : NONE) {
        case NUM:
          (col as NumberColumn).appendNumber(this.num[c]);
          break;
        case STR:
          if (this.escaped[c]) (col as StringColumn).appendBytes(this.unescaped, this.from[c], this.to[c]);
          else (col as StringColumn).appendHashed(b, this.from[c], this.to[c], this.hash[c]);
          break;
        case BOOL:
          (col as BooleanColumn).appendBoolean(this.num[c] === 1);
          break;
        case VALUE:
          col.appendValue(this.values[c] as InternalValue);
          break;
        default:
          col.appendNull();
      }
    }
    this.taken++;
    return 0;
  }
}
