import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { streamOf } from "../../src/decode/bytes.js";
import { gunzip } from "../../src/decode/gzip.js";
import { FloeError } from "../../src/errors.js";

/** A stream over `chunks` that counts how many compressed bytes its reader has taken. */
function counted(chunks: Uint8Array[]) {
  const seen = { bytes: 0 };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i >= chunks.length) return controller.close();
        seen.bytes += chunks[i].byteLength;
        controller.enqueue(chunks[i++]);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const whole = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());
const failure = async (s: ReadableStream<Uint8Array>) => {
  const e = await whole(s).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FloeError);
  return e as FloeError;
};

/** Text that compresses like real NDJSON (about 8:1). */
const ndjson = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, name: `user-${i % 977}`, score: (i * 7919) % 1000 })).join("\n") + "\n");

describe("gunzip", () => {
  it("gives back exactly what node:zlib compressed, whatever the input chunking", async () => {
    const plain = Buffer.concat([ndjson(20_000), randomBytes(300_000)]);
    const gz = gzipSync(plain);
    for (const size of [7, 8192, 8193, 65_536, gz.length]) {
      expect(Buffer.from(await whole(gunzip(streamOf(gz, size)))).equals(plain), `chunks of ${size}`).toBe(true);
    }
    const small = ndjson(200);
    expect(Buffer.from(await whole(gunzip(streamOf(gzipSync(small), 1)))).equals(small), "one-byte chunks").toBe(true);
  });

  it("reads concatenated members, also when one ends exactly where a chunk does, and skips zero padding", async () => {
    const a = gzipSync("first member\n");
    const b = gzipSync(ndjson(5000));
    const c = gzipSync("third\n");
    const want = Buffer.concat([Buffer.from("first member\n"), ndjson(5000), Buffer.from("third\n")]);
    // Chunks split at the member boundaries, and all in one chunk.
    expect(Buffer.from(await whole(gunzip(counted([a, b, c]).stream))).equals(want)).toBe(true);
    expect(Buffer.from(await whole(gunzip(streamOf(Buffer.concat([a, b, c]))))).equals(want)).toBe(true);
    // Zero bytes after the last member (tape-block padding) are not an error.
    const padded = Buffer.concat([a, Buffer.alloc(512)]);
    expect(Buffer.from(await whole(gunzip(counted([padded.subarray(0, a.length), padded.subarray(a.length)]).stream))).toString()).toBe("first member\n");
    expect(Buffer.from(await whole(gunzip(streamOf(padded)))).toString()).toBe("first member\n");
  });

  it("never inflates ahead of its reader: a 256 MiB bomb is read one step at a time", async () => {
    // 256 MiB of zeros is about 250 KB of gzip; a reader that takes one chunk and stops has
    // caused at most one source chunk to be read, and at most ~8 MB to be inflated.
    const gz = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
    const { stream, seen } = counted(Array.from({ length: Math.ceil(gz.length / 65_536) }, (_, i) => gz.subarray(i * 65_536, (i + 1) * 65_536)));
    const reader = gunzip(stream).getReader();
    let out = 0;
    for (let i = 0; i < 10; i++) out += (await reader.read()).value!.byteLength;
    expect(out).toBe(10 * 64 * 1024);
    expect(seen.bytes).toBe(65_536);
    await reader.cancel();
  });

  it("refuses a wrong CRC-32 and a wrong length in the trailer, after delivering what did inflate", async () => {
    const plain = ndjson(30_000);
    const crc = new Uint8Array(gzipSync(plain));
    crc[crc.length - 8] ^= 0xff;
    const e = await failure(gunzip(streamOf(crc)));
    expect(e.message).toMatch(/^gzip: not valid gzip data \(corrupt, incorrect data check\) after \d+ decompressed bytes$/);
    // Everything but the last output buffer (64 KiB) was handed on before the trailer was checked.
    expect(e.details?.format).toBe("gzip");
    expect(Number(e.details?.byte)).toBeGreaterThan(plain.length - 64 * 1024);
    expect(Number(e.details?.byte)).toBeLessThanOrEqual(plain.length);
    const len = new Uint8Array(gzipSync(plain));
    len[len.length - 1] ^= 0x01;
    expect((await failure(gunzip(streamOf(len)))).message).toMatch(/^gzip: not valid gzip data \(corrupt, incorrect length check\)/);
  });

  it("refuses truncated data, data that is not gzip, and a zlib stream", async () => {
    const gz = gzipSync(ndjson(30_000));
    const cut = await failure(gunzip(streamOf(gz.subarray(0, gz.length >> 1))));
    expect(cut.message).toMatch(/^gzip: not valid gzip data \(truncated/);
    expect(Number(cut.details?.byte)).toBeGreaterThan(0);
    // Cut inside the 8-byte trailer: every byte inflated, the check cannot be made.
    expect((await failure(gunzip(streamOf(gz.subarray(0, gz.length - 3))))).message).toMatch(/^gzip: not valid gzip data \(truncated/);
    expect((await failure(gunzip(streamOf(Buffer.from("id,name\n1,a\n"))))).message).toMatch(/^gzip: not valid gzip data \(corrupt, incorrect header check\) after 0 decompressed bytes$/);
    const { deflateSync } = await import("node:zlib");
    expect((await failure(gunzip(streamOf(deflateSync("zlib, not gzip")))))).toBeInstanceOf(FloeError);
  });

  it("lets an error of the input stream itself through unchanged", async () => {
    const boom = new Error("R2 read failed");
    let sent = false;
    const gz = gzipSync(ndjson(50_000));
    const input = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(boom);
        sent = true;
        controller.enqueue(gz.subarray(0, 20_000));
      },
    });
    await expect(whole(gunzip(input))).rejects.toBe(boom);
  });

  it("agrees with node:zlib on an empty member", async () => {
    expect((await whole(gunzip(streamOf(gzipSync(Buffer.alloc(0)))))).byteLength).toBe(gunzipSync(gzipSync(Buffer.alloc(0))).byteLength);
  });
});
