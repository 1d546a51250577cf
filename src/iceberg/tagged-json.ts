/**
 * JSON for values JSON cannot carry: bigints (64-bit ids, Parquet offsets), bytes (decimal
 * partition values, statistics), dates and maps (a data file's metrics), tagged as
 * `{"$big": "…"}`, `{"$b64": "…"}`, `{"$date": ms}`, `{"$map": [[k, v], …]}`. Used where such values are kept between steps of a job (Durable Object storage,
 * queue messages), which only hold plain JSON or structured clones of it.
 */
export function toTagged(v: unknown): unknown {
  if (typeof v === "bigint") return { $big: v.toString() };
  if (v instanceof Uint8Array) return { $b64: base64(v) };
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [toTagged(k), toTagged(x)]) };
  if (Array.isArray(v)) return v.map(toTagged);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toTagged(x);
    return out;
  }
  return v;
}

export function fromTagged(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromTagged);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$big === "string") return BigInt(o.$big);
    if (typeof o.$b64 === "string") return unbase64(o.$b64);
    if (typeof o.$date === "number") return new Date(o.$date);
    if (Array.isArray(o.$map)) return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [fromTagged(k), fromTagged(x)]));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromTagged(x);
    return out;
  }
  return v;
}

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function unbase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
