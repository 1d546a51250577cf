/**
 * Single values in the spec's binary form ("Appendix D: Single-value serialization"), their order,
 * and the truncated lower/upper bounds Iceberg's default metrics mode `truncate(16)` keeps in
 * manifests (Java `UnicodeUtil.truncateStringMin/Max`, `BinaryUtil.truncateBinaryMin/Max`).
 */
import { FloeError } from "../errors.js";
import { typeKind } from "./literals.js";
import { fixedLength, type InternalValue, type PrimitiveType } from "./types.js";

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF: it is data

/** What JS type the internal representation of each type family uses (types.ts, "InternalValue"). */
const JS_TYPE: Record<string, string> = {
  boolean: "boolean", int: "number", date: "number", float: "number", double: "number",
  long: "bigint", decimal: "bigint", time: "bigint", timestamp: "bigint", timestamptz: "bigint",
  string: "string", uuid: "bytes", fixed: "bytes", binary: "bytes",
};

function jsTypeOf(v: unknown): string {
  return v instanceof Uint8Array ? "bytes" : typeof v;
}

/**
 * Throws unless `v` is a (non-null) internal value of `type` (types.ts, "InternalValue"). A wrong
 * internal value is a bug in the caller, not bad user input: hence code `internal`.
 */
export function checkInternal(type: PrimitiveType, v: unknown): void {
  const want = JS_TYPE[typeKind(type)];
  if (want === undefined) throw new FloeError("internal", `no single-value form for type ${type}`);
  if (jsTypeOf(v) !== want) throw new FloeError("internal", `internal value of ${type} must be a ${want}, got ${jsTypeOf(v)}`);
  const len = fixedLength(type) ?? (type === "uuid" ? 16 : undefined);
  if (len !== undefined && (v as Uint8Array).length !== len) {
    throw new FloeError("internal", `internal value of ${type} must have ${len} bytes, got ${(v as Uint8Array).length}`);
  }
}

/**
 * The unscaled value of a decimal as the fewest big-endian two's-complement bytes that hold it
 * (Appendix D; also the bucket hash input, Appendix B note 2). Zero is one byte `00`, like Java's
 * `BigInteger.toByteArray()`.
 */
export function decimalToBytes(unscaled: bigint): Uint8Array {
  let n = 1;
  while (unscaled < -(1n << BigInt(8 * n - 1)) || unscaled >= 1n << BigInt(8 * n - 1)) n++;
  const out = new Uint8Array(n);
  let x = BigInt.asUintN(8 * n, unscaled);
  for (let i = n - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

function bytesToDecimal(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return BigInt.asIntN(8 * bytes.length, x);
}

function fixedWidth(size: number, write: (d: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  write(new DataView(out.buffer));
  return out;
}

/**
 * Serializes an internal value as Appendix D says: boolean one byte; int/date 4-byte LE; long,
 * time, timestamp(tz) 8-byte LE; float/double IEEE 754 LE; string UTF-8 without length; uuid 16
 * big-endian bytes; fixed/binary as is; decimal the minimal big-endian two's complement unscaled value.
 *
 * @example
 * toSingleValue("int", 1); // Uint8Array [1, 0, 0, 0]
 */
export function toSingleValue(type: PrimitiveType, v: InternalValue): Uint8Array {
  checkInternal(type, v);
  switch (typeKind(type)) {
    case "boolean":
      return Uint8Array.of(v ? 1 : 0);
    case "int":
    case "date":
      return fixedWidth(4, (d) => d.setInt32(0, v as number, true));
    case "long":
    case "time":
    case "timestamp":
    case "timestamptz":
      return fixedWidth(8, (d) => d.setBigInt64(0, v as bigint, true));
    case "float":
      return fixedWidth(4, (d) => d.setFloat32(0, v as number, true));
    case "double":
      return fixedWidth(8, (d) => d.setFloat64(0, v as number, true));
    case "decimal":
      return decimalToBytes(v as bigint);
    case "string":
      return utf8.encode(v as string);
    default: // uuid, fixed, binary: the bytes themselves (copied: callers may keep them)
      return (v as Uint8Array).slice();
  }
}

/** The inverse of {@link toSingleValue}; refuses bytes of the wrong length or invalid UTF-8. */
export function fromSingleValue(type: PrimitiveType, bytes: Uint8Array): InternalValue {
  const kind = typeKind(type);
  const sizes: Record<string, number> = {
    boolean: 1, int: 4, date: 4, float: 4, long: 8, time: 8, timestamp: 8, timestamptz: 8, double: 8, uuid: 16,
  };
  const want = sizes[kind] ?? fixedLength(type);
  if ((want !== undefined && bytes.length !== want) || (kind === "decimal" && bytes.length === 0)) {
    throw new FloeError("invalid_input", `single value of ${type} must have ${want ?? "at least 1"} bytes, got ${bytes.length}`);
  }
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (kind) {
    case "boolean":
      return bytes[0] !== 0; // Appendix D: any non-zero byte is true
    case "int":
    case "date":
      return d.getInt32(0, true);
    case "long":
    case "time":
    case "timestamp":
    case "timestamptz":
      return d.getBigInt64(0, true);
    case "float":
      return d.getFloat32(0, true);
    case "double":
      return d.getFloat64(0, true);
    case "decimal":
      return bytesToDecimal(bytes);
    case "string":
      try {
        return utf8Strict.decode(bytes);
      } catch (cause) {
        throw new FloeError("invalid_input", `single value of ${type} is not valid UTF-8`, { cause });
      }
    case "uuid":
    case "fixed":
    case "binary":
      return bytes.slice();
    default:
      throw new FloeError("internal", `no single-value form for type ${type}`);
  }
}

/**
 * Maps a UTF-16 code unit so that comparing mapped units orders strings by code point (and so by
 * UTF-8 bytes): surrogates (supplementary characters) must sort after U+E000–U+FFFF.
 */
function codePointOrderUnit(c: number): number {
  if (c >= 0xd800 && c <= 0xdfff) return c + 0x2000;
  return c >= 0xe000 ? c - 0x800 : c;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Orders two non-null internal values of `type` as Iceberg does for bounds: numbers numerically
 * (-0 before 0, as Java's `Float.compare`; callers leave NaN out of bounds), strings by code point
 * (= UTF-8 byte order), uuid/fixed/binary unsigned lexicographically. Returns -1, 0 or 1.
 */
export function compareValues(type: PrimitiveType, a: InternalValue, b: InternalValue): number {
  switch (typeKind(type)) {
    case "string": {
      const [x, y] = [a as string, b as string];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const [cx, cy] = [x.charCodeAt(i), y.charCodeAt(i)];
        if (cx !== cy) return codePointOrderUnit(cx) < codePointOrderUnit(cy) ? -1 : 1;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case "uuid":
    case "fixed":
    case "binary":
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case "boolean":
      return Math.sign(Number(a) - Number(b));
    default: {
      const [x, y] = [a as number | bigint, b as number | bigint];
      if (x < y) return -1;
      if (x > y) return 1;
      if (typeof x === "number" && typeof y === "number") {
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
        if (x === 0 && y === 0) return Object.is(x, y) ? 0 : Object.is(x, -0) ? -1 : 1;
      }
      return 0;
    }
  }
}

/**
 * A lower bound no longer than `length`: strings keep their first `length` code points, binary its
 * first `length` bytes (a prefix never sorts after the value). Other types (fixed and uuid too,
 * as in Java) are returned unchanged.
 */
export function truncateLowerBound(type: PrimitiveType, v: InternalValue, length = 16): InternalValue {
  if (v === null) return null;
  const kind = typeKind(type);
  if (kind === "string") {
    const cps = Array.from(v as string);
    return cps.length <= length ? v : cps.slice(0, length).join("");
  }
  if (kind === "binary") return (v as Uint8Array).length <= length ? v : (v as Uint8Array).slice(0, length);
  return v;
}

/**
 * An upper bound no longer than `length`, or null when none exists (then the manifest simply has
 * no upper bound for the column). A value that already fits is returned as is; otherwise it is
 * cut to `length` and its last code point (string) / byte (binary) that can be incremented is
 * incremented, dropping what follows. Unlike Java, an increment that would land in the surrogate
 * block (U+D7FF + 1) jumps to U+E000 so the bound stays valid UTF-8.
 */
export function truncateUpperBound(type: PrimitiveType, v: InternalValue, length = 16): InternalValue {
  if (v === null) return null;
  const kind = typeKind(type);
  if (kind === "string") {
    const cps = Array.from(v as string);
    if (cps.length <= length) return v;
    for (let i = length - 1; i >= 0; i--) {
      let next = cps[i].codePointAt(0)! + 1;
      if (next === 0xd800) next = 0xe000;
      if (next <= 0x10ffff) return cps.slice(0, i).join("") + String.fromCodePoint(next);
    }
    return null;
  }
  if (kind === "binary") {
    const bytes = v as Uint8Array;
    if (bytes.length <= length) return v;
    for (let i = length - 1; i >= 0; i--) {
      if (bytes[i] !== 0xff) {
        const out = bytes.slice(0, i + 1);
        out[i] += 1;
        return out;
      }
    }
    return null;
  }
  return v;
}
