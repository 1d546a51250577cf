import { isFloeError, type FloeError } from "../errors.js";
import { serializeMetadata, type TableMetadata } from "../iceberg/metadata.js";

/** The spec's exception names by Floe error code; an error may name its own (`details.type`). */
const TYPES: Record<string, string> = {
  invalid_input: "BadRequestException",
  schema_conflict: "BadRequestException",
  too_large: "BadRequestException",
  unsupported_media_type: "BadRequestException",
  unauthorized: "NotAuthorizedException",
  forbidden: "ForbiddenException",
  not_found: "NoSuchTableException",
  commit_conflict: "CommitFailedException",
  already_exists: "AlreadyExistsException",
  unsupported: "UnsupportedOperationException",
  rate_limited: "SlowDownException",
  storage_unavailable: "ServiceUnavailableException",
  misconfigured: "ServiceFailureException",
  internal: "ServiceFailureException",
};

/** An error as the spec's `IcebergErrorResponse`: `{"error": {"message", "type", "code"}}`. */
export function icebergError(err: unknown): { status: number; body: { error: { message: string; type: string; code: number } } } {
  if (!isFloeError(err)) return { status: 500, body: { error: { message: "internal error", type: "ServiceFailureException", code: 500 } } };
  const e = err as FloeError;
  const type = typeof e.details?.type === "string" ? e.details.type : (TYPES[e.code] ?? "ServiceFailureException");
  return { status: e.status, body: { error: { message: e.message, type, code: e.status } } };
}

/**
 * A `LoadTableResult` (and `CommitTableResponse`, its first two fields) as JSON text: the metadata
 * goes through `serializeMetadata`, which writes 64-bit snapshot ids as exact integers.
 */
export function loadResultText(r: { metadataLocation: string | null; metadata: TableMetadata; config?: Record<string, string>; credentials?: { prefix: string; config: Record<string, string> }[] }): string {
  const parts = [`"metadata-location":${JSON.stringify(r.metadataLocation)}`, `"metadata":${serializeMetadata(r.metadata)}`];
  if (r.config) parts.push(`"config":${JSON.stringify(r.config)}`);
  if (r.credentials?.length) parts.push(`"storage-credentials":${JSON.stringify(r.credentials)}`);
  return `{${parts.join(",")}}`;
}

/** Only the snapshots a ref points at (`snapshots=refs`), for clients that need no history. */
export function refsOnly(m: TableMetadata): TableMetadata {
  const keep = new Set(Object.values(m.refs).map((r) => r["snapshot-id"]));
  return { ...m, snapshots: m.snapshots.filter((s) => keep.has(s["snapshot-id"])) };
}

/** A strong ETag for a table version: the metadata file's location names the version. */
export async function etagOf(metadataLocation: string, variant: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${variant}\n${metadataLocation}`));
  return `"${[...new Uint8Array(d).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/** Whether `If-None-Match` (a list of tags, or `*`) matches the current tag (weak comparison, as RFC 9110 asks for it). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || strip(t) === strip(etag));
}
