import { DurableObject } from "cloudflare:workers";
import { lakeConfig, type Env } from "../config.js";
import { FloeError, toRpc } from "../errors.js";
import { getMeta, setMeta } from "./keys.js";

/** One page of names, and the token of the next page (null after the last). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface NamespaceChange {
  updated: string[];
  removed: string[];
  missing: string[];
}

/** The name the deployment's one catalog object is addressed by. */
export const CATALOG_OBJECT = "catalog";

/**
 * The catalog's directory: namespaces (with their properties) and the names of the tables in
 * them, in SQLite. One object per deployment; it is asked only for listings and namespace changes,
 * never on the ingest path or to load a table (each table's own object answers that), so it is not
 * a hot spot. A table object reports each table it creates or drops here (and repeats the report
 * until it is acknowledged, see `TableDO.cataloged`). Tables created before the catalog existed are
 * found once by listing the lake's layout (`{warehouse}/{namespace}/{table}/metadata/`).
 */
export class CatalogDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private seeded: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, properties TEXT NOT NULL, implicit INTEGER NOT NULL DEFAULT 0)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS tables (namespace TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (namespace, name))");
    });
  }

  /** Lists the lake once, so that tables written before this object existed are in the catalog. */
  private seed(): Promise<void> {
    return (this.seeded ??= (async () => {
      if (getMeta(this.sql, "seeded")) return;
      const { WAREHOUSE } = lakeConfig(this.env);
      const root = WAREHOUSE ? `${WAREHOUSE}/` : "";
      const found: [string, string][] = [];
      for (const ns of await prefixes(this.env.LAKE, root)) {
        for (const t of await prefixes(this.env.LAKE, ns)) {
          const meta = await this.env.LAKE.list({ prefix: `${t}metadata/`, limit: 1 });
          if (meta.objects.length) found.push([ns.slice(root.length, -1), t.slice(ns.length, -1)]);
        }
      }
      this.ctx.storage.transactionSync(() => {
        for (const [ns, t] of found) this.addTable(ns, t);
        setMeta(this.sql, "seeded", String(Date.now()));
      });
    })().catch((e) => {
      this.seeded = undefined;
      throw e;
    }));
  }

  private run<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.seed().then(fn).catch((e) => {
      throw toRpc(e);
    });
  }

  private addTable(namespace: string, table: string): void {
    this.sql.exec("INSERT OR IGNORE INTO namespaces (name, properties, implicit) VALUES (?, '{}', 1)", namespace);
    this.sql.exec("INSERT OR IGNORE INTO tables (namespace, name) VALUES (?, ?)", namespace, table);
  }

  private properties(namespace: string): Record<string, string> | null {
    const row = this.sql.exec<{ properties: string }>("SELECT properties FROM namespaces WHERE name = ?", namespace).toArray()[0];
    return row ? (JSON.parse(row.properties) as Record<string, string>) : null;
  }

  async listNamespaces(after: string | null, limit: number): Promise<Page<string>> {
    return this.run(() => page(this.sql.exec<{ name: string }>("SELECT name FROM namespaces WHERE name > ? ORDER BY name LIMIT ?", after ?? "", limit + 1).toArray().map((r) => r.name), limit));
  }

  async namespace(namespace: string): Promise<Record<string, string> | null> {
    return this.run(() => this.properties(namespace));
  }

  async createNamespace(namespace: string, properties: Record<string, string>): Promise<Record<string, string>> {
    return this.run(() => {
      const had = this.sql.exec<{ implicit: number }>("SELECT implicit FROM namespaces WHERE name = ?", namespace).toArray()[0];
      // A namespace that exists only because ingest created a table in it was never created by
      // anyone: creating it now just gives it its properties.
      if (had && !had.implicit) throw new FloeError("already_exists", `namespace ${namespace} already exists`, { details: { type: "AlreadyExistsException", namespace } });
      this.sql.exec("INSERT OR REPLACE INTO namespaces (name, properties, implicit) VALUES (?, ?, 0)", namespace, JSON.stringify(properties));
      return properties;
    });
  }

  /** Drops an empty namespace; one that holds tables is refused (409, `NamespaceNotEmptyException`). */
  async dropNamespace(namespace: string): Promise<void> {
    return this.run(() => {
      if (!this.properties(namespace)) throw noNamespace(namespace);
      const n = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tables WHERE namespace = ?", namespace).one().n;
      if (n > 0) throw new FloeError("already_exists", `namespace ${namespace} is not empty: it holds ${n} table(s); drop them first`, { details: { type: "NamespaceNotEmptyException", namespace, tables: n } });
      this.sql.exec("DELETE FROM namespaces WHERE name = ?", namespace);
    });
  }

  async updateNamespace(namespace: string, removals: string[], updates: Record<string, string>): Promise<NamespaceChange> {
    return this.run(() => {
      const props = this.properties(namespace);
      if (!props) throw noNamespace(namespace);
      const both = removals.filter((k) => k in updates);
      if (both.length) throw new FloeError("invalid_input", `properties ${both.join(", ")} are both removed and updated`, { details: { type: "UnprocessableEntityException", properties: both } });
      const removed = removals.filter((k) => k in props);
      const missing = removals.filter((k) => !(k in props));
      for (const k of removed) delete props[k];
      Object.assign(props, updates);
      this.sql.exec("UPDATE namespaces SET properties = ?, implicit = 0 WHERE name = ?", JSON.stringify(props), namespace);
      return { updated: Object.keys(updates), removed, missing };
    });
  }

  async listTables(namespace: string, after: string | null, limit: number): Promise<Page<string>> {
    return this.run(() => {
      if (!this.properties(namespace)) throw noNamespace(namespace);
      return page(this.sql.exec<{ name: string }>("SELECT name FROM tables WHERE namespace = ? AND name > ? ORDER BY name LIMIT ?", namespace, after ?? "", limit + 1).toArray().map((r) => r.name), limit);
    });
  }

  /** Reported by a table object when it created (or registered) a table. The namespace is created with it if need be. */
  async tableAdded(namespace: string, table: string): Promise<void> {
    return this.run(() => this.addTable(namespace, table));
  }

  /** Reported by a table object when its table was dropped. */
  async tableRemoved(namespace: string, table: string): Promise<void> {
    return this.run(() => void this.sql.exec("DELETE FROM tables WHERE namespace = ? AND name = ?", namespace, table));
  }
}

export function noNamespace(namespace: string): FloeError {
  return new FloeError("not_found", `namespace ${namespace} does not exist`, { details: { type: "NoSuchNamespaceException", namespace } });
}

function page(rows: string[], limit: number): Page<string> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? items[items.length - 1] : null };
}

async function prefixes(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const p = await bucket.list({ prefix, delimiter: "/", cursor });
    out.push(...p.delimitedPrefixes);
    cursor = p.truncated ? p.cursor : undefined;
  } while (cursor);
  return out;
}
