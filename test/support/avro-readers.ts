import avsc from "avsc";
import { execFileSync } from "node:child_process";
import { tempFile } from "./temp-file.js";

// Independent Avro readers (STYLE.md 8). Both return the file metadata as strings and the records
// with bytes and fixed values as hex strings, so results compare with plain `toEqual`.

/** What a reader returns: the file metadata (utf-8) and the decoded records. */
export interface AvroRead {
  meta: Record<string, string>;
  // The records' shape is whatever schema the test wrote; tests index into them freely.
  records: any[];
}

/**
 * avsc's long as a bigint (its default is a number, lossy above 2^53). A `registry: { long }` entry
 * reaches plain "long" only; a `typeHook` reaches annotated longs (`{type: "long", logicalType}`) too.
 */
export const bigLongType = avsc.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === "bigint",
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/**
 * Decodes an Avro container with avsc (Node only: it generates code). Longs come back as numbers,
 * or with `{ bigLongs: true }` plain "long"s come back as bigint (annotated longs, e.g.
 * timestamp-micros, stay numbers).
 */
export function avscRead(bytes: Uint8Array, opts: { bigLongs?: boolean } = {}): Promise<AvroRead> {
  const path = tempFile("file.avro", bytes);
  const parseHook = opts.bigLongs ? (s: unknown) => avsc.Type.forSchema(s as avsc.Schema, { registry: { long: bigLongType } }) : undefined;
  return new Promise((resolve, reject) => {
    const records: unknown[] = [];
    let meta: Record<string, string> = {};
    avsc
      .createFileDecoder(path, { parseHook })
      .on("metadata", (_type: unknown, _codec: string, header: { meta: Record<string, Buffer> }) => {
        meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString("utf8")]));
      })
      .on("data", (r: unknown) => records.push(hexBytes(r)))
      .on("error", reject)
      .on("end", () => resolve({ meta, records }));
  });
}

/** Deep copy with bytes as hex (avsc decodes bytes and fixed to Buffers). */
const hexBytes = (v: unknown): unknown =>
  v instanceof Uint8Array ? Buffer.from(v).toString("hex")
  : Array.isArray(v) ? v.map(hexBytes)
  : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hexBytes(x)]))
  : v;

// Anything the JSON bridge cannot carry as-is is tagged, and an unexpected type fails loudly.
const PY = `
import sys, json, decimal
from avro.datafile import DataFileReader
from avro.io import DatumReader
def conv(v):
    if isinstance(v, bool) or v is None or isinstance(v, (float, str)): return v
    if isinstance(v, int): return v if abs(v) <= 2**53 - 1 else str(v)
    if isinstance(v, (bytes, bytearray)): return v.hex()
    if isinstance(v, decimal.Decimal): return {"decimal": str(v)}
    if hasattr(v, "isoformat"): return {"iso": v.isoformat()}
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    if isinstance(v, list): return [conv(x) for x in v]
    raise TypeError(type(v))
with open(sys.argv[1], "rb") as f:
    r = DataFileReader(f, DatumReader())
    print(json.dumps({"meta": {k: v.decode("utf-8") for k, v in r.meta.items()}, "records": [conv(x) for x in r]}))
`;

/**
 * Decodes an Avro container with Debian's python3-avro, which also applies the logical types.
 * Integers within 2^53 come back as numbers and larger ones as decimal strings (exact either way);
 * bytes as hex; dates, times and timestamps as `{iso: "…"}`; decimals as `{decimal: "…"}`.
 */
export function pythonAvroRead(bytes: Uint8Array): AvroRead {
  const path = tempFile("file.avro", bytes);
  // -W ignore: python3-avro warns about logical types it does not know (Iceberg's "map" on arrays).
  return JSON.parse(execFileSync("/usr/bin/python3", ["-W", "ignore", "-c", PY, path], { encoding: "utf8", maxBuffer: 1 << 28 }));
}
