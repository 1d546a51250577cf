import { tableFromArrays, tableToIPC } from "apache-arrow";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFooter } from "../../src/decode/arrow-check.js";
import { concat, decodeOutcome, mutate, mutationArb, RUN } from "./fuzz-helpers.js";

// Property tests of the Arrow IPC decoder (src/decode/arrow.ts on apache-arrow's reader): stream
// and file format, arbitrary or mutated, end in rows or a FloeError with a 4xx status; what
// apache-arrow wrote reads back. (tableFromArrays compiles code: Node only, not workerd.)

const tableArb = fc.record({
  ints: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 20 }),
  text: fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { minLength: 20, maxLength: 20 }),
  floats: fc.array(fc.double(), { minLength: 20, maxLength: 20 }),
});
const build = ({ ints, text, floats }: { ints: number[]; text: string[]; floats: number[] }) =>
  tableFromArrays({ i: Int32Array.from(ints), s: text.slice(0, ints.length), f: Float64Array.from(floats.slice(0, ints.length)) });
const formatArb = fc.constantFrom("stream" as const, "file" as const);
const opts = { format: "arrow" as const, maxBufferBytes: 1 << 20, batchRows: 7 };

describe("Arrow IPC decoder, properties", () => {
  it("arbitrary bytes, also after the ARROW1 magic: rows or a clean refusal (200 runs)", async () => {
    const MAGIC = new Uint8Array([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31, 0, 0]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (body, framed) => {
        await decodeOutcome(framed ? concat(MAGIC, body) : body, opts, 64);
      }),
      { ...RUN, numRuns: 200 },
    );
  });

  it("what apache-arrow wrote reads back, stream and file (100 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, formatArb, fc.integer({ min: 1, max: 200 }), async (t, format, chunk) => {
        const got = await decodeOutcome(tableToIPC(build(t), format), opts, chunk);
        const want = t.ints.map((i, k) => ({ i, s: t.text[k], f: t.floats[k] }));
        expect(got).toEqual({ ok: true, value: want });
      }),
      { ...RUN, numRuns: 100 },
    );
  });

  // A mutated schema message whose flatbuffer claims a huge number of field children made
  // apache-arrow build that many Fields until V8 aborted; arrow-check.ts now bounds-checks every
  // message's metadata before apache-arrow reads it.
  it("mutated stream and file data: rows or a clean refusal (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, formatArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (t, format, mutations) => {
        await decodeOutcome(mutate(tableToIPC(build(t), format), mutations), opts, 64);
      }),
      { ...RUN, numRuns: 300 },
    );
  });
});

describe("Arrow IPC decoder, hostile shapes", () => {
  const sample = tableToIPC(tableFromArrays({ i: Int32Array.from([1, 2, 3]) }), "stream");

  it("a message declaring a huge metadata or body length is refused, without allocating it", async () => {
    // Stream messages: 0xFFFFFFFF (continuation), int32 metadata length, the metadata, then the body.
    for (const length of [0x7fffffff, 0x7ffffff0, 0x10000]) {
      const bytes = sample.slice();
      new DataView(bytes.buffer).setInt32(4, length, true);
      const got = await decodeOutcome(bytes, opts, 64);
      expect(!got.ok && got.error.message).toMatch(/^Arrow IPC: /);
    }
    // The record batch message's body length (an int64 in its flatbuffer) set huge: find the
    // second message and overwrite every 8-byte-aligned int64 equal to the body's real length.
    const second = 8 + new DataView(sample.buffer).getInt32(4, true);
    const meta = new DataView(sample.buffer, sample.byteOffset + second + 8, new DataView(sample.buffer).getInt32(second + 4, true));
    const body = sample.length - second - 8 - meta.byteLength - 8;
    let patched = 0;
    for (let at = 0; at + 8 <= meta.byteLength; at += 4) {
      if (meta.getBigInt64(at, true) === BigInt(body)) {
        meta.setBigInt64(at, 2n ** 40n, true);
        patched++;
      }
    }
    expect(patched).toBeGreaterThan(0);
    const got = await decodeOutcome(sample, opts, 64);
    expect(!got.ok && got.error.message).toMatch(/^Arrow IPC: /);
  });

  it("a record batch claiming more rows than its body holds is refused before apache-arrow loops over them", async () => {
    const bytes = tableToIPC(tableFromArrays({ i: Int32Array.from([1, 2, 3]) }), "stream");
    const v = new DataView(bytes.buffer);
    const second = 8 + v.getInt32(4, true);
    const meta = new DataView(bytes.buffer, second + 8, v.getInt32(second + 4, true));
    let patched = 0;
    // The batch's length and its column node's length (int64s equal to the 3 rows).
    for (let at = 0; at + 8 <= meta.byteLength; at += 4) {
      if (meta.getBigInt64(at, true) === 3n) {
        meta.setBigInt64(at, 536_870_921n, true);
        patched++;
      }
    }
    expect(patched).toBeGreaterThan(0);
    const got = await decodeOutcome(bytes, opts, 64);
    expect(!got.ok && got.error.message).toMatch(/^Arrow IPC: malformed metadata .*claims 536870921/);
  });

  it("a file whose footer points a record batch block at a dictionary batch is refused (apache-arrow would read it for ever)", async () => {
    // Strings: apache-arrow writes them dictionary-encoded, so the file has a dictionary block and a record batch block.
    const file = tableToIPC(tableFromArrays({ s: ["a", "b", "a"] }), "file");
    const v = new DataView(file.buffer, file.byteOffset);
    const footerLength = v.getInt32(file.length - 10, true);
    const footer = new DataView(file.buffer, file.byteOffset + file.length - 10 - footerLength, footerLength);
    const { blocks } = checkFooter(new Uint8Array(footer.buffer, footer.byteOffset, footer.byteLength));
    const dictionary = blocks.find((b) => b.kind === 2)!;
    const batch = blocks.find((b) => b.kind === 3)!;
    expect(await decodeOutcome(file, opts)).toMatchObject({ ok: true });
    let patched = 0;
    for (let at = 0; at + 8 <= footer.byteLength; at += 4) {
      if (footer.getBigInt64(at, true) === batch.offset) {
        footer.setBigInt64(at, dictionary.offset, true);
        patched++;
      }
    }
    expect(patched).toBe(1);
    const got = await decodeOutcome(file, opts);
    // Refused: the block's sizes do not fit the message there (or, were they to, its type would not).
    expect(!got.ok && got.error.message).toMatch(/^Arrow IPC: malformed metadata after 0 record batches: (the footer's record batch block at byte \d+ holds a message of type 2|the message at byte \d+ claims \d+ bytes of metadata in a \d+-byte block|the message at byte \d+ claims a \d+-byte body in a block of \d+)$/);
  });

  it("a schema naming a time unit Arrow does not define is refused (found by the mutation property)", async () => {
    const bytes = new Uint8Array(Buffer.from("/////xgBAAAQAAAAAAAKABAADgAHAAgACgAAAAAAAAEQAAAAAAAEAAgACAAAAAQACAAAAAQAAAADAAAAsAAAAEgAAAAEAAAAbP///xAAAAAUAAAAAAAAAxgAAAABAAAAZgAAAAAAAAAAAAYACAAGAAYAAAAAAAIAEAAcAAgADwAXABgABAAQABAAAAA0AAAAFAAAAAAAAAEUAAAAAAAABRQAAAABAAAAcwAAAAAAAAAEAAQABAAAAAgAEAAIAAQACAAAAAwAAADjFwAAAAAAAMT///8AAAABIAAAABAAFAAEAAAADwAQAAAACAAQAAAAEAAAABQAAAAAAAAKGAAAAAEAAABpAAAAAAAAAAgADAAIAAcACAAAAAAAAAEgAAAA/////7gAAAAUAAAAAAAAAAwAHAAaABMAFAAEAAwAAABoAAAAAAAAAAAAAAAAAAACEAAAAAAABAAIABIACAAEAAgAAAAYAAAA4xcAAAAAAAAAAAoAGAAMAAgABAAKAAAAFAAAAEgAAAAEAAAAAAAAAAAAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAYAAAAAAAAAFAAAAAAAAAAAAAAAAEAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAA4AAAAfAAAAPgAAAEoAAAAAAAAA6qq58J2duuqhg/Ceo4whKvCdmKfwnZ+HLOGWo+GYr/CQgrvjjYnwn6Gu8JODsPCdpLXwn5eC8JisivCeiqPwn62N4ZmW4ba93Y8AAAAAAAD/////6AAAABQAAAAAAAAADAAWABQADwAQAAQADAAAAEAAAAAAAAAAAAAAAxAAAAAEAAoAGAAMAAgABAAKAAAAFAAAAHgAAAAEAAAAAAAAAAAAAAAGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAACAAAAAAAAAAAAAAAAMAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAADFYUronc7p9P/////6//9/AAAAAAEAAAACAAAAAwAAAEyew51jmrIKT2NRDzkS4xgQAAAAAAAAgOvSAl05WMmo/////wAAAAA=", "base64"));
    const got = await decodeOutcome(bytes, opts, 64);
    expect(!got.ok && [got.error.status, got.error.message]).toEqual([400, expect.stringMatching(/time unit \d+, which Arrow does not define/)]);
  });

  it("a file over the buffer limit is too_large (413)", async () => {
    const file = tableToIPC(tableFromArrays({ i: Int32Array.from({ length: 1000 }, (_, k) => k) }), "file");
    const got = await decodeOutcome(file, { format: "arrow", maxBufferBytes: 100 });
    expect(!got.ok && [got.error.code, got.error.status]).toEqual(["too_large", 413]);
  });
});
