/**
 * JSON values ⇄ internal values (types.ts, "InternalValue"), strictly: a value that does not fit
 * its column is refused, never coerced or rounded. The output side follows the spec's JSON
 * single-value serialization (Appendix D) except where noted (binary and fixed travel as base64).
 */
import { FloeError } from "../errors.js";
import { base64Decode, base64Encode, formatUuid } from "./bytes.js";
import { formatDate, formatTime, formatTimestamp, parseDatePart, parseTimePart, parseTimestamp } from "./datetime.js";
import { decimalParams, fixedLength, type InternalValue, type PrimitiveType } from "./types.js";

/** The family of a primitive type: `decimal(9,2)` → "decimal", `fixed[16]` → "fixed", else the name. */
export function typeKind(type: PrimitiveType): string {
  if (decimalParams(type)) return "decimal";
  if (fixedLength(type) !== undefined) return "fixed";
  return type;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Decimal text with exactly `scale` fraction digits: unscaled 1420, scale 2 → "14.20". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

/** Short JSON-ish preview of a bad value for error messages. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "bigint" || typeof value === "number" ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const FLOAT_SPECIALS = new Map([
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
]);

function refuse(type: PrimitiveType, value: unknown, hint?: string): never {
  const got = preview(value);
  const message = `expected ${type}, got ${got}${hint ? `: ${hint}` : ""}`;
  throw new FloeError("invalid_input", message, { details: { expected: type, got } });
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exact decimal text → unscaled bigint at `scale`, or a reason it does not fit. */
function parseDecimal(text: string, precision: number, scale: number): bigint | string {
  const m = DECIMAL_RE.exec(text);
  const int = m?.[2] ?? "";
  const frac = m?.[3] ?? "";
  if (!m || int.length + frac.length === 0) return "not a decimal number";
  const digits = (int + frac).replace(/^0+/, "");
  if (digits === "") return 0n;
  // value = digits × 10^exp, so the unscaled value at `scale` is digits × 10^(exp + scale).
  const shift = Number(m[4] ?? 0) - frac.length + scale;
  let unscaled: bigint;
  if (shift >= 0) {
    if (digits.length + shift > precision) return `more than ${precision} digits`;
    unscaled = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const keep = digits.length + shift;
    // Digits below the scale may only be zeros ("1.50" fits decimal(9,1)); anything else would round.
    if (/[1-9]/.test(keep > 0 ? digits.slice(keep) : digits)) return `more than ${scale} fraction digits`;
    unscaled = keep > 0 ? BigInt(digits.slice(0, keep)) : 0n;
  }
  if (unscaled.toString().length > precision) return `more than ${precision} digits`;
  return m[1] === "-" ? -unscaled : unscaled;
}

/**
 * Converts a JSON value to the internal value of `type`, refusing anything that does not fit
 * exactly with FloeError `invalid_input` ("expected <type>, got <value>").
 *
 * - long: a safe integer number, a bigint, or an integer string (for values beyond 2^53).
 * - float/double: a number, or the strings "NaN", "Infinity", "-Infinity"; float is rounded to
 *   32 bits (`Math.fround`) so the internal value is the one written, and must not overflow.
 * - decimal(P,S): a number or numeric string (exponent allowed); converted from its text, never
 *   through float math. Digits below the scale must be zeros; at most P digits.
 * - date `YYYY-MM-DD`; time `HH:MM:SS[.ffffff]`; timestamp/timestamptz ISO-8601
 *   `YYYY-MM-DDTHH:MM:SS[.ffffff]` with optional `Z`/`±HH:MM`. Both are stored as UTC micros: an
 *   offset given for `timestamp` is applied, a missing one for `timestamptz` means UTC. Digits
 *   beyond microseconds are truncated. Numbers are refused (seconds? millis? micros?).
 * - uuid: canonical 8-4-4-4-12 hex (any case); binary and fixed[L]: standard padded base64.
 *
 * @example
 * parseLiteral("decimal(9,2)", "14.20"); // 1420n
 * parseLiteral("timestamptz", "2017-11-16T14:31:08-08:00"); // 1510871468000000n
 */
export function parseLiteral(type: PrimitiveType, value: unknown): InternalValue {
  const kind = typeKind(type);
  switch (kind) {
    case "boolean":
      if (typeof value === "boolean") return value;
      break;
    case "int":
      if (Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX) return (value as number) | 0;
      if (typeof value === "number" && Number.isInteger(value)) refuse(type, value, "out of the 32-bit range");
      // A 64-bit integer (a CSV column the table types as an integer is read as one, so are Parquet's INT64s).
      if (typeof value === "bigint") {
        if (value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX)) return Number(value);
        refuse(type, value, "out of the 32-bit range");
      }
      break;
    case "long": {
      let v: bigint | undefined;
      if (typeof value === "bigint") v = value;
      else if (typeof value === "string" && /^[+-]?\d+$/.test(value)) v = BigInt(value);
      else if (Number.isSafeInteger(value)) v = BigInt(value as number);
      else if (Number.isInteger(value)) refuse(type, value, "beyond 2^53 a number loses precision; send it as a string");
      if (v !== undefined && v >= INT64_MIN && v <= INT64_MAX) return v;
      if (v !== undefined) refuse(type, value, "out of the 64-bit range");
      break;
    }
    case "float":
    case "double": {
      // A Map, not an object literal: "toString" must not find Object.prototype's (found by the columnar scanner's differential test).
      const v = typeof value === "number" ? value : typeof value === "string" ? FLOAT_SPECIALS.get(value) : undefined;
      if (v === undefined) break;
      if (kind === "double") return v;
      const f = Math.fround(v);
      if (Number.isFinite(v) && !Number.isFinite(f)) refuse(type, value, "out of the 32-bit float range");
      return f;
    }
    case "decimal": {
      const { precision, scale } = decimalParams(type)!;
      if (typeof value === "number" && !Number.isFinite(value)) break;
      if (typeof value !== "number" && typeof value !== "string") break;
      const r = parseDecimal(String(value), precision, scale);
      if (typeof r === "bigint") return r;
      refuse(type, value, r);
    }
    case "date": {
      const d = typeof value === "string" ? parseDatePart(value) : undefined;
      if (d && d.rest === "") return d.days;
      break;
    }
    case "time": {
      const t = typeof value === "string" ? parseTimePart(value) : undefined;
      if (t && t.rest === "") return t.micros;
      break;
    }
    case "timestamp":
    case "timestamptz": {
      if (typeof value === "number" || typeof value === "bigint") {
        const example = kind === "timestamp" ? "2017-11-16T22:31:08.000001" : "2017-11-16T22:31:08.000001Z";
        refuse(type, value, `send an ISO-8601 string such as "${example}" (a number is ambiguous: seconds, millis or micros?)`);
      }
      const v = typeof value === "string" ? parseTimestamp(value) : undefined;
      if (v !== undefined) return v;
      break;
    }
    case "string":
      // A lone surrogate has no UTF-8 form: Parquet writers would silently replace it.
      if (typeof value === "string" && /\p{Cs}/u.test(value)) refuse(type, value, "not valid Unicode (lone surrogate)");
      if (typeof value === "string") return value;
      break;
    case "uuid":
      if (typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
        const hex = value.replace(/-/g, "");
        return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
      }
      break;
    case "binary":
    case "fixed": {
      const bytes = typeof value === "string" ? base64Decode(value) : undefined;
      const len = fixedLength(type);
      if (bytes && (len === undefined || bytes.length === len)) return bytes;
      if (bytes) refuse(type, value, `decodes to ${bytes.length} bytes, not ${len}`);
      refuse(type, value, "send standard padded base64");
    }
    default:
      throw new FloeError("invalid_input", `unsupported type ${type}`, { details: { type } });
  }
  return refuse(type, value);
}

/**
 * The JSON form of an internal value, for people and API answers: long as a number when it is
 * safe (else a string), NaN/±Infinity as strings, decimal as "14.20", date "2017-11-16", time
 * "22:31:08.000001", timestamp "2017-11-16T22:31:08.000001" (timestamptz with "+00:00"), uuid
 * canonical, binary/fixed base64 (the spec's JSON single-value form uses hex; base64 is what our
 * API accepts, so what we print can be sent back).
 */
export function formatLiteral(type: PrimitiveType, v: InternalValue): string | number | boolean | null {
  if (v === null) return null;
  switch (typeKind(type)) {
    case "long":
      return (v as bigint) >= BigInt(Number.MIN_SAFE_INTEGER) && (v as bigint) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
    case "float":
    case "double":
      return Number.isFinite(v) ? (v as number) : String(v);
    case "decimal":
      return formatDecimal(v as bigint, decimalParams(type)!.scale);
    case "date":
      return formatDate(v as number);
    case "time":
      return formatTime(v as bigint);
    case "timestamp":
    case "timestamptz":
      return formatTimestamp(v as bigint, type === "timestamptz");
    case "uuid":
      return formatUuid(v as Uint8Array);
    case "binary":
    case "fixed":
      return base64Encode(v as Uint8Array);
    default:
      return v as string | number | boolean;
  }
}
