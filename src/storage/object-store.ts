import { FloeError } from "../errors.js";
/**
 * The one storage port of Floe (STYLE.md 3): the core writes tables through it and never sees
 * S3, R2 or memory. Implementations: `MemoryStore` (tests, pure core), and at the edge an S3 store
 * (aws4fetch) and an R2-binding store; all pass the same contract suite.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  /** When the object was written (ms since the epoch); listings give it, orphan removal needs it. */
  lastModified?: number;
}

export type Body = Uint8Array | readonly Uint8Array[] | string;

export interface PutOptions {
  /** `"*"`: create only. If the key exists the put fails with FloeError `already_exists` (S3 `If-None-Match: *` → 412). */
  ifNoneMatch?: "*";
  contentType?: string;
}

export interface ListResult {
  objects: ObjectInfo[];
  /** Present when more keys follow: pass it back to continue. */
  cursor?: string;
}

export interface ObjectStore {
  /** The object's bytes, or null if there is no such key. */
  get(key: string): Promise<Uint8Array | null>;
  /** The object as a byte stream (for objects too large to hold), or null if there is no such key. */
  getStream(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  /** Bytes [start, end) of the object, or null if there is no such key. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array | null>;
  /** Writes the object whole; with `ifNoneMatch: "*"` never overwrites. */
  put(key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo>;
  /**
   * Writes an object from a stream of chunks without holding it whole (a multipart upload for large
   * ones), so memory stays bounded by a part or two however large the object is.
   */
  putStream(key: string, chunks: AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<ObjectInfo>;
  /** Keys under `prefix` in lexicographic order, a page at a time. */
  list(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ListResult>;
  /** Removes keys; absent keys are not an error. */
  delete(keys: string | readonly string[]): Promise<void>;
  /**
   * Copies `from` to `to` inside the store, without the bytes passing through the caller (S3
   * CopyObject). With `ifMatch` (an ETag, quoted or bare) only that version of `from` is copied.
   * FloeError `not_found` when `from` is absent or is no longer that version.
   */
  copy(from: string, to: string, opts?: { ifMatch?: string }): Promise<ObjectInfo>;
}

/** An ETag without its quotes: `"abc"` → `abc` (R2 notifications carry it bare, S3 headers quoted). */
export function bareEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** The FloeError of a copy whose source is gone or changed. */
export function copySourceGone(from: string, ifMatch?: string): FloeError {
  return new FloeError("not_found", `object ${from} is gone${ifMatch ? ` or is no longer version ${bareEtag(ifMatch)}` : ""}`, { details: { key: from } });
}

/** Total byte length of a body. */
export function bodySize(body: Body): number {
  if (typeof body === "string") return new TextEncoder().encode(body).byteLength;
  if (body instanceof Uint8Array) return body.byteLength;
  let n = 0;
  for (const c of body) n += c.byteLength;
  return n;
}

/** A body as one contiguous byte array (copies only when it comes in parts). */
export function bodyBytes(body: Body): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  const out = new Uint8Array(bodySize(body));
  let at = 0;
  for (const c of body) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Every object under a prefix, following cursors. */
export async function listAll(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, { cursor });
    out.push(...page.objects);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** Re-cuts a stream of chunks into parts of exactly `size` bytes (the last one shorter): R2 wants equal parts. */
export async function* equalParts(chunks: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let part = new Uint8Array(size);
  let at = 0;
  for await (const chunk of chunks) {
    let from = 0;
    while (from < chunk.byteLength) {
      const n = Math.min(size - at, chunk.byteLength - from);
      part.set(chunk.subarray(from, from + n), at);
      at += n;
      from += n;
      if (at === size) {
        yield part;
        part = new Uint8Array(size);
        at = 0;
      }
    }
  }
  if (at > 0) yield part.subarray(0, at);
}

