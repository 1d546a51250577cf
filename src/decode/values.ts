/**
 * How typed values from binary formats (Parquet, Arrow) appear in decoded rows. Rows are meant for
 * the row converter (`src/iceberg/rows.ts`), which takes JSON-like values and refuses what does
 * not fit exactly, so every value here is one it accepts without loss:
 *
 * - 64-bit integers → `bigint`; smaller integers and floats → `number` (NaN/±Infinity stay numbers);
 * - decimals → exact text with the column's scale (`"12.30"`), never a float;
 * - dates → `"2024-02-29"`; times → `"12:34:56.5"`;
 * - timestamps → ISO-8601 text with every digit the file holds (`"2024-01-02T03:04:05.123456"`),
 *   with `+00:00` when the column is UTC-adjusted (Parquet `isAdjustedToUTC`, an Arrow time zone);
 *   nanoseconds keep 9 fraction digits (the converter truncates them to micros);
 * - binary and fixed → standard base64 (what `parseLiteral` accepts for binary/fixed);
 * - uuid → canonical text; lists → arrays; structs → objects; maps → objects keyed by the key text.
 */
import { formatDate, formatTimestamp } from "../iceberg/datetime.js";
import { formatDecimal } from "../iceberg/literals.js";

export { base64Encode } from "../iceberg/bytes.js";
export { formatDate, formatDecimal };

const pad = (n: bigint, w: number) => n.toString().padStart(w, "0");

/** Floor division and remainder for bigints (`/` truncates toward zero: wrong before 1970). */
function floorDivMod(a: bigint, b: bigint): [bigint, bigint] {
  let q = a / b;
  let r = a % b;
  if (r < 0n) {
    q -= 1n;
    r += b;
  }
  return [q, r];
}

/** Fraction digits without trailing zeros: 500000 at width 6 → ".5"; 0 → "". */
function fraction(n: bigint, width: number): string {
  return n === 0n ? "" : `.${pad(n, width).replace(/0+$/, "")}`;
}

export type TimeUnit = "s" | "ms" | "us" | "ns";
const PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1_000n, us: 1_000_000n, ns: 1_000_000_000n };
const DIGITS: Record<TimeUnit, number> = { s: 0, ms: 3, us: 6, ns: 9 };

/**
 * ISO-8601 text of a timestamp counted in `unit` since the epoch, exact to the unit.
 * @example isoTimestamp(-1n, "us", false) // "1969-12-31T23:59:59.999999"
 */
export function isoTimestamp(value: bigint, unit: TimeUnit, utc: boolean): string {
  if (unit !== "ns") {
    const micros = value * (1_000_000n / PER_SECOND[unit]);
    return formatTimestamp(micros, utc);
  }
  const [secs, nanos] = floorDivMod(value, 1_000_000_000n);
  const text = formatTimestamp(secs * 1_000_000n, false) + fraction(nanos, 9);
  return utc ? `${text}+00:00` : text;
}

/** `HH:MM:SS[.f]` of a time of day counted in `unit` since midnight. */
export function isoTime(value: bigint, unit: TimeUnit): string {
  const [secs, sub] = floorDivMod(value, PER_SECOND[unit]);
  const h = secs / 3600n;
  const m = (secs / 60n) % 60n;
  const s = secs % 60n;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${fraction(sub, DIGITS[unit])}`;
}

/** Days since the epoch → `YYYY-MM-DD` (also for Arrow's date64 millis, floored to the day). */
export function isoDate(days: number): string {
  return formatDate(days);
}

/** A big-endian two's-complement integer (Parquet's decimal byte arrays) as a bigint. */
export function bigEndianSigned(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return bytes[0] & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v;
}

/** Little-endian 32-bit words as one two's-complement integer (Arrow's decimal128/256 layout). */
export function littleEndianWordsSigned(words: Uint32Array): bigint {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i]);
  const bits = BigInt(words.length * 32);
  return words[words.length - 1] & 0x8000_0000 ? v - (1n << bits) : v;
}
