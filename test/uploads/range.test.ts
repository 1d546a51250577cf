import { describe, expect, it } from "vitest";
import { lineSlice } from "../../src/uploads/range.js";

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({ pull(c) { if (at >= bytes.byteLength) return c.close(); c.enqueue(bytes.subarray(at, (at += chunk))); } });
}

describe("lineSlice", () => {
  it("splits a file into ranges holding every line exactly once, at any split points and chunk sizes", async () => {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, s: "x".repeat(i % 37) }));
    const body = new TextEncoder().encode(lines.join("\n") + "\n");
    for (const parts of [1, 2, 3, 7, 50]) {
      for (const chunk of [1, 5, 64, 100_000]) {
        const size = Math.ceil(body.byteLength / parts);
        const got: string[] = [];
        for (let start = 0; start < body.byteLength; start += size) {
          const end = Math.min(body.byteLength, start + size);
          const readFrom = Math.max(0, start - 1);
          got.push(await text(lineSlice(streamOf(body.subarray(readFrom), chunk), readFrom, start, end)));
        }
        expect(got.join("").split("\n").filter(Boolean), `${parts} parts, chunks of ${chunk}`).toEqual(lines);
      }
    }
  });

  it("keeps a last line without a newline", async () => {
    const body = new TextEncoder().encode('{"a":1}\n{"a":2}');
    expect(await text(lineSlice(streamOf(body, 3), 0, 0, body.byteLength))).toBe('{"a":1}\n{"a":2}');
  });
});
