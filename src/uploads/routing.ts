import { z } from "zod";
import type { Env } from "../config.js";
import { FloeError } from "../errors.js";
import { formatFromName, type FormatGuess } from "../decode/index.js";
import { parseTableName } from "../names.js";

/** Where uploads wait to be ingested: `incoming/{table}/…` by default. */
export const INCOMING = "incoming/";

const Rule = z
  .object({
    prefix: z.string().min(1).refine((p) => !p.includes(".."), "may not contain .."),
    table: z.string(),
    format: z.enum(["ndjson", "json", "csv", "parquet", "arrow"]).optional(),
    gzip: z.boolean().optional(),
    csv: z.object({ delimiter: z.string().length(1).optional(), header: z.boolean().optional() }).strict().optional(),
    /** What happens to the object once ingested: kept (default), deleted, or moved under `archive/`. */
    after: z.enum(["keep", "delete", "archive"]).optional(),
    /** Parquet whose columns fit the table is registered as it is (default) or always rewritten. */
    parquet: z.enum(["register", "rewrite"]).optional(),
  })
  .strict();
export type UploadRule = z.infer<typeof Rule>;

export interface Route {
  table: string;
  format: FormatGuess;
  rule?: UploadRule;
  after: "keep" | "delete" | "archive";
  parquet: "register" | "rewrite";
}

let cached: { raw: string; rules: UploadRule[] } | undefined;

/** Prefix → table rules from `FLOE_UPLOAD_RULES` (a JSON array), longest prefix first. */
export function uploadRules(env: Env): UploadRule[] {
  const raw = env.FLOE_UPLOAD_RULES ?? "[]";
  if (cached && cached.raw === raw) return cached.rules;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new FloeError("misconfigured", `configuration: FLOE_UPLOAD_RULES is not JSON (${(e as Error).message})`);
  }
  const r = z.array(Rule).safeParse(json);
  if (!r.success) throw new FloeError("misconfigured", `configuration: FLOE_UPLOAD_RULES: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const rules = [...r.data].sort((a, b) => b.prefix.length - a.prefix.length);
  cached = { raw, rules };
  return rules;
}

/**
 * Which table an object goes to, in which format; or an error saying why it cannot be ingested
 * (such objects get a failed ledger entry). A key with a `..` segment, or whose table part is not
 * a valid table name, is refused rather than guessed at.
 */
export function routeObject(env: Env, key: string, contentType?: string): Route {
  const rule = uploadRules(env).find((r) => key.startsWith(r.prefix));
  let table: string;
  if (rule) table = rule.table;
  else if (key.startsWith(INCOMING)) table = key.slice(INCOMING.length).split("/")[0];
  else throw new FloeError("invalid_input", `object ${key} is under no upload prefix (incoming/{table}/… or a rule)`, { details: { key } });
  const name = parseTableName(table).full;
  if (key.split("/").some((seg) => seg === ".." || seg === ".")) throw new FloeError("invalid_input", `object key ${JSON.stringify(key)} has a . or .. segment`, { details: { key, table: name } });
  const guessed = formatFromName(key, contentType);
  const format = rule?.format ? { format: rule.format, gzip: rule.gzip ?? guessed?.gzip ?? false } : guessed;
  if (!format) throw new FloeError("invalid_input", `cannot tell the format of ${key}: use an extension (.ndjson .jsonl .json .csv .tsv .parquet .arrow, optionally .gz) or a rule`, { details: { key, table: name } });
  return { table: name, format, rule, after: rule?.after ?? "keep", parquet: rule?.parquet ?? "register" };
}
