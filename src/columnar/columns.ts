import { isPrimitive, type IcebergType, type InternalValue, type PrimitiveType, type Schema } from "../iceberg/types.js";
import { StringDictionary } from "./dictionary.js";

/**
 * How a column's values are held while a row group fills: a typed array per column instead of a JS
 * value per cell, so the common path allocates nothing per value. `int` holds int and date (days),
 * `long` holds long, time and timestamps (microseconds), `string` holds UTF-8 bytes interned in a
 * dictionary. Other Iceberg types (structs, lists, maps, decimal, uuid, binary, fixed) are `value`
 * columns: JS values as the row converter makes them, written by hyparquet-writer's column encoder.
 */
export type ColumnKind = "boolean" | "int" | "long" | "float" | "double" | "string" | "value";

export function columnKind(t: IcebergType): ColumnKind {
  if (!isPrimitive(t)) return "value";
  switch (t as PrimitiveType) {
    case "boolean":
      return "boolean";
    case "int":
    case "date":
      return "int";
    case "long":
    case "time":
    case "timestamp":
    case "timestamptz":
      return "long";
    case "float":
      return "float";
    case "double":
      return "double";
    case "string":
      return "string";
    default:
      return "value";
  }
}

/** The schema's top-level columns' kinds. */
export function columnKinds(schema: Schema): ColumnKind[] {
  return schema.fields.map((f) => columnKind(f.type));
}

const INITIAL = 1024;
/** A string column with more distinct values than this share of its rows stops interning (see StringColumn). */
const DISTINCT_SHARE = 0.5;
const DECIDE_AFTER = 2048;
/** Distinct JS strings a string column remembers (see `StringColumn.appendValue`). */
const SEEN_STRINGS = 4096;

/**
 * One column of a row group being filled. Every row has a slot (a null's slot holds 0), and
 * `defs[i]` says whether row i has a value: the Parquet definition level of a flat column.
 */
export abstract class Column {
  length = 0;
  nulls = 0;
  defs: Uint8Array;

  constructor(
    readonly kind: ColumnKind,
    capacity = INITIAL,
  ) {
    this.defs = new Uint8Array(capacity);
  }

  /** Makes room for one more row. */
  protected abstract grow(capacity: number): void;

  protected room(): void {
    if (this.length === this.defs.length) {
      const capacity = Math.max(INITIAL, this.defs.length * 2);
      const defs = new Uint8Array(capacity);
      defs.set(this.defs);
      this.defs = defs;
      this.grow(capacity);
    }
  }

  appendNull(): void {
    this.room();
    this.defs[this.length++] = 0;
    this.nulls++;
  }

  /** Appends an internal value as the reference conversion makes it (see `InternalValue`). */
  abstract appendValue(v: InternalValue): void;

  /** Row i as an internal value (null for a null). */
  abstract valueAt(i: number): InternalValue;

  /** Appends row i of a column of the same kind. */
  abstract appendRow(src: Column, i: number): void;

  /** Appends rows [start, end) of a column of the same kind. */
  appendRows(src: Column, start: number, end: number): void {
    for (let i = start; i < end; i++) this.appendRow(src, i);
  }

  /** A new column of the same kind holding the rows at `rows`, in that order. */
  take(rows: ArrayLike<number>): Column {
    const out = newColumn(this.kind);
    for (let k = 0; k < rows.length; k++) out.appendRow(this, rows[k]);
    return out;
  }
}

/** int, long, float and double. Values are doubles while every value is exact as one; a long that is not switches the column to BigInt64. */
export class NumberColumn extends Column {
  values = new Float64Array(this.defs.length);
  /** Set once a long is not a safe integer: from then on every slot lives here. */
  big: BigInt64Array | null = null;

  protected grow(capacity: number): void {
    const v = new Float64Array(capacity);
    v.set(this.values.subarray(0, this.length));
    this.values = v;
    if (this.big) {
      const b = new BigInt64Array(capacity);
      b.set(this.big.subarray(0, this.length));
      this.big = b;
    }
  }

  /** The hot path: a number already known to fit the column (a safe integer for int and long). */
  appendNumber(n: number): void {
    if (this.length === this.defs.length) this.room();
    const i = this.length++;
    this.defs[i] = 1;
    if (this.big) this.big[i] = BigInt(n);
    else this.values[i] = n;
  }

  override appendNull(): void {
    super.appendNull();
    if (this.big) this.big[this.length - 1] = 0n;
    else this.values[this.length - 1] = 0;
  }

  appendValue(v: InternalValue): void {
    if (v === null || v === undefined) return this.appendNull();
    if (typeof v === "number") return this.appendNumber(v);
    const b = v as bigint;
    if (b >= -9007199254740991n && b <= 9007199254740991n) return this.appendNumber(Number(b));
    if (!this.big) {
      this.big = new BigInt64Array(this.values.length);
      for (let i = 0; i < this.length; i++) this.big[i] = BigInt(this.values[i]);
    }
    this.room();
    this.defs[this.length] = 1;
    this.big[this.length++] = b;
  }

  valueAt(i: number): InternalValue {
    if (!this.defs[i]) return null;
    if (this.big) return this.big[i];
    return this.kind === "long" ? BigInt(this.values[i]) : this.values[i];
  }

  appendRow(src: Column, i: number): void {
    const s = src as NumberColumn;
    if (!s.defs[i]) this.appendNull();
    else if (s.big) this.appendValue(s.big[i]);
    else this.appendNumber(s.values[i]);
  }
}

export class BooleanColumn extends Column {
  values = new Uint8Array(this.defs.length);

  protected grow(capacity: number): void {
    const v = new Uint8Array(capacity);
    v.set(this.values);
    this.values = v;
  }

  appendBoolean(b: boolean): void {
    if (this.length === this.defs.length) this.room();
    const i = this.length++;
    this.defs[i] = 1;
    this.values[i] = b ? 1 : 0;
  }

  override appendNull(): void {
    super.appendNull();
    this.values[this.length - 1] = 0;
  }

  appendValue(v: InternalValue): void {
    if (v === null || v === undefined) this.appendNull();
    else this.appendBoolean(v as boolean);
  }

  valueAt(i: number): InternalValue {
    return this.defs[i] ? this.values[i] === 1 : null;
  }

  appendRow(src: Column, i: number): void {
    const s = src as BooleanColumn;
    if (s.defs[i]) this.appendBoolean(s.values[i] === 1);
    else this.appendNull();
  }
}

/**
 * Strings as UTF-8, interned: each row holds an index into the column's dictionary. A column whose
 * values are mostly distinct (ids, session keys) stops interning after its first rows: its
 * dictionary would not be written (plain pays), and hashing every value would be work for nothing,
 * so later values are added as entries of their own.
 */
export class StringColumn extends Column {
  ids = new Int32Array(this.defs.length);
  readonly dict = new StringDictionary();
  private interning = true;
  /** Whether `decide` has run (once the column holds DECIDE_AFTER rows, whatever they were). */
  private decided = false;
  /** JS strings already appended, while interning (see `appendValue`). */
  private readonly seen = new Map<string, number>();

  protected grow(capacity: number): void {
    const v = new Int32Array(capacity);
    v.set(this.ids);
    this.ids = v;
  }

  /** Decided once, after the column's first DECIDE_AFTER rows: are its values mostly distinct? */
  private decide(): void {
    this.decided = true;
    if (this.dict.count > (this.length - this.nulls) * DISTINCT_SHARE) {
      this.interning = false;
      this.seen.clear();
    }
  }

  /** The hot path: UTF-8 bytes src[start, end), already known to be valid. */
  appendBytes(src: Uint8Array, start: number, end: number): void {
    const id = this.interning ? this.dict.intern(src, start, end) : this.dict.push(src, start, end);
    if (!this.decided && this.length >= DECIDE_AFTER) this.decide();
    if (this.length === this.defs.length) this.room();
    const i = this.length++;
    this.defs[i] = 1;
    this.ids[i] = id;
  }

  /** `appendBytes` with the bytes' dictionary hash already taken. */
  appendHashed(src: Uint8Array, start: number, end: number, hash: number): void {
    const id = this.interning ? this.dict.internHashed(src, start, end, hash) : this.dict.push(src, start, end);
    if (!this.decided && this.length >= DECIDE_AFTER) this.decide();
    if (this.length === this.defs.length) this.room();
    const i = this.length++;
    this.defs[i] = 1;
    this.ids[i] = id;
  }

  override appendNull(): void {
    super.appendNull();
    this.ids[this.length - 1] = 0;
  }

  /**
   * A JS string (the reference conversion's, or a decoded Parquet column's). A column of few
   * distinct values often repeats the same string object (a Parquet dictionary's entries): those
   * are looked up by identity-cheap Map lookups (V8 keeps a string's hash) instead of encoded again.
   */
  appendValue(v: InternalValue): void {
    if (v === null || v === undefined) return this.appendNull();
    const s = v as string;
    if (!this.decided && this.length >= DECIDE_AFTER) this.decide();
    const seen = this.interning ? this.seen.get(s) : undefined;
    if (seen !== undefined) {
      if (this.length === this.defs.length) this.room();
      this.defs[this.length] = 1;
      this.ids[this.length++] = seen;
      return;
    }
    const n = this.dict.encode(s); // before reading `scratch`: encoding may replace it with a larger one
    this.appendBytes(this.dict.scratch, 0, n);
    if (this.interning && this.seen.size < SEEN_STRINGS) this.seen.set(s, this.ids[this.length - 1]);
  }

  valueAt(i: number): InternalValue {
    return this.defs[i] ? this.dict.text(this.ids[i]) : null;
  }

  appendRow(src: Column, i: number): void {
    const s = src as StringColumn;
    if (!s.defs[i]) return this.appendNull();
    const d = s.dict;
    const id = s.ids[i];
    this.appendBytes(d.pool, d.starts[id], d.starts[id + 1]);
  }

  /** Each distinct value of the source is interned here once, then rows copy ids (a batch joining a row group). */
  override appendRows(src: Column, start: number, end: number): void {
    const s = src as StringColumn;
    const d = s.dict;
    const mapped = new Int32Array(d.count).fill(-1);
    for (let i = start; i < end; i++) {
      if (!s.defs[i]) {
        this.appendNull();
        continue;
      }
      const from = s.ids[i];
      let id = mapped[from];
      if (id < 0) id = mapped[from] = this.interning ? this.dict.intern(d.pool, d.starts[from], d.starts[from + 1]) : this.dict.push(d.pool, d.starts[from], d.starts[from + 1]);
      if (!this.decided && this.length >= DECIDE_AFTER) this.decide();
      if (this.length === this.defs.length) this.room();
      this.defs[this.length] = 1;
      this.ids[this.length++] = id;
    }
  }
}

/** Values with no typed column (nested, decimal, uuid, binary, fixed): one JS value per row, as the converter makes it. */
export class ValueColumn extends Column {
  values: unknown[] = [];

  protected grow(): void {}

  override appendNull(): void {
    super.appendNull();
    this.values.push(null);
  }

  appendValue(v: InternalValue | unknown): void {
    if (v === null || v === undefined) return this.appendNull();
    this.room();
    this.defs[this.length++] = 1;
    this.values.push(v);
  }

  valueAt(i: number): InternalValue {
    return this.values[i] as InternalValue;
  }

  appendRow(src: Column, i: number): void {
    this.appendValue((src as ValueColumn).values[i]);
  }
}

/** An empty column of `kind` with room for `capacity` rows before it grows. */
export function newColumn(kind: ColumnKind, capacity = INITIAL): Column {
  switch (kind) {
    case "boolean":
      return new BooleanColumn(kind, capacity);
    case "string":
      return new StringColumn(kind, capacity);
    case "value":
      return new ValueColumn(kind, capacity);
    default:
      return new NumberColumn(kind, capacity);
  }
}

/** Rows of one chunk in typed columns, in the schema's top-level order. */
export interface TypedBatch {
  typed: true;
  columns: Column[];
  rowCount: number;
  /** Rough size of the values in bytes: drives row-group flushing as `ColumnBatch.approxBytes` does. */
  approxBytes: number;
}

/** Fills typed columns from JS values (the reference conversion's output), column by column. */
export function typedFromValues(kinds: ColumnKind[], columns: unknown[][], rowCount: number, approxBytes: number): TypedBatch {
  const out = kinds.map((k, c) => {
    const col = newColumn(k);
    const src = columns[c];
    for (let r = 0; r < rowCount; r++) col.appendValue(src[r] as InternalValue);
    return col;
  });
  return { typed: true, columns: out, rowCount, approxBytes };
}
