// Byte-level pieces of JSON (RFC 8259 on UTF-8 bytes), shared by the JSON decoder's cutter and the
// columnar scanner: no string is made for anything the scanner takes.

export const LF = 0x0a;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
/** JSON's whitespace (RFC 8259 §2). */
export const isSpace = (b: number) => b === 0x20 || b === LF || b === 0x0d || b === 0x09;

export const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The index after the JSON value at b[i] (an object or array with its brackets balanced, a string,
 * or a bare token), or -1 where the line ends first. The text is checked by JSON.parse after.
 */
export function skipValue(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  let k = i;
  while (k < end) {
    const x = b[k];
    if (x === QUOTE) {
      k++;
      while (k < end && b[k] !== QUOTE) {
        if (b[k] < 0x20) return -1;
        k += b[k] === BACKSLASH ? 2 : 1;
      }
      if (k >= end) return -1;
      k++;
      if (depth === 0) return k;
      continue;
    }
    if (x === LF) return -1;
    if (x === OPEN_BRACE || x === OPEN_BRACKET) depth++;
    else if (x === CLOSE_BRACE || x === CLOSE_BRACKET) {
      if (depth === 0) return k; // the end of the enclosing object: a bare token ended here
      if (--depth === 0) return k + 1;
    } else if (depth === 0 && (x === COMMA || x === 0x20 || x === 0x09 || x === 0x0d)) return k;
    k++;
  }
  return depth === 0 ? k : -1;
}

/** The ASCII text of b[from, to) (a number token). */
export function ascii(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let k = from; k < to; k++) s += String.fromCharCode(b[k]);
  return s;
}

export function skipSpace(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const x = b[i];
    // Not \n: it ends the line (JSON text of one line has none outside strings, where it is refused).
    if (x !== 0x20 && x !== 0x09 && x !== 0x0d) break;
    i++;
  }
  return i;
}

export function literal(b: Uint8Array, i: number, end: number, word: string): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

export function hex4(b: Uint8Array, i: number, end: number): number {
  if (i + 4 > end) return -1;
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const x = b[k];
    const d = x >= 0x30 && x <= 0x39 ? x - 0x30 : x >= 0x61 && x <= 0x66 ? x - 0x57 : x >= 0x41 && x <= 0x46 ? x - 0x37 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

export function putUtf8(out: Uint8Array, o: number, cp: number): number {
  if (cp < 0x80) out[o++] = cp;
  else if (cp < 0x800) {
    out[o++] = 0xc0 | (cp >> 6);
    out[o++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    out[o++] = 0xe0 | (cp >> 12);
    out[o++] = 0x80 | ((cp >> 6) & 0x3f);
    out[o++] = 0x80 | (cp & 0x3f);
  } else {
    out[o++] = 0xf0 | (cp >> 18);
    out[o++] = 0x80 | ((cp >> 12) & 0x3f);
    out[o++] = 0x80 | ((cp >> 6) & 0x3f);
    out[o++] = 0x80 | (cp & 0x3f);
  }
  return o;
}

/** Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), as a fatal TextDecoder accepts. */
export function validUtf8(b: Uint8Array, i: number, end: number): boolean {
  while (i < end) {
    const x = b[i];
    if (x < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (x >= 0xc2 && x <= 0xdf) need = 1;
    else if (x >= 0xe0 && x <= 0xef) {
      need = 2;
      if (x === 0xe0) lo = 0xa0;
      else if (x === 0xed) hi = 0x9f;
    } else if (x >= 0xf0 && x <= 0xf4) {
      need = 3;
      if (x === 0xf0) lo = 0x90;
      else if (x === 0xf4) hi = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const y = b[i + 1];
    if (y < lo || y > hi) return false;
    for (let k = 2; k <= need; k++) {
      const z = b[i + k];
      if (z < 0x80 || z > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}
