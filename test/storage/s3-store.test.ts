import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FloeError, isFloeError } from "../../src/errors.js";
import { S3Store, type S3StoreOptions } from "../../src/storage/s3-store.js";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.js";
import { expectSameBytes, storeContract } from "./contract.js";

// Against the S3 API a real `wrangler dev` serves for the lake bucket (credentials from wrangler.toml's
// local_dev), because the Vitest workerd pool does not serve it (TOOLCHAIN.md).
const MiB = 1024 * 1024;
let dev: WranglerDev | undefined;

beforeAll(async () => {
  dev = await startWranglerDev();
}, 120_000);

afterAll(async () => {
  await dev?.stop();
});

function options(extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  if (!dev) throw new Error("wrangler dev did not start");
  return { endpoint: dev.s3Endpoint, bucket: "floe-lake", accessKeyId: "floe-dev-access-key", secretAccessKey: "floe-dev-secret-key", ...extra };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

storeContract("S3Store (wrangler dev S3 API)", () => new S3Store(options()));

describe("S3Store: multipart", () => {
  // Bytes that differ part to part, so a swapped or repeated part cannot go unnoticed.
  const body = new Uint8Array(12 * MiB);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >>> 20) * 13) & 255;

  it("uploads a 12 MiB body in 5 MiB parts and reads it back whole", async () => {
    const store = new S3Store(options({ multipartThreshold: 6 * MiB, partSize: 5 * MiB }));
    // Given as chunks that straddle part boundaries, so parts are cut across chunks.
    const chunks = [body.subarray(0, 3 * MiB + 1), body.subarray(3 * MiB + 1, 9 * MiB), body.subarray(9 * MiB)];
    const info = await store.put("multipart/12mib.bin", chunks);
    expect(info.size).toBe(12 * MiB);
    // S3 names a multipart object's ETag after its part count: 5 + 5 + 2 MiB.
    expect(info.etag).toMatch(/-3"?$/);
    expectSameBytes(await store.get("multipart/12mib.bin"), body);
    const stream = await store.getStream("multipart/12mib.bin");
    expect(stream?.size).toBe(12 * MiB);
    expectSameBytes(new Uint8Array(await new Response(stream!.body).arrayBuffer()), body);
  });

  it("refuses a create-only multipart put on an existing key and keeps the original", async () => {
    const store = new S3Store(options({ multipartThreshold: 6 * MiB, partSize: 5 * MiB }));
    await store.put("multipart/taken.bin", "original");
    const err = await failure(store.put("multipart/taken.bin", body, { ifNoneMatch: "*" }));
    expect(isFloeError(err, "already_exists")).toBe(true);
    expect(new TextDecoder().decode((await store.get("multipart/taken.bin"))!)).toBe("original");
  });

  it("creates with a create-only multipart put when the key is free", async () => {
    const store = new S3Store(options({ multipartThreshold: 6 * MiB, partSize: 5 * MiB }));
    expect((await store.put("multipart/fresh.bin", body.subarray(0, 7 * MiB), { ifNoneMatch: "*" })).size).toBe(7 * MiB);
    expect((await store.head("multipart/fresh.bin"))?.size).toBe(7 * MiB);
  });

  for (const race of ["appears before completion", "is refused at completion (412)"]) {
    it(`aborts the upload and answers already_exists when the key ${race}`, async () => {
      let heads = 0;
      const s = await stub((req) => {
        if (req.method === "HEAD") return { status: race.startsWith("appears") && heads++ > 0 ? 200 : 404 };
        if (req.url!.endsWith("?uploads")) return { status: 200, body: "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>" };
        if (req.method === "PUT") return { status: 200, etag: `"p${req.url!.match(/partNumber=(\d+)/)![1]}"` };
        if (req.method === "POST") return { status: 412, body: "<Error><Code>PreconditionFailed</Code></Error>" };
        return { status: 204 };
      });
      try {
        const store = new S3Store({ ...options({ multipartThreshold: 6 * MiB, partSize: 5 * MiB }), endpoint: s.endpoint });
        const err = await failure(store.put("k", body.subarray(0, 6 * MiB + 1), { ifNoneMatch: "*" }));
        expect(isFloeError(err, "already_exists")).toBe(true);
        const calls = s.requests.map((r) => `${r.method} ${r.url.replace(/^\/floe-lake\//, "")}${r.ifNoneMatch ? " if-none-match" : ""}`);
        const completion = race.startsWith("appears") ? [] : ["POST k?uploadId=u1 if-none-match"];
        // The two parts go up concurrently: their order is not fixed.
        calls.splice(2, 2, ...calls.slice(2, 4).sort());
        expect(calls).toEqual(["HEAD k", "POST k?uploads", "PUT k?partNumber=1&uploadId=u1", "PUT k?partNumber=2&uploadId=u1", "HEAD k", ...completion, "DELETE k?uploadId=u1"]);
      } finally {
        await s.close();
      }
    });
  }

  it("refuses a part size R2 would reject", () => {
    expect(() => new S3Store(options({ partSize: 4 * MiB }))).toThrow(/5 MiB/);
  });
});

describe("S3Store: errors", () => {
  it("says the credentials were refused when the secret is wrong, and does not retry", async () => {
    const err = await failure(new S3Store(options({ secretAccessKey: "not-the-secret" })).put("errors/k", "x"));
    expect(err).toBeInstanceOf(FloeError);
    expect(err).toMatchObject({ code: "internal", retryable: false });
    expect((err as Error).message).toMatch(/^s3 credentials refused .*s3 PUT errors\/k: 403 SignatureDoesNotMatch/);
  });

  it("says the credentials were refused for an unknown access key id", async () => {
    const err = await failure(new S3Store(options({ accessKeyId: "nobody" })).get("errors/k"));
    expect(err).toMatchObject({ code: "internal", retryable: false });
    expect((err as Error).message).toMatch(/credentials refused.*401/);
  });

  it("fails (not null) when the bucket does not exist", async () => {
    const err = await failure(new S3Store(options({ bucket: "no-such-bucket" })).get("k"));
    expect(err).toMatchObject({ code: "internal" });
    expect((err as Error).message).toMatch(/NoSuchBucket/);
  });

  it("refuses keys with dot segments, which a URL cannot carry", async () => {
    const err = await failure(new S3Store(options()).put("a/../b", "x"));
    expect(isFloeError(err, "invalid_input")).toBe(true);
  });

  it("turns a network failure into a retryable storage_unavailable", async () => {
    const closed = await stub(() => ({ status: 200 }));
    await closed.close();
    const err = await failure(new S3Store({ ...options(), endpoint: closed.endpoint, attempts: 2 }).get("k"));
    expect(err).toMatchObject({ code: "storage_unavailable", retryable: true });
    expect((err as Error).message).toMatch(/^s3 GET k: /);
  });

  it("retries 5xx, then reports the status and S3's message as retryable storage_unavailable", async () => {
    const s = await stub(() => ({ status: 503, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" }));
    try {
      const err = await failure(new S3Store({ ...options(), endpoint: s.endpoint, attempts: 3 }).put("dir/k", "x"));
      expect(err).toMatchObject({ code: "storage_unavailable", retryable: true });
      expect((err as Error).message).toBe("s3 PUT dir/k: 503 SlowDown: Please reduce your request rate.");
      expect(s.requests.map((r) => r.method)).toEqual(["PUT", "PUT", "PUT"]);
    } finally {
      await s.close();
    }
  });

  it("retries a create-only put answered 409 ConditionalRequestConflict", async () => {
    let n = 0;
    const s = await stub(() => (n++ === 0 ? { status: 409, body: "<Error><Code>ConditionalRequestConflict</Code></Error>" } : { status: 200, etag: '"e"' }));
    try {
      const info = await new S3Store({ ...options(), endpoint: s.endpoint }).put("k", "x", { ifNoneMatch: "*" });
      expect(info).toEqual({ key: "k", size: 1, etag: '"e"' });
      expect(s.requests.map((r) => `${r.method} ${r.ifNoneMatch}`)).toEqual(["PUT *", "PUT *"]);
    } finally {
      await s.close();
    }
  });

  it("counts a create-only put whose first try landed despite a 500 as created, not already_exists", async () => {
    // The bucket stored the first PUT but the answer was lost as a 500; the retry then meets its own object.
    let stored: Buffer | undefined;
    const s = await stub((req, body) => {
      if (req.method === "PUT" && !stored) return (stored = body), { status: 500 };
      if (req.method === "PUT") return { status: 412, body: "<Error><Code>PreconditionFailed</Code></Error>" };
      return stored ? { status: 200, body: req.method === "HEAD" ? undefined : stored, etag: '"mine"', length: stored.length } : { status: 404 };
    });
    try {
      const store = new S3Store({ ...options(), endpoint: s.endpoint });
      expect(await store.put("k", "mine", { ifNoneMatch: "*" })).toEqual({ key: "k", size: 4, etag: '"mine"' });
      // Someone else's bytes under the key stay a refusal.
      stored = Buffer.from("theirs");
      const err = await failure(new S3Store({ ...options(), endpoint: s.endpoint }).put("k", "mine", { ifNoneMatch: "*" }));
      expect(isFloeError(err, "already_exists")).toBe(true);
    } finally {
      await s.close();
    }
  });
});

interface StubAnswer {
  status: number;
  body?: string | Buffer;
  etag?: string;
  length?: number;
}

/** A tiny HTTP server standing in for S3, for failures a real bucket will not produce on demand. */
async function stub(answer: (req: IncomingMessage, body: Buffer) => StubAnswer) {
  const requests: { method: string; url: string; ifNoneMatch?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", ifNoneMatch: req.headers["if-none-match"] as string | undefined });
      const a = answer(req, Buffer.concat(parts));
      const headers: Record<string, string> = a.etag ? { etag: a.etag } : {};
      if (a.length !== undefined) headers["content-length"] = String(a.length);
      res.writeHead(a.status, headers).end(a.body);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
