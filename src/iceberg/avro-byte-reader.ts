/**
 * The input cursor of the Avro decoder (`avro-read.ts`): Avro's binary encodings of its primitives
 * (Avro 1.11 spec, "Binary Encoding"), each read checked against the end of the buffer so a
 * truncated or corrupt file fails with an `avro: ` message instead of reading garbage.
 */
import { FloeError } from "../errors.js";

/** Corrupt or unsupported input is an internal fault of the table, not of a client request. */
export function fail(message: string, cause?: unknown): never {
  throw new FloeError("internal", `avro: ${message}`, { cause });
}

const utf8 = new TextDecoder();

/** A bounds-checked cursor over one buffer (the header, or one decompressed block). */
export class ByteReader {
  readonly view: DataView;
  constructor(readonly buf: Uint8Array, public what: string, public pos = 0) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) fail(`unexpected end of data in ${this.what} at byte ${this.pos} (needed ${n} more)`);
  }

  byte(): number {
    if (this.pos >= this.buf.length) fail(`unexpected end of data in ${this.what} at byte ${this.pos}`);
    return this.buf[this.pos++];
  }

  bool(): boolean {
    const b = this.byte();
    if (b > 1) fail(`invalid boolean byte ${b} in ${this.what}`);
    return b === 1;
  }

  /** Zig-zag varint int: at most 5 bytes, 32 bits. */
  int(): number {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      n |= (b & 0x7f) << shift;
      if (b < 0x80) return (n >>> 1) ^ -(n & 1);
    }
    return fail(`int varint longer than 5 bytes in ${this.what} at byte ${this.pos}`);
  }

  /** Zig-zag varint long → bigint. Exact float arithmetic while the value fits in 49 bits. */
  long(): bigint {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
      mul *= 128;
    }
    let z = BigInt(n);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      const b = this.byte();
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        z = BigInt.asUintN(64, z);
        return (z >> 1n) ^ -(z & 1n);
      }
    }
    return fail(`long varint longer than 10 bytes in ${this.what} at byte ${this.pos}`);
  }

  /** A non-negative length or count that must fit in a JS number. */
  size(): number {
    const n = this.long();
    if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`invalid length ${n} in ${this.what} at byte ${this.pos}`);
    return Number(n);
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    return this.buf.slice(this.pos, (this.pos += n));
  }

  string(): string {
    const n = this.size();
    this.need(n);
    return utf8.decode(this.buf.subarray(this.pos, (this.pos += n)));
  }
}
