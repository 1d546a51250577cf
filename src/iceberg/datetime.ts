/**
 * Calendar and time-of-day math for dates, times and timestamps: exact integer math on the
 * proleptic Gregorian calendar, like java.time, with days since 1970-01-01 and micros since
 * midnight or the epoch (UTC) as the internal forms (spec "Primitive Types").
 */

/** Microseconds in a day. */
export const MICROS_PER_DAY = 86_400_000_000n;

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

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/;
const OFFSET_RE = /^(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Days of a `YYYY-MM-DD` prefix, validating the calendar (years 0001–9999). */
export function parseDatePart(s: string): { days: number; rest: string } | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return undefined;
  const days = daysFromCivil(y, mo, d);
  if (civilFromDays(days).month !== mo) return undefined; // e.g. 2023-02-29 rolls into March
  return { days, rest: s.slice(m[0].length) };
}

/** Microseconds of an `HH:MM:SS[.fraction]` prefix; fraction digits beyond micros are truncated. */
export function parseTimePart(s: string): { micros: bigint; rest: string } | undefined {
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
export function parseTimestamp(s: string): bigint | undefined {
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
