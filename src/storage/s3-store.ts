import { AwsClient } from "aws4fetch";
import { FloeError } from "../errors.js";
import { bareEtag, bodyBytes, bodySize, copySourceGone, equalParts, type Body, type ListResult, type ObjectInfo, type ObjectStore, type PutOptions } from "./object-store.js";

const MiB = 1024 * 1024;

/** Where and how an S3Store talks to an S3-compatible API (R2's, or the one `wrangler dev` serves). */
export interface S3StoreOptions {
  /** API root without the bucket, e.g. `https://<account>.r2.cloudflarestorage.com` or `http://127.0.0.1:8787/cdn-cgi/local/r2/s3`. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bodies larger than this go up as a multipart upload (default 16 MiB). */
  multipartThreshold?: number;
  /** Size of every part but the last (default 8 MiB; R2 wants ≥ 5 MiB and equal sizes). */
  partSize?: number;
  /** Tries per request on network failures, 5xx and 429 (default 3). */
  attempts?: number;
}

/**
 * The object-store port over the S3 API, signed with aws4fetch (SigV4, service `s3`, region `auto`),
 * path-style: `${endpoint}/${bucket}/${key}`. Runs wherever `fetch` and `crypto.subtle` exist (workerd, Node).
 * Create-only puts send `If-None-Match: *`; large bodies go up in equal parts (multipart upload).
 *
 * @example
 * const store = new S3Store({ endpoint: env.S3_ENDPOINT, bucket: "floe-lake", accessKeyId, secretAccessKey });
 * await store.put("warehouse/db/t/metadata/00001-x.metadata.json", json, { ifNoneMatch: "*" });
 */
export class S3Store implements ObjectStore {
  private readonly aws: AwsClient;
  private readonly base: string;
  /** `/{bucket}`, as CopyObject's source names it. */
  private readonly bucketPath: string;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly attempts: number;

  constructor(opts: S3StoreOptions) {
    // aws4fetch's own retry loop is off: ours knows which failures leave a create-only write ambiguous.
    this.aws = new AwsClient({ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, service: "s3", region: "auto", retries: 0 });
    this.bucketPath = `/${encodeURIComponent(opts.bucket)}`;
    this.base = `${opts.endpoint.replace(/\/+$/, "")}${this.bucketPath}`;
    this.threshold = opts.multipartThreshold ?? 16 * MiB;
    this.partSize = opts.partSize ?? 8 * MiB;
    this.attempts = Math.max(1, opts.attempts ?? 3);
    if (this.partSize < 5 * MiB) throw new FloeError("internal", `s3 store: partSize ${this.partSize} is below R2's 5 MiB minimum part size`);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const res = await this.fetchObject(key);
    return res ? new Uint8Array(await res.arrayBuffer()) : null;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    if (end <= start) return (await this.head(key)) ? new Uint8Array(0) : null;
    const { res } = await this.request("GET", key, this.url(key), { method: "GET", headers: { range: `bytes=${start}-${end - 1}` } });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw await failure("GET", key, res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // A server that ignores Range answers 200 with the whole object.
    return res.status === 206 ? bytes : bytes.slice(start, end);
  }

  async getStream(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null> {
    const res = await this.fetchObject(key);
    if (!res) return null;
    // A proxy that compresses the response (wrangler dev does for text types) drops Content-Length.
    const length = res.headers.get("content-length");
    const size = length !== null ? Number(length) : (await this.head(key))?.size ?? 0;
    return { body: res.body ?? new Blob([]).stream(), size };
  }

  async put(key: string, body: Body, opts: PutOptions = {}): Promise<ObjectInfo> {
    const size = bodySize(body);
    if (size > this.threshold) {
      const chunks = typeof body === "string" ? [new TextEncoder().encode(body)] : body instanceof Uint8Array ? [body] : body;
      const partSize = Math.max(this.partSize, Math.ceil(size / 10_000)); // S3 allows at most 10,000 parts
      const slices = async function* () {
        for (let at = 0; at < size; at += partSize) yield sliceChunks(chunks, at, Math.min(size, at + partSize));
      };
      return this.putMultipart(key, slices(), opts);
    }
    const bytes = bodyBytes(body);
    const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/octet-stream" };
    if (opts.ifNoneMatch) headers["if-none-match"] = "*";
    // 409 ConditionalRequestConflict: a concurrent write to the key was in flight, ours did not land; S3
    // says retry, and the retry answers 412 if the other writer created it.
    const { res, retried } = await this.request("PUT", key, this.url(key), { method: "PUT", headers, body: bytes }, !!opts.ifNoneMatch);
    if (res.status === 412 && opts.ifNoneMatch) {
      await res.body?.cancel();
      // After a failure we cannot see through (5xx, lost connection) the 412 may be our own first attempt.
      if (retried && sameBytes(await this.get(key), bytes)) return { key, size, etag: (await this.head(key))?.etag ?? "" };
      throw alreadyExists(key);
    }
    if (!res.ok) throw await failure("PUT", key, res);
    await res.body?.cancel();
    return { key, size, etag: res.headers.get("etag") ?? "" };
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ListResult> {
    const q = new URLSearchParams({ "list-type": "2", prefix, "max-keys": String(Math.min(opts.limit ?? 1000, 1000)) });
    if (opts.cursor) q.set("continuation-token", opts.cursor);
    const { res } = await this.request("LIST", prefix, `${this.base}?${q}`, { method: "GET" });
    if (!res.ok) throw await failure("LIST", prefix, res);
    const xml = await res.text();
    const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, c]) => ({
      key: xmlText(c, "Key") ?? "",
      size: Number(xmlText(c, "Size") ?? 0),
      etag: xmlText(c, "ETag") ?? "",
      lastModified: Date.parse(xmlText(c, "LastModified") ?? "") || undefined,
    }));
    const next = xmlText(xml, "IsTruncated") === "true" ? xmlText(xml, "NextContinuationToken") : undefined;
    return next ? { objects, cursor: next } : { objects };
  }

  async delete(keys: string | readonly string[]): Promise<void> {
    const all = typeof keys === "string" ? [keys] : [...keys];
    // DeleteObjects takes up to 1,000 keys a request: one subrequest where per-key DELETEs would spend
    // many of a Worker's limited subrequests. S3 requires Content-MD5 on it; R2's docs do not say, so send it.
    for (let i = 0; i < all.length; i += 1000) {
      const batch = all.slice(i, i + 1000);
      const xml = `<Delete><Quiet>true</Quiet>${batch.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join("")}</Delete>`;
      const body = new TextEncoder().encode(xml);
      const headers = { "content-type": "application/xml", "content-md5": btoa(String.fromCharCode(...md5(body))) };
      const label = `${batch.length} keys from ${batch[0]}`;
      const { res } = await this.request("DELETE", label, `${this.base}?delete`, { method: "POST", headers, body });
      if (!res.ok) throw await failure("DELETE", label, res);
      const errors = [...(await res.text()).matchAll(/<Error>([\s\S]*?)<\/Error>/g)].map(([, e]) => `${xmlText(e, "Key")}: ${xmlText(e, "Code")}`);
      if (errors.length) throw new FloeError("storage_unavailable", `s3 DELETE refused ${errors.length} keys: ${errors.slice(0, 3).join(", ")}`, { retryable: true });
    }
  }

  /** CopyObject: the bytes stay in the bucket (up to 5 GB, S3's and R2's single-copy limit). */
  async copy(from: string, to: string, opts: { ifMatch?: string } = {}): Promise<ObjectInfo> {
    const source = `${this.bucketPath}${this.url(from).slice(this.base.length)}`;
    const headers: Record<string, string> = { "x-amz-copy-source": source };
    if (opts.ifMatch !== undefined) headers["x-amz-copy-source-if-match"] = `"${bareEtag(opts.ifMatch)}"`;
    const { res } = await this.request("COPY", `${from} → ${to}`, this.url(to), { method: "PUT", headers });
    if (res.status === 404 || res.status === 412) {
      const text = await res.text();
      if (text.includes("NoSuchBucket")) throw describe("COPY", from, res.status, text);
      throw copySourceGone(from, opts.ifMatch);
    }
    if (!res.ok) throw await failure("COPY", `${from} → ${to}`, res);
    // CopyObject can fail after its 200 (the error is in the body): S3's documented quirk.
    const xml = await res.text();
    if (xmlText(xml, "Code")) throw describe("COPY", `${from} → ${to}`, 500, xml);
    const etag = xmlText(xml, "ETag")?.replace(/&quot;/g, '"') ?? "";
    return { key: to, size: (await this.head(to))?.size ?? 0, etag };
  }

  /** Size and ETag of an object, or null when there is none (HEAD has no body, so a missing bucket reads as missing). */
  async head(key: string): Promise<ObjectInfo | null> {
    const { res } = await this.request("HEAD", key, this.url(key), { method: "HEAD" });
    if (res.status === 404) return null;
    if (!res.ok) throw await failure("HEAD", key, res);
    return { key, size: Number(res.headers.get("content-length") ?? 0), etag: res.headers.get("etag") ?? "" };
  }

  private async fetchObject(key: string): Promise<Response | null> {
    const { res } = await this.request("GET", key, this.url(key), { method: "GET" });
    if (res.ok) return res;
    if (res.status === 404) {
      const text = await res.text();
      if (!text.includes("NoSuchBucket")) return null;
      throw describe("GET", key, res.status, text);
    }
    throw await failure("GET", key, res);
  }

  /**
   * Writes an object from a stream of chunks without holding it: chunks are gathered into parts of
   * `partSize` and each goes up as soon as it is full (at most two in flight), so memory stays about
   * two parts whatever the object's size. A stream that ends under the multipart threshold is one PUT.
   */
  async putStream(key: string, chunks: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<ObjectInfo> {
    const it = equalParts(chunks, this.partSize)[Symbol.asyncIterator]();
    const first: Uint8Array[] = [];
    let held = 0;
    // Look ahead until the stream ends or passes the threshold.
    for (;;) {
      const r = await it.next();
      if (r.done) return this.put(key, first, opts);
      first.push(r.value);
      held += r.value.byteLength;
      if (held > this.threshold) break;
    }
    async function* parts() {
      yield* first.splice(0);
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    }
    return this.putMultipart(key, parts(), opts);
  }

  /** CreateMultipartUpload, UploadPart × n (equal parts, the last one shorter), CompleteMultipartUpload; aborts on failure. */
  private async putMultipart(key: string, parts: AsyncIterable<Uint8Array>, opts: PutOptions): Promise<ObjectInfo> {
    const url = this.url(key);
    // R2 evaluates If-None-Match on CompleteMultipartUpload, but local R2 (wrangler dev) ignores it there.
    // So also look before uploading (fail fast) and again just before completing. Locally a writer landing
    // between that last look and the completion is overwritten; in production the header closes the gap.
    if (opts.ifNoneMatch && (await this.head(key))) throw alreadyExists(key);
    const contentType = opts.contentType ?? "application/octet-stream";
    const { res: created } = await this.request("POST", key, `${url}?uploads`, { method: "POST", headers: { "content-type": contentType } });
    if (!created.ok) throw await failure("CreateMultipartUpload", key, created);
    const uploadId = xmlText(await created.text(), "UploadId");
    if (!uploadId) throw new FloeError("storage_unavailable", `s3 CreateMultipartUpload ${key}: no UploadId in the answer`, { retryable: true });
    const upload = `uploadId=${encodeURIComponent(uploadId)}`;
    try {
      const source = parts[Symbol.asyncIterator]();
      const etags: string[] = [];
      let next = 0;
      let size = 0;
      let failed = false; // once one part fails, the other workers stop taking parts
      // A few parts in flight: faster than one at a time, and R2 limits concurrent part uploads per upload.
      const worker = async () => {
        try {
          while (!failed) {
            const r = await source.next();
            if (r.done) return;
            const n = next++;
            size += r.value.byteLength;
            const { res } = await this.request("PUT", `${key} part ${n + 1}`, `${url}?partNumber=${n + 1}&${upload}`, { method: "PUT", body: r.value });
            if (!res.ok) throw await failure("UploadPart", `${key} part ${n + 1}`, res);
            await res.body?.cancel();
            etags[n] = res.headers.get("etag") ?? "";
          }
        } catch (e) {
          failed = true;
          throw e;
        }
      };
      await Promise.all([worker(), worker()]);
      if (opts.ifNoneMatch && (await this.head(key))) throw alreadyExists(key);
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(e)}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
      const headers: Record<string, string> = { "content-type": "application/xml" };
      if (opts.ifNoneMatch) headers["if-none-match"] = "*";
      const { res, retried } = await this.request("POST", key, `${url}?${upload}`, { method: "POST", headers, body: xml });
      const text = await res.text();
      if (res.status === 412) throw alreadyExists(key);
      // 409: a concurrent write raced ours; ours did not land. If the key exists now, it was created first.
      if (res.status === 409 && opts.ifNoneMatch) {
        if (await this.head(key)) throw alreadyExists(key);
        throw new FloeError("storage_unavailable", `s3 CompleteMultipartUpload ${key}: 409 concurrent write, try again`, { retryable: true });
      }
      // A retried completion that finds no upload: the first attempt completed it.
      if (res.status === 404 && retried && text.includes("NoSuchUpload")) {
        const info = await this.head(key);
        if (info?.size === size) return info;
      }
      // S3 may answer 200 and put the error in the body when completion fails late.
      if (!res.ok || text.includes("<Error>")) throw describe("CompleteMultipartUpload", key, res.status, text);
      return { key, size, etag: xmlText(text, "ETag") ?? "" };
    } catch (e) {
      // Best effort: parts left behind cost storage until R2's 7-day cleanup of stale uploads.
      await this.request("DELETE", key, `${url}?${upload}`, { method: "DELETE" }).then(({ res }) => res.body?.cancel(), () => undefined);
      throw e;
    }
  }

  private url(key: string): string {
    const segments = key.split("/");
    // fetch's URL parser resolves "." and ".." segments (encoded or not), so such keys cannot be addressed path-style.
    if (segments.some((s) => s === "." || s === "..")) throw new FloeError("invalid_input", `s3 key ${JSON.stringify(key)} has a "." or ".." segment`);
    // RFC 3986 encoding, which SigV4 canonicalises to: encodeURIComponent leaves !'()* as they are.
    return `${this.base}/${segments.map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join("/")}`;
  }

  /**
   * Signs and sends a request, trying again on network failures, 5xx and 429 (and 409 when `conflictRetries`).
   * `retried` tells whether an earlier try failed in a way that may have reached the bucket anyway.
   */
  private async request(op: string, key: string, url: string, init: RequestInit, conflictRetries = false): Promise<{ res: Response; retried: boolean }> {
    let retried = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.aws.fetch(url, init);
      } catch (cause) {
        if (attempt >= this.attempts) {
          throw new FloeError("storage_unavailable", `s3 ${op} ${key}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, retryable: true });
        }
        retried = true;
        await backoff(attempt);
        continue;
      }
      const transient = res.status >= 500 || res.status === 429;
      if (attempt >= this.attempts || !(transient || (conflictRetries && res.status === 409))) return { res, retried };
      await res.body?.cancel();
      retried ||= transient;
      await backoff(attempt);
    }
  }
}

function alreadyExists(key: string): FloeError {
  return new FloeError("already_exists", `object ${key} already exists`, { details: { key } });
}

async function failure(op: string, key: string, res: Response): Promise<FloeError> {
  return describe(op, key, res.status, await res.text().catch(() => ""));
}

/** The FloeError for an S3 error answer: `s3 PUT key: 503 SlowDown: Please reduce your request rate.` */
function describe(op: string, key: string, status: number, text: string): FloeError {
  const code = xmlText(text, "Code") ?? "";
  const what = `s3 ${op} ${key}: ${status}${code ? ` ${code}` : ""}${xmlText(text, "Message") ? `: ${xmlText(text, "Message")}` : ""}`;
  // ConditionalRequestConflict (409): a concurrent write to the key won the race of the moment; trying again is the cure.
  if (status >= 500 || status === 429 || code === "ConditionalRequestConflict") {
    return new FloeError("storage_unavailable", what, { retryable: true, details: { status, code } });
  }
  if (status === 401 || status === 403) {
    return new FloeError("internal", `s3 credentials refused (check the access key id and secret): ${what}`, { retryable: false, details: { status, code } });
  }
  return new FloeError("internal", what, { retryable: false, details: { status, code } });
}

function backoff(attempt: number): Promise<void> {
  return new Promise((done) => setTimeout(done, 100 * 2 ** (attempt - 1) * (0.5 + Math.random())));
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** Bytes [start, end) of a body given as chunks: a view when one chunk holds them, a copy otherwise. */
function sliceChunks(chunks: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let at = 0;
  for (const c of chunks) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, c.byteLength);
    if (from < to) {
      if (to - from === out.byteLength) return c.subarray(from, to);
      out.set(c.subarray(from, to), at + from - start);
    }
    at += c.byteLength;
    if (at >= end) break;
  }
  return out;
}

/** The decoded text of the first `<tag>` in an XML fragment (S3 answers are flat enough for this). */
function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? xmlUnescape(m[1]) : undefined;
}

function xmlUnescape(s: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (all, e: string) =>
    e[0] !== "#" ? (named[e.toLowerCase()] ?? all) : String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

// Named entities only: Miniflare's XML parser leaves numeric references (&#34;) undecoded.
const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

// MD5 (RFC 1321) for DeleteObjects' Content-MD5: crypto.subtle has no MD5 in Node, only in workerd.
const MD5_K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

function md5(data: Uint8Array): Uint8Array {
  const words = new Int32Array((((data.length + 8) >>> 6) + 1) * 16);
  for (let i = 0; i < data.length; i++) words[i >> 2] |= data[i] << ((i % 4) * 8);
  words[data.length >> 2] |= 0x80 << ((data.length % 4) * 8);
  words[words.length - 2] = data.length * 8;
  words[words.length - 1] = Math.floor(data.length / 2 ** 29);
  const h = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476];
  for (let o = 0; o < words.length; o += 16) {
    let [a, b, c, d] = h;
    for (let i = 0; i < 64; i++) {
      const r = i >> 4;
      const f = r === 0 ? (b & c) | (~b & d) : r === 1 ? (d & b) | (~d & c) : r === 2 ? b ^ c ^ d : c ^ (b | ~d);
      const g = r === 0 ? i : r === 1 ? (5 * i + 1) % 16 : r === 2 ? (3 * i + 5) % 16 : (7 * i) % 16;
      const s = MD5_S[r * 4 + (i % 4)];
      const t = (a + f + MD5_K[i] + words[o + g]) | 0;
      [a, d, c] = [d, c, b];
      b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
  }
  const out = new DataView(new ArrayBuffer(16));
  h.forEach((v, i) => out.setInt32(i * 4, v, true));
  return new Uint8Array(out.buffer);
}
