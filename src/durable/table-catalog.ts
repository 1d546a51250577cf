import { lakeConfig, type Env } from "../config.js";
import { FloeError, isFloeError } from "../errors.js";
import type { TableCommit } from "../iceberg/commit.js";
import { parseMetadata } from "../iceberg/metadata.js";
import { commitTable, loadTable, metadataKey, type LoadedTable, type TableLocation } from "../iceberg/table.js";
import { parseTableName } from "../names.js";
import { keyInBucket, locationOf } from "../storage/lake.js";
import { listAll, type ObjectStore } from "../storage/object-store.js";
import { CATALOG_OBJECT } from "./catalog-do.js";
import { getMeta, setMeta } from "./keys.js";

/** What the table's Durable Object lends the catalog operations: its storage, cached table and serial chain. */
export interface CatalogHost {
  sql: SqlStorage;
  env: Env;
  storage: DurableObjectStorage;
  store(): ObjectStore;
  location(): TableLocation;
  loaded(name: string, fresh?: boolean): Promise<LoadedTable | null>;
  setTable(t: LoadedTable | null | undefined): void;
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Counts a commit for automatic maintenance and arms the alarm. */
  committed(t: LoadedTable): Promise<void>;
}

const noTable = (name: string) => new FloeError("not_found", `table ${name} does not exist`, { details: { type: "NoSuchTableException", table: name } });

/**
 * The REST catalog's operations on one table, run by its Durable Object: the table's only
 * committer, so commits sent by engines and Floe's own ingest are serialized on one chain and
 * neither loses the other's rows (a commit planned on an older snapshot fails its
 * `assert-ref-snapshot-id` and the engine refreshes and retries, as the protocol intends).
 */
export class TableCatalog {
  constructor(private readonly host: CatalogHost) {}

  async load(name: string): Promise<LoadedTable> {
    const t = await this.host.loaded(name);
    if (!t) throw noTable(name);
    return t;
  }

  /**
   * Applies a commit sent through the catalog: requirements checked, updates applied by the same
   * pure functions as every other change (`commitTable`). A commit with `assert-create` on a
   * missing table creates it (the second half of a staged create). `set-location` may only name
   * the table's own location: elsewhere, maintenance could delete files another table owns.
   */
  commit(name: string, commit: TableCommit): Promise<LoadedTable> {
    return this.host.serial(async () => {
      const base = await this.host.loaded(name);
      const loc = this.host.location();
      for (const u of commit.updates) {
        if (u.action === "set-location" && trimSlash(u.location) !== loc.uri) {
          throw new FloeError("invalid_input", `set-location: ${name} lives at ${loc.uri}; Floe does not move tables (asked for ${u.location})`, { details: { type: "BadRequestException", location: u.location } });
        }
      }
      if (!base && !commit.requirements.some((r) => r.type === "assert-create")) throw noTable(name);
      const now = Date.now();
      let t: LoadedTable;
      try {
        t = await commitTable(this.host.store(), loc, commit, { now, base });
      } catch (e) {
        if (isFloeError(e) && (e.code === "commit_conflict" || e.status < 500)) throw e;
        t = await this.settle(name, base, e);
      }
      await this.landed(name, t, base === null);
      return t;
    });
  }

  /**
   * A commit whose metadata write failed for a reason other than a conflict: it may have landed.
   * This object is the table's only committer, so a newer version in the lake can only be that
   * commit: it landed. Otherwise nothing was committed. When even the lake cannot be read, the
   * outcome is unknown (500, `CommitStateUnknownException`): the engine must not delete the files
   * it wrote for it (apache/iceberg#12792).
   */
  private async settle(name: string, base: LoadedTable | null, cause: unknown): Promise<LoadedTable> {
    this.host.setTable(undefined);
    let now: LoadedTable | null;
    try {
      now = await this.host.loaded(name, true);
    } catch {
      throw new FloeError("internal", `commit to ${name}: the metadata write failed and the table could not be read back; the commit may or may not have landed: load the table to see`, { cause, details: { type: "CommitStateUnknownException" } });
    }
    if (now && (base === null || now.version > base.version)) return now;
    throw new FloeError("storage_unavailable", `commit to ${name}: the metadata write failed (${(cause as Error).message}); nothing was committed, try again`, { cause, retryable: true });
  }

  /** After a commit: the cache, the maintenance counters, and (for a new table) the catalog's directory. */
  private async landed(name: string, t: LoadedTable, created: boolean): Promise<void> {
    this.host.setTable(t);
    setMeta(this.host.sql, "location", JSON.stringify(this.host.location()));
    await this.host.committed(t);
    if (created) await this.cataloged(name, true);
  }

  /**
   * Tells the catalog's directory that this table exists (or no longer does). Remembered once
   * acknowledged; until then every load repeats it, so a crash between creating a table and
   * reporting it leaves the directory behind for one call, not for ever.
   */
  async cataloged(name: string, exists: boolean): Promise<void> {
    const { sql, env } = this.host;
    setMeta(sql, "cataloged", exists ? "pending" : "pending-drop");
    const n = parseTableName(name);
    const dir = env.CATALOG.get(env.CATALOG.idFromName(CATALOG_OBJECT));
    await (exists ? dir.tableAdded(n.namespace, n.table) : dir.tableRemoved(n.namespace, n.table));
    setMeta(sql, "cataloged", exists ? "yes" : "no");
  }

  /** Repeats a report to the directory that a crash interrupted (see `cataloged`). */
  async recatalog(name: string): Promise<void> {
    const state = getMeta(this.host.sql, "cataloged");
    if (state === "pending") await this.cataloged(name, true);
    else if (state === "pending-drop") await this.cataloged(name, false);
  }

  /**
   * Registers a table from a metadata file already in the lake's bucket (written by another
   * engine, or kept from a table dropped without purge). The table keeps its location, schema,
   * partition spec and snapshots; Floe's commits go on from that file. Its metadata files are
   * renamed into Floe's layout (`v{N}.metadata.json` beside `version-hint.text`, whose create-only
   * write is the commit's compare-and-swap): a file already named so, and the newest there, is
   * adopted as it is; any other is copied as the next version.
   */
  register(name: string, metadataLocation: string): Promise<LoadedTable> {
    return this.host.serial(async () => {
      if (await this.host.loaded(name)) throw new FloeError("already_exists", `table ${name} already exists`, { details: { type: "AlreadyExistsException", table: name } });
      const { LAKE_BUCKET } = lakeConfig(this.host.env);
      const store = this.host.store();
      const key = keyInBucket(LAKE_BUCKET, metadataLocation, "metadata-location");
      const bytes = await store.get(key);
      if (!bytes) throw new FloeError("invalid_input", `metadata-location ${metadataLocation} does not exist`, { details: { type: "BadRequestException", field: "metadata-location" } });
      const metadata = (() => {
        try {
          return parseMetadata(new TextDecoder().decode(bytes));
        } catch (e) {
          throw new FloeError("invalid_input", `metadata-location ${metadataLocation}: not a table metadata file (${(e as Error).message})`, { details: { type: "BadRequestException", field: "metadata-location" } });
        }
      })();
      if (metadata["format-version"] !== 2) throw new FloeError("invalid_input", `metadata-location ${metadataLocation}: format version ${metadata["format-version"]}; Floe writes format 2 tables only`, { details: { type: "BadRequestException" } });
      if (typeof metadata.location !== "string") throw new FloeError("invalid_input", `metadata-location ${metadataLocation}: no location`, { details: { type: "BadRequestException" } });
      const uri = trimSlash(metadata.location);
      const loc: TableLocation = { uri, key: keyInBucket(LAKE_BUCKET, uri, "the table's location") };
      const versions = (await listAll(store, `${loc.key}/metadata/v`)).map((o) => /\/v(\d+)\.metadata\.json$/.exec(o.key)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
      const newest = Math.max(0, ...versions);
      if (newest === 0 || key !== metadataKey(loc, newest)) {
        await store.put(metadataKey(loc, newest + 1), bytes, { ifNoneMatch: "*", contentType: "application/json" });
        await store.put(`${loc.key}/metadata/version-hint.text`, String(newest + 1), { contentType: "text/plain" }).catch(() => undefined);
      }
      setMeta(this.host.sql, "location", JSON.stringify(loc));
      this.host.setTable(undefined);
      const t = await this.host.loaded(name, true);
      if (!t) throw new FloeError("internal", `registered ${name} but could not read it back from ${loc.uri}`);
      await this.cataloged(name, true);
      return t;
    });
  }

  /**
   * Drops the table: it leaves the catalog at once. With `purge`, every object under its location
   * is deleted; without, its files stay (register its last metadata file to bring it back). The
   * object's state is wiped (dedupe ledger, uploads, jobs) and the next table of this name gets a
   * location of its own, so a table created later never mistakes the old files for its own.
   */
  drop(name: string, purge: boolean): Promise<{ deleted: number; kept: string | null }> {
    return this.host.serial(async () => {
      const t = await this.host.loaded(name);
      if (!t) throw noTable(name);
      const loc = this.host.location();
      await this.cataloged(name, false);
      let deleted = 0;
      if (purge) {
        const store = this.host.store();
        for (let cursor: string | undefined; ; ) {
          const page = await store.list(`${loc.key}/`, { cursor, limit: 1000 });
          if (page.objects.length) await store.delete(page.objects.map((o) => o.key));
          deleted += page.objects.length;
          if (!page.cursor) break;
          cursor = page.cursor;
        }
      }
      await this.host.storage.deleteAll();
      return { deleted, kept: purge ? null : t.metadataLocation };
    });
  }

  /** After a drop: where the next table of this name goes (the default place, unless old files are still there). */
  async nextLocation(name: string): Promise<TableLocation> {
    const def = locationOf(this.host.env, parseTableName(name));
    const used = await this.host.store().list(`${def.key}/`, { limit: 1 });
    if (!used.objects.length) return def;
    const suffix = crypto.randomUUID().slice(0, 8);
    return { uri: `${def.uri}-${suffix}`, key: `${def.key}-${suffix}` };
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

