import { FloeError } from "../errors.js";
import { bareEtag, bodyBytes, copySourceGone, type Body, type ListResult, type ObjectInfo, type ObjectStore, type PutOptions } from "./object-store.js";

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
