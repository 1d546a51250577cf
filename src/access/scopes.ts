import { FloeError } from "../errors.js";

/**
 * Who may do what. A token has scopes and table patterns:
 * - `ingest`: send events, beacons and uploads to its tables, and follow its requests' receipts;
 * - `read`: the status, snapshots, uploads ledger and listing of its tables;
 * - `catalog`: read its tables through the Iceberg REST catalog;
 * - `admin`: everything on its tables (define, drop, maintain, quarantine, catalog writes). An
 *   admin token for every table (`*`) also manages tokens, webhooks and the reconciler.
 *
 * Patterns name tables as `namespace.table` (a bare name is in `default`); `*` stands for any run
 * of name characters, so `shop.*` is every table of namespace `shop` and `*` every table.
 */
export const SCOPES = ["ingest", "read", "catalog", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The token's id (`bootstrap:admin` for the environment's tokens): what rate limits count by. */
  id: string;
  name: string;
  kind: "bootstrap" | "secret" | "public";
  scopes: Scope[];
  tables: string[];
  /** Browser origins (`https://shop.example`) that may use it cross-origin; `*` any. */
  origins: string[];
  rateLimit: RateTier;
}

export const RATE_TIERS = ["standard", "low"] as const;
export type RateTier = (typeof RATE_TIERS)[number];

const PATTERN = /^(?:\*|[a-z_*][a-z0-9_*]{0,127}(?:\.[a-z_*][a-z0-9_*]{0,127})?)$/;

/** Refuses a table pattern that could never match a table name (names are `[a-z_][a-z0-9_]*`). */
export function checkPattern(p: string): string {
  if (!PATTERN.test(p)) throw new FloeError("invalid_input", `table pattern ${JSON.stringify(p.slice(0, 140))}: use namespace.table, a bare table (namespace default), with * for any name characters (shop.*, *)`, { details: { field: "tables" } });
  return p === "*" || p.includes(".") ? p : `default.${p}`;
}

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const full = pattern === "*" ? "*.*" : pattern.includes(".") ? pattern : `default.${pattern}`;
    re = new RegExp(`^${full.split("*").map((s) => s.replace(/\./g, "\\.")).join("[a-z0-9_]*")}$`);
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether a table (its full `namespace.table` name) is among the patterns. */
export function tableAllowed(patterns: readonly string[], table: string): boolean {
  return patterns.some((p) => regexOf(p).test(table));
}

/** Whether the principal holds the scope (admin holds them all). */
export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes(scope) || p.scopes.includes("admin");
}

/** Whether the principal is an admin of every table: it may manage tokens and deployment-wide things. */
export function isSuperAdmin(p: Principal): boolean {
  return p.scopes.includes("admin") && p.tables.includes("*");
}

/**
 * Refuses (403) a principal that lacks every one of `scopes`, or whose patterns do not include
 * `table`. The refusal names the scope missing and never says whether the table exists.
 */
export function authorize(p: Principal, scopes: readonly Scope[], table?: string): void {
  if (!scopes.some((s) => hasScope(p, s))) {
    throw new FloeError("forbidden", `this token lacks the ${scopes.join(" or ")} scope (it has ${p.scopes.join(", ")})`, { details: { missingScope: scopes[0], scopes: p.scopes } });
  }
  if (table !== undefined && !tableAllowed(p.tables, table)) {
    throw new FloeError("forbidden", `this token's tables (${p.tables.join(", ")}) do not include ${table}`, { details: { table, tables: p.tables } });
  }
}

/** Whether a cross-origin browser request from `origin` may use a token with these `origins`. */
export function originAllowed(origins: readonly string[], origin: string): boolean {
  return origins.includes("*") || origins.includes(origin);
}
