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
  | "not_found"
  | "commit_conflict"
  | "already_exists"
  | "storage_unavailable"
  | "internal";

const STATUS: Record<FloeErrorCode, number> = {
  invalid_input: 400,
  schema_conflict: 400,
  too_large: 413,
  unauthorized: 401,
  not_found: 404,
  commit_conflict: 409,
  already_exists: 409,
  storage_unavailable: 503,
  internal: 500,
};

const RETRYABLE: ReadonlySet<FloeErrorCode> = new Set(["commit_conflict", "storage_unavailable"]);

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
