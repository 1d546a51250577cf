import avsc from "avsc";
import { describe, expect, it } from "vitest";
import { writeAvroContainer } from "../../src/iceberg/avro.js";
import { avroDecoder, readAvroContainer } from "../../src/iceberg/avro-read.js";
import { bigLongType } from "../support/avro-readers.js";
import { pythonAvroWrite } from "../support/avro-writers.js";

// Files come from independent writers (STYLE.md 8): avsc (with a BigInt long type so 64-bit
// values go in exact) and Debian's python3-avro; the decoder must return exactly what they wrote.

/** Deep copy with Uint8Array → Buffer, which is what avsc expects for bytes and fixed. */
const toBuffers = (v: unknown): unknown =>
  v instanceof Uint8Array ? Buffer.from(v) : Array.isArray(v) ? v.map(toBuffers)
  : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toBuffers(x)])) : v;

interface WriteOpts { codec: "null" | "deflate"; metadata?: Record<string, string>; blockSize?: number; codecs?: Record<string, unknown> }

/** Encodes a container in memory with avsc's BlockEncoder (header written even with no records). */
function writeAvsc(schema: object, records: unknown[], opts: WriteOpts): Promise<Uint8Array> {
  // typeHook, not registry: avsc builds `{"type": "long", "logicalType": …}` without the registry.
  const typeHook = (s: unknown) => (s === "long" || (s as { type?: unknown })?.type === "long" ? bigLongType : undefined);
  const type = avsc.Type.forSchema(schema as avsc.Schema, { typeHook } as never);
  const metadata = Object.fromEntries(Object.entries(opts.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
  const enc = new avsc.streams.BlockEncoder(type, { codec: opts.codec, codecs: opts.codecs, blockSize: opts.blockSize, metadata, writeHeader: "always" } as never);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    enc.on("data", (c: Buffer) => chunks.push(c));
    enc.on("error", reject);
    enc.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    for (const r of records) enc.write(toBuffers(r));
    enc.end();
    if (records.length === 0) setTimeout(() => resolve(new Uint8Array(Buffer.concat(chunks))), 50);
  });
}

/** Blocks in a container: every block ends with the sync marker, and so does the header. */
const blockCount = (bytes: Uint8Array) => {
  const hex = Buffer.from(bytes).toString("hex");
  return hex.split(hex.slice(-32)).length - 2;
};

const inner = {
  type: "record", name: "Inner",
  fields: [
    { name: "id", type: "int" },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "kv", type: { type: "array", items: { type: "record", name: "KV", fields: [{ name: "key", type: "int" }, { name: "value", type: "long" }] } } },
  ],
};
const schema = {
  type: "record", name: "Sink", namespace: "floe.test",
  fields: [
    { name: "n", type: "null" },
    { name: "b", type: "boolean" },
    { name: "i", type: "int" },
    { name: "l", type: "long", "field-id": 7 },
    { name: "f", type: "float" },
    { name: "d", type: "double" },
    { name: "by", type: "bytes" },
    { name: "s", type: "string" },
    { name: "fx", type: { type: "fixed", name: "Hash", size: 4 } },
    { name: "fx2", type: "Hash" }, // short-name reference
    { name: "e", type: { type: "enum", name: "Color", symbols: ["RED", "GREEN", "BLUE"] } },
    { name: "arr", type: { type: "array", items: "long" } },
    { name: "m", type: { type: "map", values: ["null", "string"] } },
    { name: "u", type: ["null", "floe.test.Color"] }, // full-name reference
    { name: "u2", type: ["int", "string"] },
    { name: "nested", type: inner },
    { name: "opt", type: ["null", "Inner"] },
    { name: "custom", type: { type: "long", logicalType: "floe-unknown" } }, // unknown logical type: plain long
  ],
};

// Varint edges: 1/2/7/8/9/10-byte encodings, the 49-bit float fast path's boundary, both extremes.
const LONGS = [0n, -1n, 63n, 64n, -64n, -65n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 48n - 1n, 2n ** 48n, -(2n ** 48n) - 1n,
  2n ** 53n + 1n, 2n ** 56n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n)];
const records = [
  { n: null, b: true, i: 2147483647, l: 9007199254740993n, f: 1.5, d: Math.PI, by: new Uint8Array([0, 255, 1]), s: "héllo wörld 🚀 中文",
    fx: new Uint8Array([1, 2, 3, 4]), fx2: new Uint8Array([255, 254, 0, 7]), e: "BLUE", arr: LONGS, m: { a: "x", b: null, "ключ": "ü" },
    u: "GREEN", u2: 7, nested: { id: -5, tags: ["a", "", "ß"], kv: [{ key: 1, value: -(2n ** 63n) }] }, opt: null, custom: 1_700_000_000_000_000n },
  { n: null, b: false, i: -2147483648, l: -(2n ** 63n), f: -0.25, d: -0, by: new Uint8Array(0), s: "",
    fx: new Uint8Array(4), fx2: new Uint8Array([9, 9, 9, 9]), e: "RED", arr: [], m: {}, u: null, u2: "two",
    nested: { id: 0, tags: [], kv: [] }, opt: { id: 2147483647, tags: ["x".repeat(300)], kv: [{ key: -1, value: 2n ** 63n - 1n }, { key: 0, value: 0n }] }, custom: -1n },
  { n: null, b: true, i: -1, l: 2n ** 63n - 1n, f: 3.4028234663852886e38, d: Infinity, by: new Uint8Array(200).fill(0xab), s: "\u0000\t\"",
    fx: new Uint8Array([0, 0, 0, 1]), fx2: new Uint8Array([1, 0, 0, 0]), e: "GREEN", arr: [-1n], m: { "": "empty key" }, u: "RED", u2: -300,
    nested: { id: 1, tags: ["🙂"], kv: [] }, opt: null, custom: 0n },
  { n: null, b: false, i: 0, l: 0n, f: -1e-6, d: NaN, by: new Uint8Array([7]), s: "x", fx: new Uint8Array([5, 6, 7, 8]), fx2: new Uint8Array([5, 6, 7, 8]),
    e: "BLUE", arr: [1n, 2n], m: { k: null }, u: "BLUE", u2: 0, nested: { id: 2, tags: ["t"], kv: [] }, opt: null, custom: 2n ** 62n },
];
// float is 32-bit: what comes back is the value rounded to float32.
const expected = records.map((r) => ({ ...r, f: Math.fround(r.f) }));

const writers = {
  avsc: (recs: unknown[], opts: WriteOpts & { every?: number }) => writeAvsc(schema, recs, { ...opts, blockSize: opts.every ? 64 : undefined }),
  python: async (recs: unknown[], opts: WriteOpts & { every?: number }) => pythonAvroWrite(schema, recs, opts),
};

describe.each(Object.entries(writers))("readAvroContainer reads files written by %s", (_name, write) => {
  for (const codec of ["null", "deflate"] as const) {
    it(`codec ${codec}: every type, exact 64-bit longs, metadata and schema`, async () => {
      const bytes = await write(records, { codec, metadata: { "floe.k": "välue", "snapshot-id": "9223372036854775807" } });
      const got = readAvroContainer(bytes);
      expect(got.records).toEqual(expected);
      expect((got.records[0] as { l: bigint }).l).toBe(9007199254740993n);
      expect((got.records[1] as { d: number }).d).toBe(-0); // toBe uses Object.is: -0, not +0
      expect(got.metadata["avro.codec"] ?? "null").toBe(codec);
      expect(got.metadata["floe.k"]).toBe("välue");
      expect(got.metadata["snapshot-id"]).toBe("9223372036854775807");
      // avsc writes the canonical full name, python3-avro name + namespace.
      expect(got.schema).toMatchObject({ type: "record", name: expect.stringMatching(/Sink$/) });
    });

    it(`codec ${codec}: several blocks, all records in order`, async () => {
      const many = Array.from({ length: 300 }, (_, k) => ({ ...records[k % 4], i: k }));
      const bytes = await write(many, { codec, every: 7 });
      expect(blockCount(bytes)).toBeGreaterThan(5);
      const got = readAvroContainer(bytes).records as { i: number }[];
      expect(got.map((r) => r.i)).toEqual(many.map((_, k) => k));
      expect(got[298]).toEqual({ ...expected[2], i: 298 });
    });

    it(`codec ${codec}: a file with no records has a schema and no records`, async () => {
      const bytes = await write([], { codec, metadata: { k: "v" } });
      const got = readAvroContainer(bytes);
      expect(got.records).toEqual([]);
      expect(got.metadata.k).toBe("v");
      expect(got.schema).toMatchObject({ type: "record", name: expect.stringMatching(/Sink$/) });
    });
  }
});

describe("schemas", () => {
  it("a recursive record, a namespace given in a dotted name, and a non-record top level", async () => {
    const list = { type: "record", name: "a.b.Node", fields: [{ name: "v", type: "int" }, { name: "next", type: ["null", "a.b.Node"] }, { name: "prev", type: ["null", "Node"] }] };
    const chain = { v: 1, next: { v: 2, next: { v: 3, next: null, prev: null }, prev: null }, prev: null };
    expect(readAvroContainer(pythonAvroWrite(list, [chain], { codec: "deflate" })).records).toEqual([chain]);
    const top = { type: "map", values: { type: "array", items: ["null", "double"] } };
    const value = { x: [1.5, null, -2], y: [] };
    expect(readAvroContainer(await writeAvsc(top, [value, {}], { codec: "null" })).records).toEqual([value, {}]);
  });

  it("reads what our own writer wrote, and avroDecoder decodes a single value", () => {
    const own = { type: "record", name: "own", fields: [{ name: "id", type: "long" }, { name: "h", type: { type: "fixed", name: "h2", size: 2 } },
      { name: "m", type: { type: "map", values: ["null", "h2"] } }, { name: "s", type: ["null", "string"] }] };
    const ownRecords = LONGS.map((id, k) => ({ id, h: new Uint8Array([k, 255 - k]), m: k % 2 ? {} : { a: null, b: new Uint8Array([1, k]) }, s: k % 3 ? null : `r${k}é` }));
    const bytes = writeAvroContainer({ schema: own, records: ownRecords, codec: "deflate", blockSize: 40 });
    expect(blockCount(bytes)).toBeGreaterThan(2);
    expect(readAvroContainer(bytes).records).toEqual(ownRecords);
    expect(avroDecoder("long")(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(2n ** 63n - 1n);
    expect(avroDecoder(["null", "int"])(new Uint8Array([0x02, 0x0a]))).toBe(5);
    expect(() => avroDecoder("int")(new Uint8Array([0x02, 0x00]))).toThrow(/^avro: 1 trailing bytes/);
    expect(() => avroDecoder("toString")).toThrow(/^avro: unknown type "toString"/);
    // A corrupt block count is refused before it can allocate: 2^40 longs cannot fit in 3 bytes.
    expect(() => avroDecoder({ type: "array", items: "long" })(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x02, 0x02, 0x00]))).toThrow(/^avro: block count \d+ exceeds/);
  });

  it("a `__proto__` map key is data, not a prototype", () => {
    const m = avroDecoder({ type: "map", values: "int" })(new Uint8Array([0x02, 0x12, ...Buffer.from("__proto__"), 0x02, 0x00])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.entries(m)).toEqual([["__proto__", 1]]);
  });
});

describe("corrupt, truncated and unsupported files fail with avro: errors", () => {
  const small = () => pythonAvroWrite(schema, records, { codec: "deflate", every: 2 });

  it("truncation anywhere (header, block, sync marker) is an error, not a short read", () => {
    const bytes = small();
    for (const cut of [2, 10, 40, bytes.length - 40, bytes.length - 17, bytes.length - 1]) {
      expect(() => readAvroContainer(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(/^avro: /);
    }
  });

  it("a corrupt sync marker after a block is reported", () => {
    const bytes = small().slice();
    bytes[bytes.length - 5] ^= 0xff;
    expect(() => readAvroContainer(bytes)).toThrow(/^avro: block 1: sync marker/);
  });

  it("bad magic and corrupt block data", () => {
    const bytes = pythonAvroWrite(schema, records, { codec: "null" }).slice();
    expect(() => readAvroContainer(new Uint8Array([0x4f, 0x62, 0x6a, 0x02, ...bytes.subarray(4)]))).toThrow(/^avro: .*bad magic/);
    // Record 0's boolean is the block's first data byte (its null field takes no bytes): make it 7.
    const headerEnd = Buffer.from(bytes).indexOf(Buffer.from(bytes.subarray(-16))) + 16;
    let p = headerEnd;
    for (let varints = 0; varints < 2; p++) if (bytes[p] < 0x80) varints++; // skip count and size
    const corrupt = bytes.slice();
    corrupt[p] = 7;
    expect(() => readAvroContainer(corrupt)).toThrow(/^avro: invalid boolean byte 7 in block 0/);
  });

  it("an unsupported codec is named", async () => {
    const identity = (buf: Buffer, cb: (e: null, b: Buffer) => void) => cb(null, buf);
    for (const codec of ["snappy", "zstandard"]) {
      const bytes = await writeAvsc(schema, records, { codec: codec as "null", codecs: { [codec]: identity } });
      expect(() => readAvroContainer(bytes)).toThrow(new RegExp(`^avro: unsupported codec "${codec}"`));
    }
  });
});
