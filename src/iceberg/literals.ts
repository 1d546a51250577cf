/**
 * JSON values ⇄ internal values (types.ts, "InternalValue"), strictly: a value that does not fit
 * its column is refused, never coerced or rounded. The output side follows the spec's JSON
 * single-value serialization (Appendix D) except where noted (binary and fixed travel as base64).
 * Dates and times use exact integer math on the proleptic Gregorian calendar, like java.time.
 */
import { FloeError } from "../errors.js";
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
const MICROS_PER_DAY = 86_400_000_000n;

/** Floor division for bigints (`/` truncates toward zero; partition math needs floor for pre-1970 values). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil; exact for any year). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of {@link daysFromCivil}. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** A year as java.time's ISO formatters print it: 4 digits, `+` beyond 9999, `-` before year 0. */
function isoYear(y: number): string {
  if (y > 9999) return `+${y}`;
  return y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
}

/** `2017-11-16` for days since the epoch (ISO_LOCAL_DATE). */
export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${isoYear(year)}-${pad(month)}-${pad(day)}`;
}

/** `22:31:08` or `22:31:08.000001`: ISO_LOCAL_TIME (seconds always, fraction without trailing zeros). */
export function formatTime(microsOfDay: bigint): string {
  const m = Number(microsOfDay);
  const secs = Math.floor(m / 1e6);
  const frac = m % 1e6;
  const base = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  return frac === 0 ? base : `${base}.${pad(frac, 6).replace(/0+$/, "")}`;
}

/**
 * `2017-11-16T22:31:08.000001` (timestamp) or the same with `+00:00` (timestamptz): what Iceberg's
 * `DateTimeUtil.microsToIsoTimestamp(tz)` prints, used both for JSON and for partition paths.
 */
export function formatTimestamp(micros: bigint, withZone: boolean): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  const text = `${formatDate(Number(days))}T${formatTime(micros - days * MICROS_PER_DAY)}`;
  return withZone ? `${text}+00:00` : text;
}

/** Decimal text with exactly `scale` fraction digits: unscaled 1420, scale 2 → "14.20". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard, padded base64 (RFC 4648 §4), as Java's `Base64.getEncoder()` writes it. */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

/** Decodes standard padded base64; undefined when `s` is not exactly that. */
export function base64Decode(s: string): Uint8Array | undefined {
  if (!B64_RE.test(s)) return undefined;
  const pads = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pads);
  for (let i = 0, o = 0; i < s.length; i += 4) {
    const n = [0, 1, 2, 3].reduce((acc, k) => (acc << 6) | Math.max(0, B64.indexOf(s[i + k])), 0);
    for (const shift of [16, 8, 0]) if (o < out.length) out[o++] = (n >> shift) & 255;
  }
  return out;
}

/** Canonical lowercase `8-4-4-4-12` text of 16 big-endian uuid bytes (spec Appendix B note 4). */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/;
const OFFSET_RE = /^(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Days of a `YYYY-MM-DD` prefix, validating the calendar (years 0001–9999). */
function parseDatePart(s: string): { days: number; rest: string } | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return undefined;
  const days = daysFromCivil(y, mo, d);
  if (civilFromDays(days).month !== mo) return undefined; // e.g. 2023-02-29 rolls into March
  return { days, rest: s.slice(m[0].length) };
}

/** Microseconds of an `HH:MM:SS[.fraction]` prefix; fraction digits beyond micros are truncated. */
function parseTimePart(s: string): { micros: bigint; rest: string } | undefined {
  const m = TIME_RE.exec(s);
  if (!m) return undefined;
  const [h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || mi > 59 || sec > 59) return undefined;
  const frac = BigInt((m[4] ?? "").slice(0, 6).padEnd(6, "0"));
  return { micros: BigInt(h * 3600 + mi * 60 + sec) * 1_000_000n + frac, rest: s.slice(m[0].length) };
}

/**
 * ISO-8601 `YYYY-MM-DDTHH:MM:SS[.f]` with an optional `Z` / `±HH:MM` offset → micros since the
 * epoch in UTC. An offset is always applied (so a `timestamp` given with an offset is stored as the
 * UTC wall-clock time); no offset means the text already is UTC.
 */
function parseTimestamp(s: string): bigint | undefined {
  const date = parseDatePart(s);
  if (!date || date.rest[0] !== "T") return undefined;
  const time = parseTimePart(date.rest.slice(1));
  if (!time) return undefined;
  let offsetSeconds = 0;
  if (time.rest !== "") {
    const o = OFFSET_RE.exec(time.rest);
    if (!o) return undefined;
    if (o[1]) {
      const [oh, om] = [Number(o[2]), Number(o[3])];
      if (om > 59 || oh * 60 + om > 18 * 60) return undefined; // java.time's limit: ±18:00
      offsetSeconds = (o[1] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  return BigInt(date.days) * MICROS_PER_DAY + time.micros - BigInt(offsetSeconds) * 1_000_000n;
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
      const specials: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
      const v = typeof value === "number" ? value : typeof value === "string" ? specials[value] : undefined;
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
