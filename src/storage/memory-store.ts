import { FloeError } from "../errors.js";
import { bareEtag, bodyBytes, copySourceGone, type Body, type ListResult, type ObjectInfo, type ObjectStore, type PutOptions } from "./object-store.js";

/**
 * An object store in memory, with the semantics the edge stores have: create-only puts, sorted
 * paged listing, idempotent deletes. Stored bytes are copied in and out so callers cannot mutate them.
 */
export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<string, { bytes: Uint8Array; etag: string; at: number }>();
  /** The clock that stamps writes (tests move it to age objects). */
  now: () => number = Date.now;
  private version = 0;

  async get(key: string): Promise<Uint8Array | null> {
    const o = this.objects.get(key);
    return o ? o.bytes.slice() : null;
  }

  async getStream(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null> {
    const bytes = await this.get(key);
    return bytes ? { body: new Blob([bytes]).stream(), size: bytes.byteLength } : null;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    const o = this.objects.get(key);
    return o ? o.bytes.slice(start, end) : null;
  }

  async putStream(key: string, chunks: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<ObjectInfo> {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c.slice());
    return this.put(key, parts, opts);
  }

  async put(key: string, body: Body, opts: PutOptions = {}): Promise<ObjectInfo> {
    if (opts.ifNoneMatch === "*" && this.objects.has(key)) {
      throw new FloeError("already_exists", `object ${key} already exists`, { details: { key } });
    }
    const bytes = bodyBytes(body).slice();
    const etag = `"m${++this.version}"`;
    this.objects.set(key, { bytes, etag, at: this.now() });
    return { key, size: bytes.byteLength, etag };
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ListResult> {
    const limit = opts.limit ?? 1000;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (opts.cursor === undefined || k > opts.cursor)).sort();
    const page = keys.slice(0, limit);
    const objects = page.map((key) => {
      const o = this.objects.get(key)!;
      return { key, size: o.bytes.byteLength, etag: o.etag, lastModified: o.at };
    });
    return keys.length > limit ? { objects, cursor: page[page.length - 1] } : { objects };
  }

  async delete(keys: string | readonly string[]): Promise<void> {
    for (const k of typeof keys === "string" ? [keys] : keys) this.objects.delete(k);
  }

  async copy(from: string, to: string, opts: { ifMatch?: string } = {}): Promise<ObjectInfo> {
    const o = this.objects.get(from);
    if (!o || (opts.ifMatch !== undefined && bareEtag(o.etag) !== bareEtag(opts.ifMatch))) throw copySourceGone(from, opts.ifMatch);
    return this.put(to, o.bytes);
  }

  /** Number of objects held (tests). */
  get size(): number {
    return this.objects.size;
  }
}
