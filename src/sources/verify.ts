import { DEFAULT_TOLERANCE_SECONDS, type Provider as ProviderName, type SourceConfig } from "./config.js";
import { fail, type Provider, sha256Hex, type VerifiedDelivery } from "./providers/common.js";
import { github } from "./providers/github.js";
import { generic } from "./providers/hmac.js";
import { shopify } from "./providers/shopify.js";
import { slack } from "./providers/slack.js";
import { standard } from "./providers/standard.js";
import { stripe } from "./providers/stripe.js";

export type { VerifiedDelivery, VerifiedOk, VerifyFailure, VerifyFailureReason } from "./providers/common.js";
export { constantTimeEqual } from "./providers/common.js";
export type { SourceConfig } from "./config.js";

const PROVIDERS: Record<ProviderName, Provider> = { github, stripe, shopify, slack, standard, hmac: generic };

/**
 * Verifies one webhook delivery against its source's secrets, on the raw bytes, before anything
 * is parsed; then, and only then, reads its id and type (from headers, or from the JSON body for
 * Stripe and Slack). Never throws for anything a sender controls: a refusal is a value with a
 * `reason` the HTTP route maps to a status (401 for signatures and missing headers alike, 500 for
 * `bad_secret_config`, which is Floe's own misconfiguration).
 *
 * Any configured secret may match (rotation). Where the scheme signs a timestamp (Stripe, Slack,
 * Standard Webhooks) it must be within `source.toleranceSeconds` (default 300) of `now`, past or
 * future, else `expired`; the signature is checked first, so `expired` means an authentic but
 * stale delivery (a replay, or a clock off). When the scheme gives no id, or the body lacks it,
 * `deliveryId` is the SHA-256 hex of the body, so a replayed body is still a duplicate.
 *
 * @param now ms since the epoch: the clock is injected so that tests (and published vectors
 *   signed years ago) can be checked at any time.
 * @example
 * const body = new Uint8Array(await request.arrayBuffer());
 * const v = await verifyDelivery(source, request.headers, body, Date.now());
 * if (!v.ok) return c.json({ error: { code: "unauthorized", message: v.message } }, 401);
 * if (v.challenge !== undefined) return c.text(v.challenge);      // Slack url_verification
 * enqueue({ id: v.deliveryId, type: v.eventType, payload: v.payload, headers: v.providerHeaders });
 */
export async function verifyDelivery(source: SourceConfig, headers: Headers, rawBody: Uint8Array, now: number): Promise<VerifiedDelivery> {
  const provider = Object.hasOwn(PROVIDERS, source.provider) ? PROVIDERS[source.provider] : undefined;
  if (!provider) return fail("bad_secret_config", `source ${source.name}: unknown provider ${JSON.stringify(source.provider)}`);
  if (!Array.isArray(source.secrets) || source.secrets.length === 0) return fail("bad_secret_config", `source ${source.name}: no secret configured`);
  const keys: Uint8Array[] = [];
  for (const [i, secret] of source.secrets.entries()) {
    const key = typeof secret === "string" ? provider.key(secret) : null;
    // Name the position, never the secret.
    if (!key) return fail("bad_secret_config", `source ${source.name}: secret #${i + 1} cannot be used as a ${source.provider} key${source.provider === "standard" ? " (expected whsec_ followed by base64)" : " (empty)"}`);
    keys.push(key);
  }

  const checked = await provider.check({ source, headers, body: rawBody, keys, now, toleranceSeconds: source.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS });
  if (!checked.ok) return checked;

  const payload = parseJson(rawBody);
  const bodyIsJson = payload !== NOT_JSON;
  const d = provider.describe(headers, bodyIsJson ? payload : undefined, source);
  const providerHeaders: Record<string, string> = {};
  headers.forEach((value, name) => {
    const n = name.toLowerCase();
    if (provider.keepHeader(n, source)) providerHeaders[n] = value;
  });
  return {
    ok: true,
    deliveryId: d.deliveryId ?? (await sha256Hex(rawBody)),
    eventType: d.eventType,
    receivedAt: new Date(now).toISOString(),
    signedAt: checked.signedAt === null ? null : new Date(checked.signedAt * 1000).toISOString(),
    providerHeaders,
    bodyIsJson,
    payload: bodyIsJson ? payload : undefined,
    ...(d.challenge !== undefined ? { challenge: d.challenge } : {}),
    ...(d.ping ? { ping: true as const } : {}),
  };
}

const NOT_JSON = Symbol("not json");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body as JSON, or NOT_JSON when it is not UTF-8 JSON (form-encoded Slack commands, XML…). */
function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(body));
  } catch {
    return NOT_JSON;
  }
}
