import type { StructType } from "../iceberg/types.js";
import type { SourceConfig } from "./config.js";
import { DEFAULT_EXTRACTS, extractColumns } from "./extract.js";
import type { VerifiedOk } from "./verify.js";

/** The columns every webhook table has; per-source extracted columns follow. */
const BASE: StructType["fields"] = [
  { id: 0, name: "received_at", required: true, type: "timestamptz" },
  { id: 0, name: "source", required: true, type: "string" },
  { id: 0, name: "provider", required: true, type: "string" },
  { id: 0, name: "event_type", required: false, type: "string" },
  { id: 0, name: "delivery_id", required: true, type: "string" },
  { id: 0, name: "payload", required: true, type: "string" },
  { id: 0, name: "payload_is_json", required: true, type: "boolean" },
  { id: 0, name: "headers", required: false, type: { type: "map", "key-id": 0, key: "string", "value-id": 0, "value-required": false, value: "string" } },
];

/** The extraction rules of a source: the provider's defaults, then the source's own (which win on a name clash). */
export function extractSpec(source: SourceConfig) {
  const own = source.extract ?? [];
  const names = new Set(own.map((e) => e.column));
  return [...DEFAULT_EXTRACTS[source.provider].filter((e) => !names.has(e.column)), ...own];
}

/**
 * The schema of a source's table, declared (not inferred) so that `received_at` is a timestamptz
 * and `headers` a map rather than whatever the first delivery's shape suggests.
 */
export function webhookSchema(source: SourceConfig): StructType {
  return { type: "struct", fields: [...BASE, ...extractSpec(source).filter((e) => !BASE.some((b) => b.name === e.column)).map((e) => ({ id: 0, name: e.column, required: false, type: e.type }))] };
}

/** One delivery as a row: the raw body as the truth, and what is worth a column of its own. */
export function deliveryRow(source: SourceConfig, d: VerifiedOk, rawBody: Uint8Array): Record<string, unknown> {
  const extracted = d.bodyIsJson ? extractColumns(d.payload, extractSpec(source)) : {};
  for (const b of BASE) delete extracted[b.name];
  return {
    received_at: d.receivedAt,
    source: source.name,
    provider: source.provider,
    event_type: d.eventType,
    delivery_id: d.deliveryId,
    // Not JSON although the provider always sends JSON: kept as received (lossy only for bytes that
    // are not UTF-8, which become U+FFFD) and flagged, since the signature says the sender sent it.
    payload: new TextDecoder().decode(rawBody),
    payload_is_json: d.bodyIsJson,
    headers: d.providerHeaders,
    ...extracted,
  };
}
