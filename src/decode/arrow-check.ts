/**
 * Bounds checks of Arrow IPC metadata (the flatbuffers of `Message.fbs`, `Schema.fbs` and
 * `File.fbs`) before apache-arrow reads it. apache-arrow trusts the lengths a flatbuffer claims: a
 * schema whose field claims 2^31 children makes it build that many `Field`s until the process
 * aborts, before any error can be caught. flatbuffers' JavaScript runtime has no verifier (its C++
 * and Rust ones do), so this walks the parts apache-arrow allocates from (fields and their
 * children, key-value metadata, record batch nodes and buffers, the footer's blocks) and checks
 * every offset and vector against the bytes that hold it. It reads nothing else.
 */

/** More fields than this (nested ones included) in one schema is refused: no table takes them. */
export const MAX_ARROW_FIELDS = 100_000;
const MAX_DEPTH = 64;

export class ArrowShapeError extends Error {}

/** One flatbuffer: every read checked against its bytes. */
class Fb {
  private readonly v: DataView;
  constructor(private readonly b: Uint8Array) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private at(pos: number, size: number, what: string): number {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.b.byteLength) throw new ArrowShapeError(`${what} at byte ${pos} lies outside its ${this.b.byteLength}-byte metadata`);
    return pos;
  }
  u8(pos: number): number {
    return this.v.getUint8(this.at(pos, 1, "a byte"));
  }
  u16(pos: number): number {
    return this.v.getUint16(this.at(pos, 2, "a vtable entry"), true);
  }
  u32(pos: number, what: string): number {
    return this.v.getUint32(this.at(pos, 4, what), true);
  }
  i64(pos: number): bigint {
    return this.v.getBigInt64(this.at(pos, 8, "an int64"), true);
  }
  /** The table at `pos`: where each of its slots is (0 when absent). */
  table(pos: number, what: string): (slot: number) => number {
    const vt = pos - this.v.getInt32(this.at(pos, 4, what), true);
    const vtSize = this.u16(this.at(vt, 4, `${what}'s vtable`));
    this.at(vt, vtSize, `${what}'s vtable`);
    return (slot) => {
      const entry = 4 + 2 * slot;
      if (entry + 2 > vtSize) return 0;
      const off = this.u16(vt + entry);
      return off ? pos + off : 0;
    };
  }
  /** Follows the offset stored at `pos` (a table, vector or string), or 0 when `pos` is 0. */
  deref(pos: number, what: string): number {
    if (!pos) return 0;
    return this.at(pos + this.u32(pos, what), 4, what);
  }
  /** A vector at `pos` (after deref) of `n` elements of `size` bytes: its first element's position and length. */
  vector(pos: number, size: number, what: string): { start: number; length: number } {
    if (!pos) return { start: 0, length: 0 };
    const length = this.u32(pos, what);
    this.at(pos + 4, length * size, `${what} (${length} elements)`);
    return { start: pos + 4, length };
  }
  /** The root table (its offset is the buffer's first 4 bytes; `deref` takes position 0 for "absent"). */
  root(): number {
    return this.at(this.u32(0, "the root offset"), 4, "the root table");
  }
}

/** The checked metadata of one IPC message: its header type and body length. */
export function checkMessage(meta: Uint8Array): { headerType: number; bodyLength: number } {
  const fb = new Fb(meta);
  const msg = fb.root();
  const slot = fb.table(msg, "the message");
  const headerType = slot(1) ? fb.u8(slot(1)) : 0;
  const header = fb.deref(slot(2), "the message header");
  if (header) {
    if (headerType === 1) checkSchema(fb, header);
    else if (headerType === 2) {
      const data = fb.deref(fb.table(header, "a dictionary batch")(1), "a dictionary batch's data");
      if (data) checkRecordBatch(fb, data);
    } else if (headerType === 3) checkRecordBatch(fb, header);
  }
  checkKeyValues(fb, slot(4));
  const body = slot(3) ? fb.i64(slot(3)) : 0n;
  if (body < 0n || body > BigInt(Number.MAX_SAFE_INTEGER)) throw new ArrowShapeError(`a message claims a body of ${body} bytes`);
  return { headerType, bodyLength: Number(body) };
}

/** The file format's footer: its schema and the blocks it points at. */
export function checkFooter(meta: Uint8Array): void {
  const fb = new Fb(meta);
  const footer = fb.root();
  const slot = fb.table(footer, "the footer");
  const schema = fb.deref(slot(1), "the footer's schema");
  if (schema) checkSchema(fb, schema);
  fb.vector(fb.deref(slot(2), "the dictionary blocks"), 24, "the dictionary blocks");
  fb.vector(fb.deref(slot(3), "the record batch blocks"), 24, "the record batch blocks");
  checkKeyValues(fb, slot(4));
}

function checkSchema(fb: Fb, pos: number): void {
  const slot = fb.table(pos, "the schema");
  const count = { n: 0 };
  checkFields(fb, fb.deref(slot(1), "the schema's fields"), 0, count);
  checkKeyValues(fb, slot(2));
  fb.vector(fb.deref(slot(3), "the schema's features"), 8, "the schema's features");
}

function checkFields(fb: Fb, vec: number, depth: number, count: { n: number }): void {
  if (!vec) return;
  if (depth > MAX_DEPTH) throw new ArrowShapeError(`fields nested deeper than ${MAX_DEPTH} levels`);
  const { start, length } = fb.vector(vec, 4, "a list of fields");
  count.n += length;
  if (count.n > MAX_ARROW_FIELDS) throw new ArrowShapeError(`the schema has more than ${MAX_ARROW_FIELDS} fields`);
  for (let i = 0; i < length; i++) {
    const field = fb.deref(start + 4 * i, "a field");
    const slot = fb.table(field, "a field");
    fb.vector(fb.deref(slot(0), "a field's name"), 1, "a field's name");
    if (slot(3)) fb.table(fb.deref(slot(3), "a field's type"), "a field's type");
    const dictionary = fb.deref(slot(4), "a field's dictionary encoding");
    if (dictionary) {
      const index = fb.deref(fb.table(dictionary, "a dictionary encoding")(1), "a dictionary's index type");
      if (index) fb.table(index, "a dictionary's index type");
    }
    checkFields(fb, fb.deref(slot(5), "a field's children"), depth + 1, count);
    checkKeyValues(fb, slot(6));
  }
}

function checkKeyValues(fb: Fb, slotPos: number): void {
  const { start, length } = fb.vector(fb.deref(slotPos, "key-value metadata"), 4, "key-value metadata");
  for (let i = 0; i < length; i++) {
    const kv = fb.table(fb.deref(start + 4 * i, "a key-value pair"), "a key-value pair");
    fb.vector(fb.deref(kv(0), "a metadata key"), 1, "a metadata key");
    fb.vector(fb.deref(kv(1), "a metadata value"), 1, "a metadata value");
  }
}

function checkRecordBatch(fb: Fb, pos: number): void {
  const slot = fb.table(pos, "a record batch");
  fb.vector(fb.deref(slot(1), "a record batch's nodes"), 16, "a record batch's nodes");
  fb.vector(fb.deref(slot(2), "a record batch's buffers"), 16, "a record batch's buffers");
  if (slot(3)) fb.table(fb.deref(slot(3), "a record batch's compression"), "a record batch's compression");
  fb.vector(fb.deref(slot(4), "a record batch's variadic counts"), 8, "a record batch's variadic counts");
}

/**
 * Frames IPC messages as their bytes go by (the stream format: an optional 0xFFFFFFFF, an int32
 * metadata length, the metadata, then the body) and checks each message's metadata once it is
 * whole. `push` must see every chunk before apache-arrow does; it holds at most one metadata block.
 */
export class MessageFramer {
  private state: "prefix" | "meta" | "body" | "done" = "prefix";
  private prefix = new Uint8Array(8);
  private have = 0;
  private meta: Uint8Array = new Uint8Array(0);
  private skip = 0;

  constructor(private readonly maxMetadataBytes: number) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.state !== "done") {
      if (this.state === "body") {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.state = "prefix";
        continue;
      }
      if (this.state === "prefix") {
        this.prefix[this.have++] = chunk[i++];
        const v = new DataView(this.prefix.buffer);
        const continued = this.have >= 4 && v.getUint32(0, true) === 0xffffffff;
        if (this.have === 4 && continued) continue;
        if (this.have === 4 || this.have === 8) {
          const length = continued ? v.getInt32(4, true) : v.getInt32(0, true);
          this.have = 0;
          if (length === 0) {
            this.state = "done";
            continue;
          }
          if (length < 0 || length > this.maxMetadataBytes) throw new ArrowShapeError(`a message claims ${length} bytes of metadata`);
          this.meta = new Uint8Array(length);
          this.state = "meta";
        }
        continue;
      }
      const n = Math.min(this.meta.length - this.have, chunk.length - i);
      this.meta.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === this.meta.length) {
        const { bodyLength } = checkMessage(this.meta);
        this.have = 0;
        this.meta = new Uint8Array(0);
        this.skip = bodyLength;
        this.state = bodyLength ? "body" : "prefix";
      }
    }
  }
}

/** Checks a whole file (`ARROW1`, padding, the stream's messages, the footer, its length, `ARROW1`). */
export function checkFile(bytes: Uint8Array, maxMetadataBytes: number): void {
  if (bytes.length < 18) return; // too short to hold anything: apache-arrow refuses it
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = v.getInt32(bytes.length - 10, true);
  const footerStart = bytes.length - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) throw new ArrowShapeError(`the footer claims ${footerLength} bytes`);
  checkFooter(bytes.subarray(footerStart, bytes.length - 10));
  new MessageFramer(maxMetadataBytes).push(bytes.subarray(8, footerStart));
}
