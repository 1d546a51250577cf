import type { TableCommit, Update } from "../commit.js";
import type { TableMetadata } from "../metadata.js";

/** The commit that sets and removes table properties, or null when it would change nothing. */
export function updateProperties(m: TableMetadata, set: Record<string, string>, remove: readonly string[] = []): TableCommit | null {
  const updates: Update[] = [];
  const changed = Object.fromEntries(Object.entries(set).filter(([k, v]) => m.properties[k] !== v));
  if (Object.keys(changed).length) updates.push({ action: "set-properties", updates: changed });
  const gone = remove.filter((k) => k in m.properties);
  if (gone.length) updates.push({ action: "remove-properties", removals: gone });
  return updates.length ? { requirements: [{ type: "assert-table-uuid", uuid: m["table-uuid"] }], updates } : null;
}
