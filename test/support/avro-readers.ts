import avsc from "avsc";
import { execFileSync } from "node:child_process";
import { tempFile } from "./duckdb.js";

/** Decodes an Avro container with avsc (Node only: it generates code). Longs come back as numbers. */
export function avscRead(bytes: Uint8Array): Promise<{ header: Record<string, string>; records: Record<string, unknown>[] }> {
  const path = tempFile("file.avro", bytes);
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = [];
    let header: Record<string, string> = {};
    avsc
      .createFileDecoder(path)
      .on("metadata", (_type: unknown, _codec: string, h: { meta: Record<string, Buffer> }) => {
        header = Object.fromEntries(Object.entries(h.meta).map(([k, v]) => [k, v.toString("utf8")]));
      })
      .on("data", (r: Record<string, unknown>) => records.push(r))
      .on("error", reject)
      .on("end", () => resolve({ header, records }));
  });
}

const PY = `
import sys, json, avro.datafile, avro.io
def conv(v):
    if isinstance(v, bytes): return {"hex": v.hex()}
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    if isinstance(v, list): return [conv(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool): return {"int": str(v)}
    if hasattr(v, "isoformat"): return v.isoformat()
    if hasattr(v, "as_tuple"): return str(v)
    return v
with open(sys.argv[1], "rb") as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    meta = {k: (v.decode("utf8") if isinstance(v, bytes) else v) for k, v in r.meta.items()}
    print(json.dumps({"header": meta, "records": [conv(x) for x in r]}))
`;

/**
 * Decodes an Avro container with Debian's python3-avro. Integers come back as `{int: "…"}` (exact,
 * whatever their size) and bytes as `{hex: "…"}`.
 */
export function pythonAvroRead(bytes: Uint8Array): { header: Record<string, string>; records: Record<string, unknown>[] } {
  const path = tempFile("file.avro", bytes);
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", PY, path], { encoding: "utf8", maxBuffer: 64 << 20 }));
}
