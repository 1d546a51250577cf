import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config.js";
import { FloeError, toRpc } from "../errors.js";
import { originAllowed, type Principal, type RateTier, type Scope } from "../access/scopes.js";
import { hashSecret, newToken, sameSecret, type TokenParts } from "../access/tokens.js";

/** The name the deployment's one token registry is addressed by. */
export const REGISTRY_OBJECT = "tokens";

export interface NewToken {
  name: string;
  kind: "secret" | "public";
  scopes: Scope[];
  tables: string[];
  origins: string[];
  rateLimit: RateTier;
  /** When it stops working (ISO time), or null: never. */
  expiresAt: string | null;
}

/** A token as listed: never its secret. */
export interface TokenEntry extends NewToken {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
}

type Row = {
  id: string;
  name: string;
  kind: string;
  hash: string;
  scopes: string;
  tables: string;
  origins: string;
  rate_limit: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
};

/** How often a token's last use is written (a busy token would otherwise write on every request). */
const LAST_USED_EVERY_MS = 60_000;

/**
 * The deployment's minted tokens, in SQLite: one object, asked once per request that carries a
 * minted token (never cached in the Worker, so a revocation holds from the next request on).
 * Revoked tokens are deleted: nothing of them is left to match.
 */
export class TokenRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL, scopes TEXT NOT NULL,
        tables TEXT NOT NULL, origins TEXT NOT NULL, rate_limit TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER, expires_at INTEGER)`);
    });
  }

  /** Mints a token; its secret is in the answer and nowhere else. */
  async create(t: NewToken): Promise<TokenEntry & { token: string }> {
    const made = newToken(t.kind);
    const now = Date.now();
    this.sql.exec("INSERT INTO tokens (id, name, kind, hash, scopes, tables, origins, rate_limit, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      made.id, t.name, t.kind, await hashSecret(made.secret), JSON.stringify(t.scopes), JSON.stringify(t.tables), JSON.stringify(t.origins), t.rateLimit, now, t.expiresAt ? Date.parse(t.expiresAt) : null);
    return { ...t, id: made.id, token: made.token, createdAt: new Date(now).toISOString(), lastUsedAt: null };
  }

  /** The principal a presented token stands for, or null (unknown, revoked, or a wrong secret). */
  async verify(parts: TokenParts): Promise<Principal | null> {
    const row = this.sql.exec<Row>("SELECT * FROM tokens WHERE id = ?", parts.id).toArray()[0];
    // Compared in constant time even when the id is unknown, so timing tells nothing of the secret.
    const ok = await sameSecret(await hashSecret(parts.secret), row?.hash ?? "0".repeat(64));
    const now = Date.now();
    if (!row || !ok || row.kind !== parts.kind || (row.expires_at !== null && row.expires_at <= now)) return null;
    if (!row.last_used_at || now - row.last_used_at >= LAST_USED_EVERY_MS) this.sql.exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", now, row.id);
    const e = entry(row);
    return { id: e.id, name: e.name, kind: e.kind, scopes: e.scopes, tables: e.tables, origins: e.origins, rateLimit: e.rateLimit };
  }

  async list(): Promise<TokenEntry[]> {
    return this.sql.exec<Row>("SELECT * FROM tokens ORDER BY created_at, id").toArray().map(entry);
  }

  /** Revokes a token: the next request that carries it is refused. */
  async revoke(id: string): Promise<TokenEntry> {
    try {
      const row = this.sql.exec<Row>("SELECT * FROM tokens WHERE id = ?", id).toArray()[0];
      if (!row) throw new FloeError("not_found", `no token ${id}`, { details: { id } });
      this.sql.exec("DELETE FROM tokens WHERE id = ?", id);
      return entry(row);
    } catch (e) {
      throw toRpc(e);
    }
  }

  /** Whether any token lists this browser origin (a CORS preflight carries no token to ask about). */
  async knowsOrigin(origin: string): Promise<boolean> {
    return this.sql.exec<{ origins: string }>("SELECT origins FROM tokens").toArray().some((r) => originAllowed(JSON.parse(r.origins) as string[], origin));
  }
}

function entry(r: Row): TokenEntry {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as TokenEntry["kind"],
    scopes: JSON.parse(r.scopes),
    tables: JSON.parse(r.tables),
    origins: JSON.parse(r.origins),
    rateLimit: r.rate_limit as RateTier,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
    expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
  };
}
