import { describe, expect, it } from "vitest";
import { type AvroSchema, encodeAvro, writeAvroContainer } from "../../src/iceberg/avro.js";
import { avscRead, pythonAvroRead } from "../support/avro-readers.js";

// Independent readers (STYLE.md 8): avsc (with a BigInt long type so 64-bit ids stay exact) and
// Debian's python3-avro (arbitrary-precision ints; unsafe ints come back as strings).

/** Canonical form for comparison: bytes → hex; longs → bigint (avsc) or number/string (python). */
function norm(v: unknown, longs: "bigint" | "python"): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "bigint") return longs === "bigint" ? v : Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (Array.isArray(v)) return v.map((x) => norm(x, longs));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, norm(x, longs)]));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x, longs)]));
  return v;
}

const schema = {
  type: "record",
  name: "event",
  doc: "kept verbatim",
  fields: [
    { name: "id", type: "long", "field-id": 1 },
    { name: "small", type: "int", "field-id": 2 },
    { name: "ok", type: "boolean" },
    { name: "f", type: "float" },
    { name: "d", type: "double" },
    { name: "name", type: "string" },
    { name: "blob", type: "bytes" },
    { name: "digest", type: { type: "fixed", name: "digest16", size: 16 } },
    { name: "digest2", type: ["null", "digest16"], default: null },
    { name: "parent", type: ["null", "long"], default: null, "field-id": 7 },
    { name: "tags", type: { type: "array", items: "string", "element-id": 8 } },
    { name: "attrs", type: { type: "map", values: ["null", "int"] } },
    { name: "day", type: { type: "int", logicalType: "date" } },
  ],
} satisfies AvroSchema;

const BIG = 9007199254740993n + 123456789n; // above 2^53: a double cannot hold it
const digest = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
const records = [
  { id: BIG, small: 2147483647, ok: true, f: 1.5, d: Math.PI, name: "héllo 🌍 日本語", blob: new Uint8Array([0, 255, 7]),
    digest, digest2: digest, parent: -(2n ** 63n), tags: ["a", "ü", ""], attrs: { x: 1, "ключ": null }, day: 19000 },
  { id: 2n ** 63n - 1n, small: -2147483648, ok: false, f: -0.25, d: -1e300, name: "x".repeat(200) + "é",
    blob: new Uint8Array(0), digest, digest2: null, parent: null, tags: [], attrs: {}, day: -1 },
  { id: -1, small: 0, ok: true, f: 0, d: 0.1, name: "", blob: new Uint8Array(300).fill(9),
    digest, parent: 0n, tags: ["only"], attrs: new Map([["m", 3]]), day: 0 },
];

/** What a reader returns: defaults filled in, longs as bigint. */
const complete = (r: (typeof records)[number]) => ({ digest2: null, ...r, id: BigInt(r.id) });
/** python3-avro applies the `date` logical type: days since epoch come back as a date. */
const forPython = (r: ReturnType<typeof complete>) => ({
  ...(norm(r, "python") as object),
  day: { iso: new Date(r.day * 86_400_000).toISOString().slice(0, 10) },
});

describe("writeAvroContainer read back by independent readers", () => {
  for (const codec of ["null", "deflate"] as const) {
    it(`codec ${codec}: avsc and python3-avro decode every value, 64-bit longs exact`, async () => {
      const bytes = writeAvroContainer({ schema, metadata: { "snapshot-id": String(BIG) }, records, codec });
      expect(Array.from(bytes.subarray(0, 4))).toEqual([0x4f, 0x62, 0x6a, 0x01]);
      const expected = records.map(complete);

      const a = await avscRead(bytes, { bigLongs: true });
      expect(a.records).toEqual(norm(expected, "bigint"));
      expect(a.meta["avro.codec"]).toBe(codec);
      expect(a.meta["snapshot-id"]).toBe("9007199378197782");

      const p = pythonAvroRead(bytes);
      expect(p.records).toEqual(expected.map(forPython));
      expect((p.records[0] as { id: string }).id).toBe("9007199378197782");
      expect(p.meta["avro.codec"]).toBe(codec);
      // The schema is embedded verbatim, extra attributes included.
      expect(JSON.parse(p.meta["avro.schema"])).toEqual(schema);
    });
  }

  it("splits records into several blocks and both readers see all of them in order", async () => {
    const sync = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const many = Array.from({ length: 1000 }, (_, i) => ({ ...records[i % 3], small: i }));
    for (const codec of ["null", "deflate"] as const) {
      const bytes = writeAvroContainer({ schema, records: many, codec, blockSize: 2048, syncMarker: sync });
      // One sync marker after the header and one after each block.
      const markers = Buffer.from(bytes).toString("hex").split(Buffer.from(sync).toString("hex")).length - 1;
      expect(markers).toBeGreaterThan(10);
      const a = await avscRead(bytes, { bigLongs: true });
      expect(a.records.map((r) => (r as { small: number }).small)).toEqual(many.map((_, i) => i));
      const p = pythonAvroRead(bytes);
      expect(p.records).toHaveLength(1000);
      expect(p.records[999]).toEqual(forPython(complete(many[999])));
    }
  });

  it("deflate actually compresses", () => {
    const many = Array.from({ length: 500 }, () => records[1]);
    const plain = writeAvroContainer({ schema, records: many, codec: "null" });
    const deflated = writeAvroContainer({ schema, records: many, codec: "deflate" });
    expect(deflated.length * 10).toBeLessThan(plain.length);
  });

  it("an empty record list is a valid file with a header and no blocks", async () => {
    for (const codec of ["null", "deflate"] as const) {
      const bytes = writeAvroContainer({ schema, metadata: { k: "v" }, records: [], codec });
      const a = await avscRead(bytes, { bigLongs: true });
      expect(a.records).toEqual([]);
      expect(a.meta.k).toBe("v");
      const p = pythonAvroRead(bytes);
      expect(p.records).toEqual([]);
      expect(p.meta.k).toBe("v");
    }
  });
});

describe("binary encoding", () => {
  it("encodes longs with the spec's zig-zag varint vectors, bigint and number alike", () => {
    const hex = (v: number | bigint) => Buffer.from(encodeAvro("long", v)).toString("hex");
    expect([0, -1, 1, -2, 2, -64, 64].map(hex)).toEqual(["00", "01", "02", "03", "04", "7f", "8001"]);
    expect(hex(2n ** 63n - 1n)).toBe("feffffffffffffffff01");
    expect(hex(-(2n ** 63n))).toBe("ffffffffffffffffff01");
    for (const n of [2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 52, 2 ** 53 - 1, -(2 ** 53) + 1, 123456789012, -98765]) {
      expect(hex(n)).toBe(hex(BigInt(n)));
    }
    expect(Buffer.from(encodeAvro("int", -2147483648)).toString("hex")).toBe("ffffffff0f");
  });

  it("fills a missing field from its default, picks union branches by value, resolves named references", () => {
    const withDefault = { type: "record", name: "r", fields: [{ name: "n", type: "int", default: 7 }] };
    expect(encodeAvro(withDefault, {})).toEqual(encodeAvro("int", 7));
    // ["int", "long"]: a value beyond 32 bits must take the long branch (index 1).
    expect(Buffer.from(encodeAvro(["null", "int", "long"], 2 ** 40)).toString("hex")).toBe("04" + Buffer.from(encodeAvro("long", 2 ** 40)).toString("hex"));
    expect(Buffer.from(encodeAvro(["null", "int", "long"], 5)).toString("hex")).toBe("020a");
    expect(Buffer.from(encodeAvro(["null", "string"], undefined)).toString("hex")).toBe("00");
    const twice = { type: "record", name: "pair", namespace: "x.y", fields: [
      { name: "a", type: { type: "fixed", name: "two", size: 2 } }, { name: "b", type: "two" }, { name: "c", type: "x.y.two" }] };
    expect(Array.from(encodeAvro(twice, { a: new Uint8Array([1, 2]), b: new Uint8Array([3, 4]), c: new Uint8Array([5, 6]) }))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("refuses values that do not fit the schema, naming the field", () => {
    expect(() => encodeAvro("int", 2 ** 31)).toThrow(/32-bit int/);
    expect(() => encodeAvro("long", 2 ** 60)).toThrow(/bigint/);
    expect(() => encodeAvro("long", 2n ** 63n)).toThrow(/64-bit/);
    expect(() => encodeAvro("long", 1.5)).toThrow(/long/);
    expect(() => encodeAvro(schema, { ...records[0], digest: new Uint8Array(3) })).toThrow(/\.digest expected fixed\(16\)/);
    expect(() => encodeAvro(schema, { ...records[0], name: undefined })).toThrow(/\.name expected string/);
    expect(() => encodeAvro(schema, { ...records[0], tags: ["a", 1] })).toThrow(/\.tags\[1\]/);
    expect(() => encodeAvro("nope", 1)).toThrow(/unknown type/);
    expect(() => writeAvroContainer({ schema, metadata: { "avro.codec": "x" }, records: [], codec: "null" })).toThrow(/reserved/);
  });
});
