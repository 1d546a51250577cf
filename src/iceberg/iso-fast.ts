import { daysFromCivil } from "./datetime.js";

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const scratch = new Uint8Array(64);

/**
 * Microseconds since the epoch of the one timestamp shape most event producers send,
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z` (JavaScript's `toISOString()`), read by char codes without
 * allocating; undefined for anything else, which then takes the general, slower parser in
 * `parseLiteral`. This path exists because timestamps are the costliest column of a typical event
 * (measured: the general parser took a third of row conversion in `npm run bench`).
 */
export function fastIsoUtcMicros(s: string): bigint | undefined {
  const n = s.length;
  if (n < 20 || n > scratch.length) return undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return undefined;
    scratch[i] = c;
  }
  if (!isoParts(scratch, 0, n)) return undefined;
  const [seconds, micros] = parts;
  const total = seconds * 1_000_000 + micros;
  // Exact as a double until about the year 2255; past that, bigint arithmetic.
  return Number.isSafeInteger(total) ? BigInt(total) : BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/**
 * `fastIsoUtcMicros` over ASCII bytes b[from, to), as a double: the columnar scanner reads
 * timestamps from the input bytes with it. Undefined for anything the string form refuses, and
 * for instants past about the year 2255, whose microseconds are no longer exact as a double.
 */
export function isoMicrosOfBytes(b: Uint8Array, from: number, to: number): number | undefined {
  if (!isoParts(b, from, to)) return undefined;
  const total = parts[0] * 1_000_000 + parts[1];
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Days since 1970-01-01 of `YYYY-MM-DD` in b[from, to) (the shape most producers send a date in), else undefined. */
export function isoDaysOfBytes(b: Uint8Array, from: number, to: number): number | undefined {
  if (to - from !== 10 || b[from + 4] !== 45 || b[from + 7] !== 45) return undefined;
  const year = num(b, from, from + 4);
  const month = num(b, from + 5, from + 7);
  const day = num(b, from + 8, from + 10);
  if (year < 0 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > MONTH_DAYS[month - 1] + (month === 2 && leap ? 1 : 0)) return undefined;
  return daysFromCivil(year, month, day);
}

/** Seconds and microseconds of the last instant `isoParts` read (one array, so reading allocates nothing). */
const parts = new Float64Array(2);

function isoParts(b: Uint8Array, from: number, to: number): boolean {
  const n = to - from;
  if (n < 20 || b[to - 1] !== 90 /* Z */) return false;
  if (b[from + 4] !== 45 || b[from + 7] !== 45 || b[from + 10] !== 84 || b[from + 13] !== 58 || b[from + 16] !== 58) return false;
  const days = dayOf(b, from);
  if (days === undefined) return false;
  const hour = two(b, from + 11);
  const minute = two(b, from + 14);
  const second = two(b, from + 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let micros = 0;
  if (n > 20) {
    // A fraction of 1–9 digits; digits past microseconds are truncated, as parseLiteral does.
    if (b[from + 19] !== 46 /* . */ || n - 21 > 9 || n - 21 < 1) return false;
    const f = num(b, from + 20, to - 1);
    if (f < 0) return false;
    const digits = n - 21;
    micros = digits <= 6 ? f * POW10[6 - digits] : Math.floor(f / POW10[digits - 6]);
  } else if (b[from + 19] !== 90) return false;
  parts[0] = days * 86400 + hour * 3600 + minute * 60 + second;
  parts[1] = micros;
  return true;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

// Events in a batch mostly fall on few days: the last date read and its day number are kept, so
// the next instant of the same day compares ten bytes instead of validating and converting again.
const lastDate = new Uint8Array(10);
let lastDays: number | undefined;

/** Days since the epoch of `YYYY-MM-DD` at b[from] (separators already checked), or undefined if it is no date. */
function dayOf(b: Uint8Array, from: number): number | undefined {
  if (lastDays !== undefined) {
    let same = true;
    for (let k = 0; k < 10; k++) {
      if (b[from + k] !== lastDate[k]) {
        same = false;
        break;
      }
    }
    if (same) return lastDays;
  }
  const year = num(b, from, from + 4);
  const month = two(b, from + 5);
  const day = two(b, from + 8);
  if (year < 0 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > MONTH_DAYS[month - 1] + (month === 2 && leap ? 1 : 0)) return undefined;
  for (let k = 0; k < 10; k++) lastDate[k] = b[from + k];
  lastDays = daysFromCivil(year, month, day);
  return lastDays;
}

/** The two-digit number at b[i], or -1. */
function two(b: Uint8Array, i: number): number {
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  return x >>> 0 > 9 || y >>> 0 > 9 ? -1 : x * 10 + y;
}

/** The decimal number in b[from, to), or -1 if any byte is not a digit. */
function num(b: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
