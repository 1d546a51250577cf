import type { MemoryStore } from "../../src/storage/memory-store.js";

/**
 * Points readers that fetch `s3://` paths (icebird rewrites them to `https://{bucket}.s3.amazonaws.com/{key}`)
 * at a MemoryStore: GET (with Range) and HEAD are answered from the store, nothing leaves the process.
 * Returns a function that restores the real fetch.
 */
export function serveStoreOverFetch(store: MemoryStore, bucket: string): () => void {
  const real = globalThis.fetch;
  const prefix = `https://${bucket}.s3.amazonaws.com/`;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(prefix)) throw new Error(`test fetch: unexpected URL ${url}`);
    const key = decodeURIComponent(url.slice(prefix.length).split("?")[0]);
    const bytes = await store.get(key);
    if (!bytes) return new Response("not found", { status: 404 });
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    if (method === "HEAD") return new Response(null, { status: 200, headers: { "content-length": String(bytes.byteLength) } });
    const range = new Headers(init?.headers).get("range");
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range)!;
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) + 1 : bytes.byteLength;
      return new Response(bytes.slice(start, end), { status: 206 });
    }
    return new Response(bytes, { status: 200 });
  }) as typeof fetch;
  return () => {
    globalThis.fetch = real;
  };
}
