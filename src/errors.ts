/**
 * The one error type of Floe. `code` says what went wrong in a word a program can switch on,
 * `status` is the HTTP status an edge adapter answers with, and `retryable` tells the consumer
 * whether trying again can succeed (a conflicting commit can; a row that does not fit cannot).
 *
 * @example
 * throw new FloeError("invalid_input", "row 3, field \"age\": expected long, got string \"x\"", { details: { row: 3, field: "age" } });
 */
export type FloeErrorCode =
  | "invalid_input"
  | "schema_conflict"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "commit_conflict"
  | "already_exists"
  | "storage_unavailable"
  | "unsupported_media_type"
  | "rate_limited"
  | "unsupported"
  | "misconfigured"
  | "internal";

const STATUS: Record<FloeErrorCode, number> = {
  invalid_input: 400,
  schema_conflict: 400,
  too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  commit_conflict: 409,
  already_exists: 409,
  storage_unavailable: 503,
  unsupported_media_type: 415,
  rate_limited: 429,
  unsupported: 406,
  misconfigured: 500,
  internal: 500,
};

const RETRYABLE: ReadonlySet<FloeErrorCode> = new Set(["commit_conflict", "storage_unavailable", "rate_limited"]);

export class FloeError extends Error {
  readonly code: FloeErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: FloeErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FloeError";
    this.code = code;
    this.status = STATUS[code];
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.details = options.details;
  }
}

/** True when `e` is a FloeError, optionally of the given code. */
export function isFloeError(e: unknown, code?: FloeErrorCode): e is FloeError {
  return e instanceof FloeError && (code === undefined || e.code === code);
}

const WIRE = "floe-error:";

/**
 * Workers RPC keeps only an error's message and name (own properties such as `code` are dropped),
 * so a FloeError thrown in a Durable Object crosses as its JSON inside the message and is rebuilt
 * by `fromRpc` on the calling side.
 */
export function toRpc(e: unknown): unknown {
  if (!(e instanceof FloeError)) return e;
  return new Error(WIRE + JSON.stringify({ code: e.code, message: e.message, details: e.details, retryable: e.retryable }));
}

/** Rebuilds a FloeError sent with `toRpc`; other errors pass through. */
export function fromRpc(e: unknown): unknown {
  const msg = e instanceof Error ? e.message : "";
  const at = msg.indexOf(WIRE);
  if (at === -1) return e;
  try {
    const o = JSON.parse(msg.slice(at + WIRE.length)) as { code: FloeErrorCode; message: string; details?: Record<string, unknown>; retryable: boolean };
    return new FloeError(o.code, o.message, { details: o.details, retryable: o.retryable });
  } catch {
    return e;
  }
}

/** Awaits an RPC call, turning a FloeError sent across back into one. */
export async function rpc<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw fromRpc(e);
  }
}
