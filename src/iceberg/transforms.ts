/**
 * Partition transforms (spec "Partition Transforms", "Bucket Transform Details", "Truncate
 * Transform Details", "Appendix B") and their human strings, which become partition paths
 * (Java `Transform.toHumanString` / `TransformUtil`).
 */
import { FloeError } from "../errors.js";
import { base64Encode, formatUuid } from "./bytes.js";
import { civilFromDays, floorDiv, formatTimestamp, MICROS_PER_DAY } from "./datetime.js";
import { formatDecimal, typeKind } from "./literals.js";
import { bucketOfHash, longBytesLE, murmur3Hash32 } from "./murmur3.js";
import { checkInternal, decimalToBytes } from "./values.js";
import { decimalParams, isPrimitive, typeToString, type IcebergType, type InternalValue, type PrimitiveType } from "./types.js";

/** A parsed transform. */
export type Transform =
  | { kind: "identity" | "year" | "month" | "day" | "hour" | "void" }
  | { kind: "bucket"; n: number }
  | { kind: "truncate"; width: number };

const PARAM_RE = /^(bucket|truncate)\[(\d+)\]$/;
const SIMPLE = new Set(["identity", "year", "month", "day", "hour", "void"]);

/**
 * Parses the JSON form of a transform (spec Appendix C): `identity`, `bucket[N]`, `truncate[W]`,
 * `year`, `month`, `day`, `hour`, `void`. N and W must be positive 32-bit integers.
 *
 * @example
 * parseTransform("bucket[16]"); // { kind: "bucket", n: 16 }
 */
export function parseTransform(s: string): Transform {
  if (SIMPLE.has(s)) return { kind: s as "identity" };
  const m = PARAM_RE.exec(s);
  const param = m ? Number(m[2]) : 0;
  if (m && param >= 1 && param <= 2 ** 31 - 1) {
    return m[1] === "bucket" ? { kind: "bucket", n: param } : { kind: "truncate", width: param };
  }
  throw new FloeError(
    "invalid_input",
    `unknown partition transform ${JSON.stringify(s)}: expected identity, bucket[N], truncate[W], year, month, day, hour or void (N, W ≥ 1)`,
    { details: { transform: s } },
  );
}

/** The JSON form of a transform: the inverse of {@link parseTransform}. */
export function transformToString(t: Transform): string {
  if (t.kind === "bucket") return `bucket[${t.n}]`;
  if (t.kind === "truncate") return `truncate[${t.width}]`;
  return t.kind;
}

const asTransform = (t: Transform | string): Transform => (typeof t === "string" ? parseTransform(t) : t);

/** Source type families each transform accepts (spec table "Partition Transforms"). */
const SOURCES: Record<string, string[] | undefined> = {
  bucket: ["int", "long", "decimal", "date", "time", "timestamp", "timestamptz", "string", "uuid", "fixed", "binary"],
  truncate: ["int", "long", "decimal", "string", "binary"],
  year: ["date", "timestamp", "timestamptz"],
  month: ["date", "timestamp", "timestamptz"],
  day: ["date", "timestamp", "timestamptz"],
  hour: ["timestamp", "timestamptz"],
};

/**
 * The type of the partition value a transform produces from `sourceType`: identity, truncate and
 * void keep the source type, bucket/year/month/hour give int, day gives date (as Java and
 * pyiceberg do; the values are the same day ordinals). Throws `invalid_input` when the transform
 * does not apply to the type (e.g. year on a string).
 */
export function transformResultType(transform: Transform | string, sourceType: IcebergType): PrimitiveType {
  const t = asTransform(transform);
  const name = transformToString(t);
  if (!isPrimitive(sourceType)) {
    throw new FloeError("invalid_input", `transform ${name} needs a primitive source column, got ${typeToString(sourceType)}`, {
      details: { transform: name, sourceType: typeToString(sourceType) },
    });
  }
  const allowed = SOURCES[t.kind];
  if (allowed && !allowed.includes(typeKind(sourceType))) {
    throw new FloeError("invalid_input", `transform ${name} cannot apply to ${sourceType} (it applies to ${allowed.join(", ")})`, {
      details: { transform: name, sourceType },
    });
  }
  switch (t.kind) {
    case "bucket":
    case "year":
    case "month":
    case "hour":
      return "int";
    case "day":
      return "date";
    default:
      return sourceType;
  }
}

const MICROS_PER_HOUR = 3_600_000_000n;
const utf8 = new TextEncoder();

/** The bytes Appendix B hashes: ints/dates widen to long so int→long promotion keeps buckets. */
function hashInput(kind: string, v: InternalValue): Uint8Array {
  switch (kind) {
    case "int":
    case "date":
      return longBytesLE(BigInt(v as number));
    case "long":
    case "time":
    case "timestamp":
    case "timestamptz":
      return longBytesLE(v as bigint);
    case "decimal":
      return decimalToBytes(v as bigint);
    case "string":
      return utf8.encode(v as string);
    default: // uuid (16 big-endian bytes), fixed, binary
      return v as Uint8Array;
  }
}

/** Days since the epoch of a date (number) or timestamp (bigint micros), floored for pre-1970 values. */
function epochDays(kind: string, v: InternalValue): number {
  return kind === "date" ? (v as number) : Number(floorDiv(v as bigint, MICROS_PER_DAY));
}

/**
 * Applies a transform to an internal value of `sourceType` (null → null, spec). Time transforms
 * count whole years/months/days/hours from 1970-01-01 00:00 UTC, flooring (so 1969-12-31 is year
 * -1, month -1, day -1). Truncate keeps `v - (((v % W) + W) % W)` for numbers (decimals on the
 * unscaled value), the first W code points of strings and the first W bytes of binary.
 *
 * @example
 * applyTransform("truncate[10]", "int", -1); // -10
 * applyTransform("bucket[16]", "int", 34); // 3
 */
export function applyTransform(transform: Transform | string, sourceType: PrimitiveType, value: InternalValue): InternalValue {
  const t = asTransform(transform);
  transformResultType(t, sourceType); // refuses a transform that does not fit the type
  if (value === null || t.kind === "void") return null;
  checkInternal(sourceType, value);
  const kind = typeKind(sourceType);
  switch (t.kind) {
    case "identity":
      return value;
    case "bucket":
      return bucketOfHash(murmur3Hash32(hashInput(kind, value)), t.n);
    case "truncate": {
      const w = t.width;
      if (kind === "int") {
        const v = value as number;
        return (v - (((v % w) + w) % w)) | 0; // int arithmetic wraps, as in Java
      }
      if (kind === "long" || kind === "decimal") {
        const [v, bw] = [value as bigint, BigInt(w)];
        const r = v - (((v % bw) + bw) % bw);
        return kind === "long" ? BigInt.asIntN(64, r) : r;
      }
      if (kind === "string") {
        const s = value as string;
        return s.length <= w ? s : Array.from(s).slice(0, w).join("");
      }
      const bytes = value as Uint8Array;
      return bytes.length <= w ? bytes : bytes.slice(0, w);
    }
    case "year":
      return civilFromDays(epochDays(kind, value)).year - 1970;
    case "month": {
      const { year, month } = civilFromDays(epochDays(kind, value));
      return (year - 1970) * 12 + month - 1;
    }
    case "day":
      return epochDays(kind, value);
    case "hour":
      return Number(floorDiv(value as bigint, MICROS_PER_HOUR));
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** Java's `String.format("%04d", y)`: the sign counts in the width, no `+` for big years. */
const year4 = (y: number) => (y < 0 ? `-${String(-y).padStart(3, "0")}` : String(y).padStart(4, "0"));

function humanDay(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${year4(year)}-${pad2(month)}-${pad2(day)}`;
}

/** Java `LocalTime.toString()`: `HH:mm`, then `:ss` and `.SSS`/`.SSSSSS` only when non-zero. */
function humanTime(microsOfDay: bigint): string {
  const m = Number(microsOfDay);
  const secs = Math.floor(m / 1e6);
  const frac = m % 1e6;
  let out = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}`;
  if (secs % 60 > 0 || frac > 0) out += `:${pad2(secs % 60)}`;
  if (frac > 0) out += frac % 1000 === 0 ? `.${String(frac / 1000).padStart(3, "0")}` : `.${String(frac).padStart(6, "0")}`;
  return out;
}

/** Java `BigDecimal.toString()`: plain unless the adjusted exponent is below -6 ("1E-10"). */
function humanDecimal(unscaled: bigint, scale: number): string {
  const coeff = (unscaled < 0n ? -unscaled : unscaled).toString();
  const adjusted = coeff.length - 1 - scale;
  if (adjusted >= -6) return formatDecimal(unscaled, scale);
  const mantissa = coeff.length > 1 ? `${coeff[0]}.${coeff.slice(1)}` : coeff;
  return `${unscaled < 0n ? "-" : ""}${mantissa}E${adjusted}`;
}

/** Java `Double.toString` / `Float.toString` (shortest digits; scientific outside [1e-3, 1e7)). */
function humanFloating(v: number, isFloat: boolean): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  let sci = v.toExponential();
  for (let p = 0; isFloat && p < 9; p++) {
    const s = v.toExponential(p); // shortest digits that read back as the same float32
    if (Math.fround(Number(s)) === v) {
      sci = s;
      break;
    }
  }
  const [, sign, lead, rest = "", e] = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(sci)!;
  const [digits, exp] = [lead + rest, Number(e)];
  if (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e7) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, "0")}.${digits.slice(exp + 1) || "0"}`;
  }
  return `${sign}${lead}.${rest || "0"}E${exp}`;
}

/** The human form of a value by its type, as Java `Transform.toHumanString(Type, value)`. */
function humanValue(type: PrimitiveType, v: Exclude<InternalValue, null>): string {
  switch (typeKind(type)) {
    case "date":
      return humanDay(v as number);
    case "time":
      return humanTime(v as bigint);
    case "timestamp":
    case "timestamptz":
      return formatTimestamp(v as bigint, type === "timestamptz");
    case "fixed":
    case "binary":
      return base64Encode(v as Uint8Array);
    case "uuid":
      return formatUuid(v as Uint8Array);
    case "decimal":
      return humanDecimal(v as bigint, decimalParams(type)!.scale);
    case "float":
    case "double":
      return humanFloating(v as number, type === "float");
    default:
      return String(v);
  }
}

/**
 * The human string of a partition value (what goes into partition paths), as Java's
 * `Transform.toHumanString`: null → "null"; year "2017"; month "2017-11"; day "2017-11-16"; hour
 * "2017-11-16-22"; bucket the int; identity/truncate by the value's type (timestamp
 * "2017-11-16T22:31:08", timestamptz with "+00:00", uuid canonical, binary/fixed base64).
 *
 * @example
 * toHumanString("month", "int", 574); // "2017-11"
 */
export function toHumanString(transform: Transform | string, resultType: PrimitiveType, value: InternalValue): string {
  const t = asTransform(transform);
  if (value === null || t.kind === "void") return "null";
  switch (t.kind) {
    case "year":
      return year4(1970 + (value as number));
    case "month": {
      const m = value as number;
      return `${year4(1970 + Math.floor(m / 12))}-${pad2((((m % 12) + 12) % 12) + 1)}`;
    }
    case "hour": {
      const h = value as number;
      return `${humanDay(Math.floor(h / 24))}-${pad2(((h % 24) + 24) % 24)}`;
    }
    case "bucket":
      return String(value);
    default: // identity, truncate, day (whose result type is date)
      return humanValue(resultType, value);
  }
}
