import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tempPath } from "./temp-file.js";

// An independent Avro writer (STYLE.md 8), so our readers are checked against files no Floe code
// produced. Records arrive as JSON with bytes as {"$b": hex}; `every` forces a block boundary
// (DataFileWriter.sync) after that many records.
const PY = `
import sys, json, warnings, avro.schema, avro.datafile, avro.io
warnings.simplefilter("ignore")  # unknown logical types (Iceberg's "map" on arrays, "floe-unknown"): intended
p = json.loads(sys.stdin.read(), object_hook=lambda o: bytes.fromhex(o["$b"]) if set(o) == {"$b"} else o)
schema = avro.schema.parse(json.dumps(p["schema"]))
w = avro.datafile.DataFileWriter(open(sys.argv[1], "wb"), avro.io.DatumWriter(), schema, codec=p["codec"])
for k, v in p["metadata"].items(): w.set_meta(k, v.encode("utf-8"))
for i, r in enumerate(p["records"]):
    w.append(r)
    if p["every"] and (i + 1) % p["every"] == 0: w.sync()
w.close()
`;

/** JSON Python can parse exactly: bigints as digits, NaN/±Infinity/-0.0 literals, bytes as hex. */
function toPy(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : Object.is(v, -0) ? "-0.0" : String(v);
  if (v instanceof Uint8Array) return JSON.stringify({ $b: Buffer.from(v).toString("hex") });
  if (Array.isArray(v)) return `[${v.map(toPy).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toPy(x)}`).join(",")}}`;
  return JSON.stringify(v);
}

/**
 * Writes an Avro container with Debian's python3-avro and returns its bytes. Longs may be bigints
 * (exact to 64 bits), bytes and fixed values Uint8Arrays.
 */
export function pythonAvroWrite(
  schema: object,
  records: unknown[],
  opts: { codec: "null" | "deflate"; metadata?: Record<string, string>; every?: number },
): Uint8Array {
  const path = tempPath("py.avro");
  const input = toPy({ schema, records, codec: opts.codec, metadata: opts.metadata ?? {}, every: opts.every ?? 0 });
  execFileSync("/usr/bin/python3", ["-c", PY, path], { input, maxBuffer: 1 << 26 });
  return new Uint8Array(readFileSync(path));
}
