import { FloeError } from "../errors.js";
import { bareEtag, bodyBytes, copySourceGone, equalParts, type Body, type ListResult, type ObjectInfo, type ObjectStore, type PutOptions } from "./object-store.js";

/**
 * The object-store port over an R2 bucket binding (Workers runtime only). No signing and no
 * multipart: the binding streams and sizes bodies itself. Create-only puts use `onlyIf:
 * { etagDoesNotMatch: "*" }` ("no object, whatever its ETag"), for which R2 answers null instead of
 * writing when the key exists.
 *
 * @example
 * const store = new R2Store(env.LAKE);
 * await store.put("staging/batch-1.ndjson", body, { ifNoneMatch: "*" });
 */
export class R2Store implements ObjectStore {
  constructor(private readonly bucket: R2Bucket) {}

  async get(key: string): Promise<Uint8Array | null> {
    const o = await this.call("GET", key, () => this.bucket.get(key));
    return o ? new Uint8Array(await o.arrayBuffer()) : null;
  }

  async getStream(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null> {
    const o = await this.call("GET", key, () => this.bucket.get(key));
    return o ? { body: o.body, size: o.size } : null;
  }

  async put(key: string, body: Body, opts: PutOptions = {}): Promise<ObjectInfo> {
    // Parts are joined here: a stream would need a known length (FixedLengthStream) to be accepted.
    const value = typeof body === "string" ? body : bodyBytes(body);
    const httpMetadata = opts.contentType ? { contentType: opts.contentType } : undefined;
    const o = opts.ifNoneMatch
      ? await this.call("PUT", key, () => this.bucket.put(key, value, { httpMetadata, onlyIf: { etagDoesNotMatch: "*" } }))
      : await this.call("PUT", key, () => this.bucket.put(key, value, { httpMetadata }));
    if (o === null) throw new FloeError("already_exists", `object ${key} already exists`, { details: { key } });
    return { key, size: o.size, etag: o.httpEtag };
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    if (end <= start) return (await this.call("HEAD", key, () => this.bucket.head(key))) ? new Uint8Array(0) : null;
    const o = await this.call("GET", key, () => this.bucket.get(key, { range: { offset: start, length: end - start } }));
    return o ? new Uint8Array(await o.arrayBuffer()) : null;
  }

  /**
   * A stream of one part or less is one put; a longer one a multipart upload of equal 8 MiB parts
   * (R2 wants them equal), one part held at a time. Create-only is checked before the upload and
   * again before completing it.
   */
  async putStream(key: string, chunks: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<ObjectInfo> {
    const it = equalParts(chunks, 8 * 1024 * 1024)[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) return this.put(key, new Uint8Array(0), opts);
    let next = await it.next();
    if (next.done) return this.put(key, first.value, opts);
    const exists = async () => {
      if (opts.ifNoneMatch && (await this.call("HEAD", key, () => this.bucket.head(key)))) throw new FloeError("already_exists", `object ${key} already exists`, { details: { key } });
    };
    await exists();
    const httpMetadata = opts.contentType ? { contentType: opts.contentType } : undefined;
    const upload = await this.call("PUT", key, () => this.bucket.createMultipartUpload(key, { httpMetadata }));
    try {
      const parts: R2UploadedPart[] = [];
      let size = 0;
      const send = async (part: Uint8Array) => {
        size += part.byteLength;
        parts.push(await this.call("PUT", `${key} part ${parts.length + 1}`, () => upload.uploadPart(parts.length + 1, part)));
      };
      await send(first.value);
      for (; !next.done; next = await it.next()) await send(next.value);
      await exists();
      const o = await this.call("PUT", key, () => upload.complete(parts));
      return { key, size, etag: o.httpEtag };
    } catch (e) {
      await upload.abort().catch(() => undefined);
      throw e;
    }
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ListResult> {
    const page = await this.call("LIST", prefix, () => this.bucket.list({ prefix, cursor: opts.cursor, limit: Math.min(opts.limit ?? 1000, 1000) }));
    const objects = page.objects.map((o) => ({ key: o.key, size: o.size, etag: o.httpEtag, lastModified: o.uploaded.getTime() }));
    return page.truncated ? { objects, cursor: page.cursor } : { objects };
  }

  async delete(keys: string | readonly string[]): Promise<void> {
    const all = typeof keys === "string" ? [keys] : [...keys];
    // The binding deletes at most 1,000 keys a call.
    for (let i = 0; i < all.length; i += 1000) {
      const batch = all.slice(i, i + 1000);
      await this.call("DELETE", `${batch.length} keys from ${batch[0]}`, () => this.bucket.delete(batch));
    }
  }

  async copy(from: string, to: string, opts: { ifMatch?: string } = {}): Promise<ObjectInfo> {
    // The binding has no server-side copy: the object streams through (an R2 body has a known
    // length, so put takes it as it is, without buffering).
    const onlyIf = opts.ifMatch !== undefined ? { etagMatches: bareEtag(opts.ifMatch) } : undefined;
    const o = await this.call("GET", from, () => this.bucket.get(from, onlyIf ? { onlyIf } : undefined));
    if (!o || !("body" in o)) throw copySourceGone(from, opts.ifMatch);
    const put = await this.call("PUT", to, () => this.bucket.put(to, o.body, { httpMetadata: o.httpMetadata }));
    return { key: to, size: put.size, etag: put.httpEtag };
  }

  /** Runs a binding call; what it throws (R2's "…(10001)" internal errors, timeouts) becomes a retryable FloeError. */
  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new FloeError("storage_unavailable", `r2 ${op} ${key}: ${message}`, { cause, retryable: true });
    }
  }
}
