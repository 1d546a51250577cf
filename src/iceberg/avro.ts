/**
 * A small Avro binary encoder and object-container-file writer (Avro 1.11 spec: "Binary
 * Encoding", "Object Container Files").
 *
 * Why our own: avsc, avro-js and @avro/types compile their codecs with `new Function`, which
 * workerd refuses ("Code generation from strings disallowed", TOOLCHAIN.md). We only need to
 * *write* Iceberg manifests and manifest lists, so a schema-driven encoder built from closures is
 * enough. The schema is embedded verbatim in the header, so Iceberg's extra attributes
 * (`field-id`, `element-id`, `logicalType`, `adjust-to-utc`…) survive, which avsc would drop.
 *
 * Pure TypeScript: no Node built-ins; `fflate` provides raw deflate (RFC 1951), which is exactly
 * what Avro's `deflate` codec stores.
 */
import { deflateSync } from "fflate";
import { ByteWriter } from "./avro-byte-writer.js";

// avroEncoder's encoders append to a ByteWriter, so callers get it from here too.
export { ByteWriter };

/** A JSON-form Avro schema: a primitive or named-type reference, a union, or a complex type. */
export type AvroSchema = string | AvroSchema[] | AvroComplex;

/** Complex (or annotated primitive) schema. Extra attributes are kept and written verbatim. */
export interface AvroComplex {
  type: string;
  name?: string;
  namespace?: string;
  fields?: AvroField[];
  items?: AvroSchema;
  values?: AvroSchema;
  size?: number;
  logicalType?: string;
  [attribute: string]: unknown;
}

export interface AvroField {
  name: string;
  type: AvroSchema;
  default?: unknown;
  [attribute: string]: unknown;
}

/** Avro's codecs that this writer supports. */
export type AvroCodec = "null" | "deflate";

type Encode = (w: ByteWriter, value: unknown, path: string) => void;
/** Predicate used to pick a union branch for a value. */
type Accepts = (value: unknown) => boolean;

interface Compiled {
  encode: Encode;
  accepts: Accepts;
}

function fail(path: string, expected: string, value: unknown): never {
  const shown = typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
  throw new TypeError(`avro: ${path || "value"} expected ${expected}, got ${shown?.slice(0, 80)}`);
}

const isInt32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff;
const isLong = (v: unknown): v is number | bigint =>
  typeof v === "bigint" ? BigInt.asIntN(64, v) === v : Number.isSafeInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !(v instanceof Uint8Array);

/** A primitive encoder whose `accepts` is exact, so unions such as ["int", "long"] pick correctly. */
function primitive<T>(expected: string, accepts: (v: unknown) => v is T, write: (w: ByteWriter, v: T) => void): Compiled {
  return { accepts, encode: (w, v, p) => (accepts(v) ? write(w, v) : fail(p, expected, v)) };
}
const isNumber = (v: unknown): v is number => typeof v === "number";

const PRIMITIVES: Record<string, Compiled> = {
  null: primitive("null", (v): v is null => v === null || v === undefined, () => undefined),
  boolean: primitive("boolean", (v): v is boolean => typeof v === "boolean", (w, v) => w.byte(v ? 1 : 0)),
  // An int's zig-zag varint is the same as the long's for every 32-bit value.
  int: primitive("32-bit int", isInt32, (w, v) => w.long(v)),
  long: primitive("64-bit long (a bigint, or a safe integer number)", isLong, (w, v) => w.long(v)),
  float: primitive("float", isNumber, (w, v) => w.float(v)),
  double: primitive("double", isNumber, (w, v) => w.double(v)),
  bytes: primitive("bytes", (v): v is Uint8Array => v instanceof Uint8Array, (w, v) => w.lengthPrefixed(v)),
  string: primitive("string", (v): v is string => typeof v === "string", (w, v) => w.string(v)),
};

/**
 * Compiles a schema into an encoder (closures, no code generation). Named types (record, fixed)
 * are registered so later references by name resolve, as Avro requires for repeated types.
 */
function compile(schema: AvroSchema, named: Map<string, Compiled>, ns: string): Compiled {
  if (typeof schema === "string") {
    const found = PRIMITIVES[schema] ?? named.get(schema) ?? named.get(ns ? `${ns}.${schema}` : schema);
    if (!found) throw new TypeError(`avro: unknown type ${JSON.stringify(schema)}`);
    return found;
  }
  if (Array.isArray(schema)) return compileUnion(schema, named, ns);
  const t = schema.type;
  if (t in PRIMITIVES) return PRIMITIVES[t]; // logical types annotate the underlying encoding
  // Named types are registered under their full name and their short name.
  const register = (c: Compiled) => {
    const space = schema.namespace ?? ns;
    const name = schema.name ?? fail("", "a name on a named type", schema);
    named.set(name, c);
    if (space && !name.includes(".")) named.set(`${space}.${name}`, c);
  };
  if (t === "record") {
    const inner = schema.namespace ?? ns;
    // Register before compiling fields so a recursive reference resolves (lazily via the slot).
    const slot: Compiled = { accepts: isObject, encode: () => undefined };
    register(slot);
    const fields = (schema.fields ?? []).map((f) => ({ name: f.name, hasDefault: "default" in f, def: f.default, c: compile(f.type, named, inner) }));
    slot.encode = (w, v, p) => {
      if (!isObject(v)) fail(p, `record ${schema.name}`, v);
      // Arrays are accepted positionally (handy for tuples such as an Iceberg partition).
      const positional = Array.isArray(v);
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i];
        let x = positional ? (v as unknown[])[i] : (v as Record<string, unknown>)[f.name];
        if (x === undefined && f.hasDefault) x = f.def;
        f.c.encode(w, x, `${p}.${f.name}`);
      }
    };
    return slot;
  }
  if (t === "fixed") {
    const size = schema.size!;
    const c: Compiled = {
      accepts: (v) => v instanceof Uint8Array && v.length === size,
      encode: (w, v, p) => (v instanceof Uint8Array && v.length === size ? w.bytes(v) : fail(p, `fixed(${size})`, v)),
    };
    register(c);
    return c;
  }
  if (t === "array") {
    const item = compile(schema.items!, named, ns);
    return {
      accepts: Array.isArray,
      encode: (w, v, p) => {
        if (!Array.isArray(v)) fail(p, "array", v);
        // One block holding every item, then the zero-count terminator.
        if (v.length > 0) {
          w.long(v.length);
          for (let i = 0; i < v.length; i++) item.encode(w, v[i], `${p}[${i}]`);
        }
        w.long(0);
      },
    };
  }
  if (t === "map") {
    const value = compile(schema.values!, named, ns);
    return {
      accepts: (v) => v instanceof Map || isObject(v),
      encode: (w, v, p) => {
        if (!(v instanceof Map) && !isObject(v)) fail(p, "map", v);
        const entries = v instanceof Map ? [...v] : Object.entries(v);
        if (entries.length > 0) {
          w.long(entries.length);
          for (const [k, x] of entries) {
            if (typeof k !== "string") fail(p, "string map key", k);
            w.string(k);
            value.encode(w, x, `${p}[${JSON.stringify(k)}]`);
          }
        }
        w.long(0);
      },
    };
  }
  throw new TypeError(`avro: unsupported schema type ${JSON.stringify(t)}`);
}

function compileUnion(branches: AvroSchema[], named: Map<string, Compiled>, ns: string): Compiled {
  const compiled = branches.map((b) => compile(b, named, ns));
  return {
    accepts: (v) => compiled.some((c) => c.accepts(v)),
    encode: (w, v, p) => {
      // The first branch that accepts the value wins; null/undefined always pick the null branch.
      const i = compiled.findIndex((c) => c.accepts(v));
      if (i < 0) fail(p, `one of ${JSON.stringify(branches)}`, v);
      w.long(i);
      compiled[i].encode(w, v, p);
    },
  };
}

/**
 * Compiles a schema once and returns a function that appends one datum's binary encoding.
 * @example
 * const enc = avroEncoder({ type: "record", name: "r", fields: [{ name: "id", type: "long" }] });
 * const w = new ByteWriter(); enc(w, { id: 2n ** 60n });
 */
export function avroEncoder(schema: AvroSchema): (w: ByteWriter, value: unknown) => void {
  const { encode } = compile(schema, new Map(), "");
  return (w, value) => encode(w, value, "");
}

/** Binary encoding of a single datum (no container). */
export function encodeAvro(schema: AvroSchema, value: unknown): Uint8Array {
  const w = new ByteWriter(256);
  avroEncoder(schema)(w, value);
  return w.result();
}

export interface AvroContainerOptions {
  schema: AvroSchema;
  /** User metadata; keys starting with `avro.` are reserved by the spec and refused. */
  metadata?: Record<string, string>;
  records: Iterable<unknown>;
  codec: AvroCodec;
  /** Uncompressed bytes per block before it is flushed (default 64 KiB, as Java's sync interval). */
  blockSize?: number;
  /** 16-byte sync marker; random by default. Fixed only for reproducible fixtures. */
  syncMarker?: Uint8Array;
}

const MAGIC = new Uint8Array([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 0x01

/**
 * Writes an Avro object container file: magic, metadata map (`avro.schema` holding the schema
 * JSON verbatim, `avro.codec`, then user keys), sync marker, then blocks of
 * (record count, byte size, data, sync marker). No records means no blocks, which is valid.
 * @example
 * const bytes = writeAvroContainer({ schema, metadata: { "format-version": "2" }, records, codec: "deflate" });
 */
export function writeAvroContainer(opts: AvroContainerOptions): Uint8Array {
  const { schema, metadata = {}, records, codec, blockSize = 64 * 1024 } = opts;
  const sync = opts.syncMarker ?? crypto.getRandomValues(new Uint8Array(16));
  if (sync.length !== 16) throw new TypeError("avro: sync marker must be 16 bytes");
  if (codec !== "null" && codec !== "deflate") throw new TypeError(`avro: unsupported codec ${codec}`);
  const encode = avroEncoder(schema);
  const utf8 = new TextEncoder();

  const out = new ByteWriter(4096);
  out.bytes(MAGIC);
  const meta: [string, string][] = [["avro.schema", JSON.stringify(schema)], ["avro.codec", codec]];
  for (const [k, v] of Object.entries(metadata)) {
    if (k.startsWith("avro.")) throw new TypeError(`avro: metadata key ${k} is reserved`);
    meta.push([k, v]);
  }
  out.long(meta.length);
  for (const [k, v] of meta) {
    out.string(k);
    out.lengthPrefixed(utf8.encode(v));
  }
  out.long(0);
  out.bytes(sync);

  const block = new ByteWriter(Math.min(blockSize, 1 << 20) + 1024);
  let count = 0;
  const flush = () => {
    if (count === 0) return;
    const raw = block.buf.subarray(0, block.pos);
    const data = codec === "deflate" ? deflateSync(raw) : raw;
    out.long(count);
    out.long(data.length);
    out.bytes(data);
    out.bytes(sync);
    block.pos = 0;
    count = 0;
  };
  for (const record of records) {
    encode(block, record);
    count++;
    if (block.pos >= blockSize) flush();
  }
  flush();
  return out.result();
}
