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

/** What a checked message says: its header type, body length, the dictionaries a schema needs, the dictionary a dictionary batch holds. */
export interface MessageInfo {
  headerType: number;
  bodyLength: number;
  needs?: Set<bigint>;
  dictionary?: bigint;
}

const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;

/** The checked metadata of one IPC message. */
export function checkMessage(meta: Uint8Array): MessageInfo {
  const fb = new Fb(meta);
  const msg = fb.root();
  const slot = fb.table(msg, "the message");
  const headerType = slot(1) ? fb.u8(slot(1)) : 0;
  const body = slot(3) ? fb.i64(slot(3)) : 0n;
  if (body < 0n || body > BigInt(Number.MAX_SAFE_INTEGER)) throw new ArrowShapeError(`a message claims a body of ${body} bytes`);
  const header = fb.deref(slot(2), "the message header");
  const info: MessageInfo = { headerType, bodyLength: Number(body) };
  if (header) {
    if (headerType === SCHEMA) info.needs = checkSchema(fb, header);
    else if (headerType === DICTIONARY_BATCH) {
      const d = fb.table(header, "a dictionary batch");
      info.dictionary = d(0) ? fb.i64(d(0)) : 0n;
      const data = fb.deref(d(1), "a dictionary batch's data");
      if (data) checkRecordBatch(fb, data, body);
    } else if (headerType === RECORD_BATCH) checkRecordBatch(fb, header, body);
  }
  checkKeyValues(fb, slot(4));
  return info;
}

/** Where the file format's footer says a message is (File.fbs `Block`). */
interface Block {
  /** The message it must hold: a dictionary batch or a record batch. */
  kind: number;
  offset: bigint;
  metaDataLength: number;
  bodyLength: bigint;
}

/** The file format's footer: its schema, and the blocks of its dictionaries and record batches. */
export function checkFooter(meta: Uint8Array): { needs: Set<bigint>; blocks: Block[] } {
  const fb = new Fb(meta);
  const footer = fb.root();
  const slot = fb.table(footer, "the footer");
  const schema = fb.deref(slot(1), "the footer's schema");
  const needs = schema ? checkSchema(fb, schema) : new Set<bigint>();
  const blocks: Block[] = [];
  for (const [s, kind, what] of [[2, DICTIONARY_BATCH, "the dictionary blocks"], [3, RECORD_BATCH, "the record batch blocks"]] as const) {
    const v = fb.vector(fb.deref(slot(s), what), 24, what);
    for (let i = 0; i < v.length; i++) blocks.push({ kind, offset: fb.i64(v.start + 24 * i), metaDataLength: fb.u32(v.start + 24 * i + 8, what), bodyLength: fb.i64(v.start + 24 * i + 16) });
  }
  checkKeyValues(fb, slot(4));
  return { needs, blocks };
}

/** Checks a schema; answers the ids of the dictionaries its fields are encoded with. */
function checkSchema(fb: Fb, pos: number): Set<bigint> {
  const slot = fb.table(pos, "the schema");
  const count = { n: 0 };
  const needs = new Set<bigint>();
  checkFields(fb, fb.deref(slot(1), "the schema's fields"), 0, count, needs);
  checkKeyValues(fb, slot(2));
  fb.vector(fb.deref(slot(3), "the schema's features"), 8, "the schema's features");
  return needs;
}

function checkFields(fb: Fb, vec: number, depth: number, count: { n: number }, needs: Set<bigint>): void {
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
      const d = fb.table(dictionary, "a dictionary encoding");
      needs.add(d(0) ? fb.i64(d(0)) : 0n);
      const index = fb.deref(d(1), "a dictionary's index type");
      if (index) fb.table(index, "a dictionary's index type");
    }
    checkFields(fb, fb.deref(slot(5), "a field's children"), depth + 1, count, needs);
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

/**
 * A record batch's row counts must fit its body: every row of a column takes at least a bit (a
 * value or validity bit), so more rows than the body has bits is a lie (apache-arrow would loop over
 * them). Columns of the Null type take no bytes at all: a batch of nothing but those, with more
 * rows than that, is refused too.
 */
function checkRecordBatch(fb: Fb, pos: number, bodyLength: bigint): void {
  const slot = fb.table(pos, "a record batch");
  const most = bodyLength * 8n + 64n;
  const rows = slot(0) ? fb.i64(slot(0)) : 0n;
  if (rows < 0n || rows > most) throw new ArrowShapeError(`a record batch claims ${rows} rows in a ${bodyLength}-byte body`);
  const nodes = fb.vector(fb.deref(slot(1), "a record batch's nodes"), 16, "a record batch's nodes");
  for (let i = 0; i < nodes.length; i++) {
    const length = fb.i64(nodes.start + 16 * i);
    const nulls = fb.i64(nodes.start + 16 * i + 8);
    if (length < 0n || length > most || nulls < 0n || nulls > length) throw new ArrowShapeError(`column node ${i} claims ${length} values (${nulls} null) in a ${bodyLength}-byte body`);
  }
  const buffers = fb.vector(fb.deref(slot(2), "a record batch's buffers"), 16, "a record batch's buffers");
  for (let i = 0; i < buffers.length; i++) {
    const offset = fb.i64(buffers.start + 16 * i);
    const length = fb.i64(buffers.start + 16 * i + 8);
    if (offset < 0n || length < 0n || offset + length > bodyLength) throw new ArrowShapeError(`buffer ${i} (bytes ${offset} to ${offset + length}) lies outside its ${bodyLength}-byte body`);
  }
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
  private needs = new Set<bigint>();
  private readonly seen = new Set<bigint>();

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
        const m = checkMessage(this.meta);
        if (m.needs) this.needs = m.needs;
        if (m.dictionary !== undefined) this.seen.add(m.dictionary);
        if (m.headerType === RECORD_BATCH) missingDictionary(this.needs, this.seen);
        const bodyLength = m.bodyLength;
        this.have = 0;
        this.meta = new Uint8Array(0);
        this.skip = bodyLength;
        this.state = bodyLength ? "body" : "prefix";
      }
    }
  }
}

/**
 * Checks a whole file (`ARROW1`, padding, messages, the footer, its length, `ARROW1`). apache-arrow
 * reads a file's messages where the footer's blocks say, not in order, so each block is checked.
 */
export function checkFile(bytes: Uint8Array, maxMetadataBytes: number): void {
  if (bytes.length < 18) return; // too short to hold anything: apache-arrow refuses it
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = v.getInt32(bytes.length - 10, true);
  const footerStart = bytes.length - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) throw new ArrowShapeError(`the footer claims ${footerLength} bytes`);
  const { needs, blocks } = checkFooter(bytes.subarray(footerStart, bytes.length - 10));
  const seen = new Set<bigint>();
  for (const b of blocks) {
    const at = Number(b.offset);
    if (b.offset < 8n || b.bodyLength < 0n || b.offset + BigInt(b.metaDataLength) + b.bodyLength > BigInt(footerStart) || b.metaDataLength < 8) {
      throw new ArrowShapeError(`a block at byte ${b.offset} (${b.metaDataLength} bytes of metadata, ${b.bodyLength} of body) lies outside the file's ${footerStart} bytes of messages`);
    }
    const continued = v.getUint32(at, true) === 0xffffffff;
    const start = at + (continued ? 8 : 4);
    const length = v.getInt32(at + (continued ? 4 : 0), true);
    if (length <= 0 || length > maxMetadataBytes || start + length > at + b.metaDataLength) throw new ArrowShapeError(`the message at byte ${at} claims ${length} bytes of metadata in a ${b.metaDataLength}-byte block`);
    const m = checkMessage(bytes.subarray(start, start + length));
    if (BigInt(m.bodyLength) > b.bodyLength) throw new ArrowShapeError(`the message at byte ${at} claims a ${m.bodyLength}-byte body in a block of ${b.bodyLength}`);
    // apache-arrow reads a record batch block again until it finds a record batch there: another message would never end.
    if (m.headerType !== b.kind) throw new ArrowShapeError(`the footer's ${b.kind === RECORD_BATCH ? "record batch" : "dictionary"} block at byte ${at} holds a message of type ${m.headerType}`);
    if (m.dictionary !== undefined) seen.add(m.dictionary);
  }
  missingDictionary(needs, seen);
}

/** The spec: a dictionary is sent before any record batch that uses it (apache-arrow hangs on one never sent). */
function missingDictionary(needs: Set<bigint>, seen: Set<bigint>): void {
  for (const id of needs) if (!seen.has(id)) throw new ArrowShapeError(`a field is encoded with dictionary ${id}, which no dictionary batch before the record batch holds`);
}
