import { FloeError, isFloeError } from "../errors.js";
import { listAll, type ObjectStore } from "../storage/object-store.js";
import { applyUpdates, checkRequirements, type TableCommit } from "./commit.js";
import { parseMetadata, serializeMetadata, type TableMetadata } from "./metadata.js";

/** Where a table lives: its URI as engines see it, and its key prefix in the object store. */
export interface TableLocation {
  /** e.g. `s3://lake/warehouse/default/events` */
  uri: string;
  /** e.g. `warehouse/default/events` */
  key: string;
}

/** The table's location for a bucket, warehouse prefix, namespace and name. */
export function tableLocation(bucket: string, warehouse: string, namespace: string, name: string): TableLocation {
  const key = [warehouse, namespace, name].filter((p) => p.length > 0).join("/");
  return { uri: `s3://${bucket}/${key}`, key };
}

/** A table as read from storage: its metadata and the file it came from. */
export interface LoadedTable {
  metadata: TableMetadata;
  version: number;
  /** Store key of the metadata file. */
  metadataKey: string;
  /** URI of the metadata file (what a catalog would hand to an engine). */
  metadataLocation: string;
  /** Size of the metadata file in bytes. */
  metadataBytes: number;
}

/**
 * Metadata files are named `v{N}.metadata.json` beside a `version-hint.text` holding N: the layout
 * of path-based ("Hadoop") Iceberg tables, which DuckDB's `iceberg_scan`, Spark's HadoopCatalog and
 * icebird read without a catalog. Because the name is a function of the version, the create-only
 * put of version N+1 is the commit's compare-and-swap: of two writers racing from version N,
 * exactly one creates the file and the other gets a retryable conflict.
 */
export function metadataKey(loc: TableLocation, version: number): string {
  return `${loc.key}/metadata/v${version}.metadata.json`;
}

const hintKey = (loc: TableLocation) => `${loc.key}/metadata/version-hint.text`;

/**
 * Reads the current metadata, or null when the table does not exist. The hint is written after
 * the metadata file, so it may lag: versions after it are probed until one is missing. A hint
 * naming a version that is gone (its write failed, and later commits trimmed the metadata log and
 * deleted that file) is not trusted: the newest `v{N}` present is found by listing instead.
 */
export async function loadTable(store: ObjectStore, loc: TableLocation): Promise<LoadedTable | null> {
  const hint = await store.get(hintKey(loc));
  let version = hint ? Number.parseInt(new TextDecoder().decode(hint).trim(), 10) : 0;
  if (!Number.isInteger(version) || version < 0) version = 0;
  let bytes: Uint8Array | null = version > 0 ? await store.get(metadataKey(loc, version)) : null;
  if (version > 0 && !bytes) {
    version = await newestListedVersion(store, loc);
    bytes = version > 0 ? await store.get(metadataKey(loc, version)) : null;
    if (version > 0 && !bytes) throw new FloeError("internal", `metadata file v${version} of ${loc.uri} vanished while it was read`, { details: { table: loc.uri } });
  }
  for (;;) {
    const next = await store.get(metadataKey(loc, version + 1));
    if (!next) break;
    version++;
    bytes = next;
  }
  if (!bytes) return null;
  const key = metadataKey(loc, version);
  return { metadata: parseMetadata(new TextDecoder().decode(bytes)), version, metadataKey: key, metadataLocation: metadataUri(loc, version), metadataBytes: bytes.byteLength };
}

const metadataUri = (loc: TableLocation, version: number) => `${loc.uri}/metadata/v${version}.metadata.json`;

/** The highest N of the `v{N}.metadata.json` files present (0 when none): names sort as text, not numbers. */
async function newestListedVersion(store: ObjectStore, loc: TableLocation): Promise<number> {
  let newest = 0;
  for (const o of await listAll(store, `${loc.key}/metadata/v`)) {
    const m = /\/v(\d+)\.metadata\.json$/.exec(o.key);
    if (m) newest = Math.max(newest, Number(m[1]));
  }
  return newest;
}

/** The store key of a URI inside the table's location, or undefined for one outside it (never touched). */
export function keyOf(loc: TableLocation, uri: string): string | undefined {
  return uri.startsWith(`${loc.uri}/`) ? `${loc.key}/${uri.slice(loc.uri.length + 1)}` : undefined;
}

/**
 * Commits a change: checks its requirements against the current metadata, applies its updates and
 * creates the next metadata file only if absent. A new table is a commit with `assert-create` and
 * `base: null`, whose updates create it (see `createTable`). Throws a retryable `commit_conflict`
 * when a requirement fails or another writer created the same version first; nothing is visible
 * then. After the commit, metadata files that fell out of the metadata log are deleted (property
 * `write.metadata.delete-after-commit.enabled`, true unless set to "false"): nothing kept
 * references them, and keeping every version is what made metadata grow without bound.
 */
export async function commitTable(store: ObjectStore, loc: TableLocation, commit: TableCommit, opts: { now: number; base?: LoadedTable | null }): Promise<LoadedTable> {
  const base = opts.base !== undefined ? opts.base : await loadTable(store, loc);
  checkRequirements(base?.metadata ?? null, commit.requirements);
  if (!base && !commit.requirements.some((r) => r.type === "assert-create")) throw new FloeError("not_found", `table ${loc.uri} does not exist`, { details: { table: loc.uri } });
  const next = applyUpdates(base?.metadata ?? null, commit.updates, { now: opts.now, previousFile: base?.metadataLocation });
  const version = (base?.version ?? 0) + 1;
  const key = metadataKey(loc, version);
  const bytes = new TextEncoder().encode(serializeMetadata(next));
  try {
    await store.put(key, bytes, { ifNoneMatch: "*", contentType: "application/json" });
  } catch (e) {
    if (isFloeError(e, "already_exists")) throw new FloeError("commit_conflict", `commit conflict: v${version} of ${loc.uri} was written by another commit`, { retryable: true, cause: e });
    throw e;
  }
  // The commit is done once the metadata file exists: a failed hint write must not turn it into an
  // error (the caller would retry and append twice). A stale hint is corrected by probing (loadTable).
  await store.put(hintKey(loc), String(version), { contentType: "text/plain" }).catch(() => undefined);
  if (base && next.properties["write.metadata.delete-after-commit.enabled"] !== "false") {
    const kept = new Set(next["metadata-log"].map((e) => e["metadata-file"]));
    const dropped = [base.metadataLocation, ...base.metadata["metadata-log"].map((e) => e["metadata-file"])].filter((f) => !kept.has(f));
    const keys = dropped.map((f) => keyOf(loc, f)).filter((k): k is string => k !== undefined);
    // Best effort, like the hint: a file left behind is an orphan that orphan removal deletes.
    if (keys.length) await store.delete(keys).catch(() => undefined);
  }
  return { metadata: next, version, metadataKey: key, metadataLocation: metadataUri(loc, version), metadataBytes: bytes.byteLength };
}
