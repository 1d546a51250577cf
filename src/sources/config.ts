import { z } from "zod";
import { FloeError } from "../errors.js";
import { parseTableName } from "../names.js";

/** The webhook signature schemes Floe verifies (see `verify.ts` and `providers/`). */
export const PROVIDERS = ["github", "stripe", "shopify", "slack", "standard", "hmac"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Column types an extracted value can be converted to (a subset of Iceberg's primitives). */
export const EXTRACT_TYPES = ["string", "long", "double", "boolean", "timestamptz"] as const;
export type ExtractType = (typeof EXTRACT_TYPES)[number];

// RFC 7230 §3.2.6 `token`: what a header field name may be made of.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// RFC 6901 §3: "" (the whole document) or `/`-separated tokens where `~` is only ever `~0` or `~1`.
const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

const HeaderName = z.string().regex(HEADER_NAME, "must be an HTTP header name (RFC 7230 token)");

const ExtractSchema = z
  .object({
    pointer: z.string().max(1024).regex(JSON_POINTER, "must be an RFC 6901 JSON Pointer: \"\" or /a/b, with ~0 for ~ and ~1 for /"),
    column: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be [A-Za-z_][A-Za-z0-9_]{0,127}"),
    type: z.enum(EXTRACT_TYPES),
  })
  .strict();
export type ExtractSpec = z.infer<typeof ExtractSchema>;

const HmacSchema = z
  .object({
    /** The header carrying the signature, e.g. `X-Signature`. */
    header: HeaderName,
    algorithm: z.enum(["sha256", "sha1"]),
    encoding: z.enum(["hex", "base64"]),
    /** Text before the encoded digest, e.g. `sha256=`; stripped before decoding. */
    prefix: z.string().max(32).optional(),
    /** A header whose value identifies the delivery (kept across the sender's retries). */
    idHeader: HeaderName.optional(),
    /** A header naming the event type. */
    eventTypeHeader: HeaderName.optional(),
  })
  .strict();
export type HmacSettings = z.infer<typeof HmacSchema>;

/**
 * One webhook source: who signs (`provider`), with what (`secrets`), and where its deliveries go
 * (`table`). Several secrets at once make rotation possible without downtime: a delivery passes if
 * any of them verifies it (Shopify, for one, keeps signing with the old secret for up to an hour
 * after a rotation: shopify.dev "Verify webhook deliveries").
 *
 * @example
 * const source = SourceConfigSchema.parse({ name: "gh", provider: "github", secrets: [env.GH_SECRET], table: "github_events" });
 */
export const SourceConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]{1,64}$/, "must be [a-z0-9_-]{1,64}"),
    provider: z.enum(PROVIDERS),
    secrets: z.array(z.string().min(1, "a secret may not be empty")).min(1, "at least one secret").max(5, "at most 5 secrets (old and new during a rotation)"),
    table: z.string().refine((t) => {
      try {
        parseTableName(t);
        return true;
      } catch {
        return false;
      }
    }, "must be a Floe table name: [a-z_][a-z0-9_]{0,127}, optionally namespace.table"),
    /** Replay window for schemes that sign a timestamp (stripe, slack, standard); default 300. */
    toleranceSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
    hmac: HmacSchema.optional(),
    extract: z.array(ExtractSchema).max(64).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.provider === "hmac" && !s.hmac) ctx.addIssue({ code: "custom", path: ["hmac"], message: "the hmac provider needs hmac settings (header, algorithm, encoding)" });
    if (s.provider !== "hmac" && s.hmac) ctx.addIssue({ code: "custom", path: ["hmac"], message: `hmac settings apply to the hmac provider only, not ${s.provider}` });
    const seen = new Set<string>();
    for (const [i, e] of (s.extract ?? []).entries()) {
      if (seen.has(e.column)) ctx.addIssue({ code: "custom", path: ["extract", i, "column"], message: `column ${e.column} is extracted twice` });
      seen.add(e.column);
    }
  });

export type SourceConfig = z.infer<typeof SourceConfigSchema>;

/** Default replay window, in seconds, where the scheme signs a timestamp (Stripe, Slack and Standard Webhooks all use 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Parses a source's configuration, refusing it whole with every problem named.
 *
 * @example
 * const source = parseSourceConfig(JSON.parse(raw)); // throws FloeError("invalid_input", "source config: secrets: at least one secret")
 */
export function parseSourceConfig(raw: unknown): SourceConfig {
  const r = SourceConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new FloeError("invalid_input", `source config: ${problems.join("; ")}`, { details: { errors: problems } });
}
