const utf8 = new TextDecoder();

/** FNV-1a over bytes, the dictionary's hash (the NDJSON scanner takes it while it reads a string). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * The distinct UTF-8 strings of one column chunk, in first-seen order, in one byte pool: entry i
 * is `pool[starts[i], starts[i + 1])`. Interning hashes the bytes (FNV-1a) into an open-addressing
 * table, so a repeated value costs a hash and a compare and no allocation. The entries become
 * the Parquet dictionary page when that pays (see `column-chunk.ts`), and min/max statistics are
 * taken over them instead of over every row.
 */
export class StringDictionary {
  pool = new Uint8Array(4096);
  starts = new Int32Array(257);
  private hashes = new Int32Array(256);
  private table = new Int32Array(512); // entry id + 1; 0 is empty
  private texts: (string | undefined)[] = [];
  /** Where `encode` puts a string's bytes. */
  scratch = new Uint8Array(256);
  count = 0;

  /** Bytes of all entries. */
  get bytes(): number {
    return this.starts[this.count];
  }

  intern(src: Uint8Array, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ src[i], FNV_PRIME);
    return this.internHashed(src, start, end, h);
  }

  /** `intern` with the bytes' FNV-1a hash already taken. */
  internHashed(src: Uint8Array, start: number, end: number, h: number): number {
    const mask = this.table.length - 1;
    const len = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot];
      if (e === 0) return this.add(src, start, end, h, slot);
      const id = e - 1;
      if (this.hashes[id] !== h) continue;
      const s = this.starts[id];
      if (this.starts[id + 1] - s !== len) continue;
      let same = true;
      for (let k = 0; k < len; k++) {
        if (this.pool[s + k] !== src[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
  }

  /**
   * Writes a JS string's UTF-8 bytes to `scratch` and returns their length. ASCII is copied by
   * char code; anything else goes through TextEncoder, which writes a lone surrogate as U+FFFD, as
   * hyparquet-writer's encoding of strings does.
   */
  encode(s: string): number {
    const n = s.length;
    if (this.scratch.length < n * 3) this.scratch = new Uint8Array(n * 3 + 16);
    const buf = this.scratch;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[i] = c;
    }
    return i === n ? n : encoder.encodeInto(s, buf).written;
  }

  /** Adds the bytes as an entry of their own, without looking for an equal one (a column that stopped interning). */
  push(src: Uint8Array, start: number, end: number): number {
    return this.add(src, start, end, 0, -1);
  }

  /** Entry `id` as a JS string (decoded once, then kept). */
  text(id: number): string {
    return (this.texts[id] ??= utf8.decode(this.pool.subarray(this.starts[id], this.starts[id + 1])));
  }

  private add(src: Uint8Array, start: number, end: number, h: number, slot: number): number {
    const id = this.count++;
    const at = this.starts[id];
    const len = end - start;
    if (at + len > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, at + len));
      pool.set(this.pool.subarray(0, at));
      this.pool = pool;
    }
    if (len < 32) for (let k = 0; k < len; k++) this.pool[at + k] = src[start + k];
    else this.pool.set(src.subarray(start, end), at);
    if (id + 1 >= this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const starts = new Int32Array(hashes.length + 1);
      starts.set(this.starts);
      this.starts = starts;
    }
    this.hashes[id] = h;
    this.starts[id + 1] = at + len;
    if (slot < 0) return id; // not in the table: pushed, not interned
    this.table[slot] = id + 1;
    if (this.count * 2 > this.table.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
  }
}
