import { DateUnit, makeVector, Precision, RecordBatchReader, TimeUnit, Type } from "apache-arrow";
import type { Data, DataType, Field, RecordBatch, Vector } from "apache-arrow";
import { ArrowShapeError, checkFile, MessageFramer } from "./arrow-check.js";
import { FloeError } from "../errors.js";
import { sourceRows, uniqueNames, type ColumnSource } from "./columns.js";
import { readAll } from "./bytes.js";
import { base64Encode, formatDecimal, isoDate, isoTime, isoTimestamp, littleEndianWordsSigned, type TimeUnit as Unit } from "./values.js";

type Convert = (data: Data, i: number) => unknown;

const UNITS: Record<number, Unit> = { [TimeUnit.SECOND]: "s", [TimeUnit.MILLISECOND]: "ms", [TimeUnit.MICROSECOND]: "us", [TimeUnit.NANOSECOND]: "ns" };
const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1": the file format (Arrow columnar format, "IPC File Format")
const EOS = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]; // continuation marker, then metadata length 0 ("End of stream marker")
const textDecoder = new TextDecoder();

export interface ArrowOptions {
  batchRows?: number;
  /** Largest Arrow *file* read into memory (the stream format is read a record batch at a time). */
  maxBufferBytes?: number;
  size?: number;
}

/** An error of the input stream itself (a storage read that broke): passed on as it is, not blamed on the file. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

function arrowError(e: unknown, batch: number): unknown {
  if (e instanceof FloeError) return e;
  if (e instanceof ArrowShapeError) return new FloeError("invalid_input", `Arrow IPC: malformed metadata after ${batch} record batches: ${e.message}`, { details: { format: "arrow", batch } });
  if (e instanceof SourceFailure) return e.error;
  const why = e instanceof Error ? e.message : String(e);
  return new FloeError("invalid_input", `Arrow IPC: unreadable after ${batch} record batches (truncated, or not Arrow IPC?): ${why}`, {
    details: { format: "arrow", batch },
    cause: e,
  });
}

/**
 * Streams the rows of Arrow IPC data, one record batch at a time, through apache-arrow's
 * `RecordBatchReader` (which works in workerd; `tableFromArrays` does not). The stream format
 * (`.arrows`) is read as it arrives. The file format (`.arrow`, starting with `ARROW1`) keeps its
 * schema in the footer at the end (apache-arrow's writer puts none at the start), so a file is read
 * whole, up to `maxBufferBytes`, and its batches decoded one by one from there. Values follow
 * `values.ts` (int64 → bigint, timestamps → exact ISO text, decimals → exact text, binary → base64).
 *
 * @example
 * for await (const rows of arrowRows(object.body)) console.log(rows.length);
 */
export function arrowRows(input: ReadableStream<Uint8Array>, opts: ArrowOptions = {}): AsyncGenerator<Record<string, unknown>[]> {
  const batchRows = opts.batchRows ?? 10_000;
  return sourceRows(arrowGroups(input, { ...opts, batchRows }), batchRows);
}

/**
 * `arrowRows`' batches given column by column (`ColumnSource`: a record batch's columns, at most
 * `batchRows` rows a time, converted a column at a time as they are read). Two top-level columns of
 * one name are refused.
 */
export async function* arrowGroups(input: ReadableStream<Uint8Array>, opts: ArrowOptions = {}): AsyncGenerator<ColumnSource> {
  const batchRows = opts.batchRows ?? 10_000;
  const { head, stream } = await peek(input, MAGIC.length);
  const isFile = MAGIC.every((b, i) => head[i] === b);
  let index = 0;
  const tail = new Tail(EOS.length);
  let reader: RecordBatchReader;
  const limit = opts.maxBufferBytes ?? 64 * 1024 * 1024;
  // Every message's metadata is bounds-checked before apache-arrow reads it (arrow-check.ts).
  const framer = new MessageFramer(limit);
  try {
    if (isFile) {
      const whole = await readAll(stream, limit, opts.size);
      checkFile(whole, limit);
      reader = RecordBatchReader.from(whole);
    } else {
      reader = await RecordBatchReader.from(
        iterate(stream, (chunk) => {
          framer.push(chunk);
          tail.push(chunk);
        }),
      );
    }
    // Opening reads the schema. With fewer than 4 bytes left apache-arrow ends quietly instead of
    // failing, so a stream cut that short would pass for an empty one: it must have a schema.
    await reader.open();
  } catch (e) {
    throw arrowError(e, 0);
  }
  if (!reader.schema) throw arrowError(new Error("no schema message"), 0);
  let converters: { name: string; convert: Convert }[] | undefined;
  let names: string[] | undefined;
  let first = 0;
  let schemaOf: unknown;
  const iterator = (Symbol.asyncIterator in reader ? reader[Symbol.asyncIterator]() : (reader as Iterable<RecordBatch>)[Symbol.iterator]()) as
    | AsyncIterator<RecordBatch>
    | Iterator<RecordBatch>;
  for (;;) {
    let step: IteratorResult<RecordBatch>;
    try {
      step = await iterator.next();
    } catch (e) {
      throw arrowError(e, index);
    }
    if (step.done) {
      // The spec lets a stream end without its end-of-stream marker, but apache-arrow then also
      // takes a stream cut between two messages for a whole one; every writer writes the marker
      // when it closes, so a stream without it is refused as truncated.
      if (!isFile && !tail.equals(EOS)) throw arrowError(new Error("the stream ends without its end-of-stream marker"), index);
      break;
    }
    const batch = step.value;
    if (batch.schema !== schemaOf) {
      schemaOf = batch.schema;
      converters = batch.schema.fields.map((f: Field) => ({ name: f.name, convert: converter(f.type) }));
      names = converters.map((c) => c.name);
      uniqueNames(names, "arrow", "Arrow IPC");
    }
    const columns = batch.data.children;
    const n = batch.numRows;
    const cs = converters!;
    for (let start = 0; start < n; start += batchRows) {
      const end = Math.min(n, start + batchRows);
      const read = async (c: number) => {
        const out: unknown[] = new Array(end - start);
        for (let i = start; i < end; i++) out[i - start] = cs[c].convert(columns[c], i);
        return out;
      };
      yield { first, rowCount: end - start, names: names!, read };
      first += end - start;
    }
    index++;
  }
}

/** A time unit the schema names: one apache-arrow does not know (a corrupt schema) is refused. */
function unitOf(unit: TimeUnit): Unit {
  const u = UNITS[unit];
  if (u === undefined) throw new FloeError("invalid_input", `Arrow IPC: the schema names time unit ${String(unit)}, which Arrow does not define`, { details: { format: "arrow" } });
  return u;
}

/** The converter of one column type; nulls are checked once here for every type. */
function converter(type: DataType): Convert {
  const inner = valueConverter(type);
  return (data, i) => (data.getValid(i) ? inner(data, i) : null);
}

function valueConverter(type: DataType): Convert {
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Int:
      // Int8…Uint32 arrays hold numbers; (Big)Int64 arrays bigints. Fixed-width buffers are sliced to the data's offset.
      return (d, i) => (d.values as Int32Array | BigInt64Array)[i];
    case Type.Bool:
      // Bit-packed, least significant bit first; the buffer is not sliced, so the offset counts.
      return (d, i) => {
        const bit = d.offset + i;
        return ((d.values as Uint8Array)[bit >> 3] & (1 << (bit & 7))) !== 0;
      };
    case Type.Float:
      return (type as unknown as { precision: Precision }).precision === Precision.HALF ? generic() : (d, i) => (d.values as Float64Array)[i];
    case Type.Utf8:
    case Type.LargeUtf8:
      return (d, i) => textDecoder.decode(bytesAt(d, i));
    case Type.Binary:
    case Type.LargeBinary:
      return (d, i) => base64Encode(bytesAt(d, i));
    case Type.FixedSizeBinary: {
      const width = (type as unknown as { byteWidth: number }).byteWidth;
      return (d, i) => base64Encode((d.values as Uint8Array).subarray(i * width, (i + 1) * width));
    }
    case Type.Decimal: {
      const { scale, bitWidth } = type as unknown as { scale: number; bitWidth: number };
      const words = bitWidth / 32;
      return (d, i) => formatDecimal(littleEndianWordsSigned((d.values as Uint32Array).subarray(i * words, (i + 1) * words)), scale);
    }
    case Type.Date:
      return (type as unknown as { unit: DateUnit }).unit === DateUnit.DAY
        ? (d, i) => isoDate((d.values as Int32Array)[i])
        : (d, i) => isoDate(Math.floor(Number((d.values as BigInt64Array)[i]) / 86_400_000));
    case Type.Timestamp: {
      const { unit, timezone } = type as unknown as { unit: TimeUnit; timezone?: string | null };
      const u = unitOf(unit);
      // With a time zone the values are instants (UTC); without one, wall-clock times.
      const utc = timezone !== undefined && timezone !== null && timezone !== "";
      return (d, i) => isoTimestamp(BigInt((d.values as BigInt64Array)[i]), u, utc);
    }
    case Type.Time: {
      const u = unitOf((type as unknown as { unit: TimeUnit }).unit);
      return (d, i) => isoTime(BigInt((d.values as Int32Array | BigInt64Array)[i]), u);
    }
    case Type.List:
    case Type.LargeList: {
      const child = converter(type.children[0].type);
      return (d, i) => {
        const offsets = d.valueOffsets as Int32Array | BigInt64Array;
        const [from, to] = [Number(offsets[i]), Number(offsets[i + 1])];
        const out = new Array(to - from);
        for (let j = from; j < to; j++) out[j - from] = child(d.children[0], j);
        return out;
      };
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = converter(type.children[0].type);
      return (d, i) => Array.from({ length: size }, (_, k) => child(d.children[0], i * size + k));
    }
    case Type.Struct: {
      const fields = type.children.map((f: Field) => ({ name: f.name, convert: converter(f.type) }));
      return (d, i) => {
        const o: Record<string, unknown> = {};
        for (let c = 0; c < fields.length; c++) o[fields[c].name] = fields[c].convert(d.children[c], i);
        return o;
      };
    }
    case Type.Map: {
      // A map is a list of {key, value} structs; as in JSON, it becomes an object keyed by the key's text.
      const entry = type.children[0].type;
      const key = converter(entry.children[0].type);
      const value = converter(entry.children[1].type);
      return (d, i) => {
        const offsets = d.valueOffsets as Int32Array;
        const entries = d.children[0];
        const o: Record<string, unknown> = {};
        for (let j = offsets[i]; j < offsets[i + 1]; j++) o[String(key(entries.children[0], j))] = value(entries.children[1], j);
        return o;
      };
    }
    case Type.Dictionary: {
      const value = converter((type as unknown as { dictionary: DataType }).dictionary);
      return (d, i) => inVector(d.dictionary!, Number((d.values as Int32Array)[i]), value);
    }
    default:
      // Unions, intervals, durations, string/binary views: apache-arrow's own reading, made plain.
      return generic();
  }
}

/** apache-arrow's getter for one value, with typed arrays and bytes made plain. */
function generic(): Convert {
  const vectors = new WeakMap<Data, Vector>();
  return (d, i) => {
    let v = vectors.get(d);
    if (!v) vectors.set(d, (v = makeVector(d)));
    return plain(v.get(i));
  };
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return base64Encode(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>);
  if (v !== null && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function") return (v as { toJSON(): unknown }).toJSON();
  return v;
}

function bytesAt(d: Data, i: number): Uint8Array {
  const offsets = d.valueOffsets as Int32Array | BigInt64Array;
  return (d.values as Uint8Array).subarray(Number(offsets[i]), Number(offsets[i + 1]));
}

/** Value `index` of a (possibly chunked) vector, converted from its chunk's data. */
function inVector(vector: Vector, index: number, convert: Convert): unknown {
  let i = index;
  for (const chunk of vector.data) {
    if (i < chunk.length) return convert(chunk, i);
    i -= chunk.length;
  }
  throw new FloeError("invalid_input", `Arrow IPC: dictionary index ${index} is out of range`, { details: { format: "arrow", index } });
}

async function peek(input: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = input.getReader();
  const seen: Uint8Array[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    seen.push(value);
    have += value.byteLength;
  }
  const head = new Uint8Array(Math.min(have, n));
  let at = 0;
  for (const c of seen) {
    if (at >= head.length) break;
    const part = c.subarray(0, head.length - at);
    head.set(part, at);
    at += part.length;
  }
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = seen.shift();
      if (next) return controller.enqueue(next);
      if (ended) return controller.close();
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { head, stream };
}

/** The last `n` bytes seen of a stream. */
class Tail {
  private readonly bytes: number[] = [];
  constructor(private readonly n: number) {}
  push(chunk: Uint8Array): void {
    for (let i = Math.max(0, chunk.byteLength - this.n); i < chunk.byteLength; i++) this.bytes.push(chunk[i]);
    if (this.bytes.length > this.n) this.bytes.splice(0, this.bytes.length - this.n);
  }
  equals(expected: number[]): boolean {
    return this.bytes.length === expected.length && expected.every((b, i) => this.bytes[i] === b);
  }
}

async function* iterate(stream: ReadableStream<Uint8Array>, seen: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw e instanceof FloeError ? e : new SourceFailure(e);
      }
      if (chunk.done) return;
      seen(chunk.value);
      yield chunk.value;
    }
  } finally {
    reader.releaseLock();
  }
}
