import { FloeError } from "../errors.js";
import { parseTimestamp } from "../iceberg/datetime.js";
import type { ExtractSpec, ExtractType, Provider } from "./config.js";

/** A value as a Floe row carries it (JSON): longs beyond 2^53 as decimal strings, timestamps as ISO-8601 text. */
export type ExtractedValue = string | number | boolean | null;

/**
 * Columns Floe extracts by default, per provider, so that the common questions ("which repo?",
 * "which Stripe object?") need no JSON digging in the query.
 *
 * @example
 * extractColumns(payload, [...DEFAULT_EXTRACTS.github, ...(source.extract ?? [])]);
 */
export const DEFAULT_EXTRACTS: Readonly<Record<Provider, readonly ExtractSpec[]>> = {
  github: [
    { pointer: "/repository/full_name", column: "repository", type: "string" },
    { pointer: "/action", column: "action", type: "string" },
    { pointer: "/sender/login", column: "sender", type: "string" },
  ],
  stripe: [
    { pointer: "/type", column: "type", type: "string" },
    { pointer: "/livemode", column: "livemode", type: "boolean" },
    { pointer: "/data/object/id", column: "object_id", type: "string" },
  ],
  shopify: [],
  slack: [],
  standard: [],
  hmac: [],
};

/**
 * Resolves an RFC 6901 JSON Pointer in a parsed JSON value: `""` is the whole document, each
 * `/token` steps into an object member or an array index (`0` or digits without a leading zero;
 * `-` names the element after the last, which never exists). `~1` decodes to `/` and `~0` to `~`,
 * in that order (§4), so `~01` is the name `~1`. Only own members are followed, so a pointer like
 * `/__proto__` finds nothing rather than Object.prototype. Nothing found is `undefined` (which
 * JSON cannot hold, so it never stands for a value).
 *
 * @example
 * resolvePointer({ "a/b": { "m~n": 1 } }, "/a~1b/m~0n"); // 1
 * @throws FloeError invalid_input when the pointer is not RFC 6901 syntax.
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (!pointer.startsWith("/") || /~[^01]|~$/.test(pointer)) {
    throw new FloeError("invalid_input", `invalid JSON Pointer ${JSON.stringify(pointer)}: use "" or /a/b, with ~0 for ~ and ~1 for /`);
  }
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      const i = Number(token);
      if (i >= cur.length) return undefined;
      cur = cur[i];
    } else if (cur !== null && typeof cur === "object") {
      if (!Object.hasOwn(cur, token)) return undefined;
      cur = (cur as Record<string, unknown>)[token];
    } else return undefined;
  }
  return cur;
}

/**
 * Extracts columns from a webhook payload: each spec's pointer is resolved and the value converted
 * to the column's type. A missing value, a JSON null, or a value that does not convert is null:
 * a provider's delivery cannot be refused for one odd field (the sender would retry it forever),
 * and the whole payload is stored beside the columns anyway.
 *
 * Conversions: `string` takes strings, and numbers and booleans as their JSON text (GitHub ids are
 * numbers); `long` takes integers, and strings of digits (within 64 bits; beyond 2^53 the decimal
 * string is kept, as Floe rows carry big longs); `double` takes numbers and numeric strings;
 * `boolean` takes booleans and `"true"`/`"false"`; `timestamptz` takes ISO-8601 text only, as
 * Floe's rows do: a number could be seconds or milliseconds, and a guess would corrupt the column.
 *
 * @example
 * extractColumns({ repository: { full_name: "octo/hello" }, action: "opened" }, DEFAULT_EXTRACTS.github);
 * // { repository: "octo/hello", action: "opened", sender: null }
 */
export function extractColumns(payload: unknown, spec: readonly ExtractSpec[]): Record<string, ExtractedValue> {
  const out: Record<string, ExtractedValue> = {};
  for (const { pointer, column, type } of spec) {
    const v = resolvePointer(payload, pointer);
    out[column] = v === undefined ? null : convert(v, type);
  }
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function convert(v: unknown, type: ExtractType): ExtractedValue {
  switch (type) {
    case "string":
      // A lone surrogate has no UTF-8 form: Parquet could not store it faithfully.
      if (typeof v === "string") return /\p{Cs}/u.test(v) ? null : v;
      if (typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
      return null;
    case "long": {
      if (typeof v === "number") return Number.isSafeInteger(v) ? v : null;
      if (typeof v !== "string" || !/^-?\d{1,19}$/.test(v)) return null;
      const n = BigInt(v);
      if (n < INT64_MIN || n > INT64_MAX) return null;
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    case "double": {
      if (typeof v === "number") return v;
      if (typeof v !== "string" || !/^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return null;
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }
    case "boolean":
      if (typeof v === "boolean") return v;
      return v === "true" ? true : v === "false" ? false : null;
    case "timestamptz":
      return typeof v === "string" && parseTimestamp(v) !== undefined ? v : null;
  }
}
