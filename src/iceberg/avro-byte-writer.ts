/**
 * The output buffer of the Avro encoder (`avro.ts`) with Avro's binary encodings of its primitives
 * (Avro 1.11 spec, "Binary Encoding"): zig-zag varint longs, little-endian IEEE floats,
 * length-prefixed strings and bytes.
 */

/** A growable byte buffer: amortized doubling instead of one allocation per value. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;
  private static readonly utf8 = new TextEncoder();

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Zig-zag varint of a 64-bit long; numbers take a float fast path while exact. */
  long(n: number | bigint): void {
    this.ensure(10);
    if (typeof n === "number" && Math.abs(n) < 2 ** 52) {
      let z = n >= 0 ? n * 2 : -n * 2 - 1;
      while (z > 0x7f) {
        this.buf[this.pos++] = (z % 128) | 0x80;
        z = Math.floor(z / 128);
      }
      this.buf[this.pos++] = z;
      return;
    }
    const b = BigInt.asIntN(64, BigInt(n));
    let z = BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
    while (z > 0x7fn) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }

  float(x: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, x, true);
    this.pos += 4;
  }

  double(x: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  /** Length-prefixed UTF-8, encoded straight into the buffer (no temporary array). */
  string(s: string): void {
    // Leave room for the longest length prefix, encode, then slide the text left to the prefix.
    this.ensure(10 + s.length * 3);
    const start = this.pos + 10;
    const { written } = ByteWriter.utf8.encodeInto(s, this.buf.subarray(start));
    this.long(written);
    this.buf.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }

  /** Length-prefixed bytes. */
  lengthPrefixed(b: Uint8Array): void {
    this.long(b.length);
    this.bytes(b);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
