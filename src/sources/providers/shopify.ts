import { anyMatch, decodeBase64, fail, type Provider, utf8 } from "./common.js";

/**
 * Shopify (shopify.dev, "Verify webhook deliveries"): `X-Shopify-Hmac-Sha256` is the base64
 * HMAC-SHA256 of the raw body keyed with the app's client secret. After a secret rotation Shopify
 * may sign with the old secret for up to an hour, hence several configured secrets.
 *
 * No replay window: Shopify also sends `X-Shopify-Triggered-At`, but the HMAC covers the body
 * only, so that header is not authenticated (a replayer can set it to anything), and it is when
 * the event fired, which retries spread over hours keep. Replays are caught by dedupe instead, on
 * `X-Shopify-Webhook-Id`, the id Shopify's docs name as the key for detecting duplicates
 * (shopify-app-remix `authenticate.webhook`: "webhookId … the idempotency key"). The topic
 * (`X-Shopify-Topic`, e.g. `orders/create`) is the event type; `X-Shopify-Event-Id` is kept among
 * the headers.
 */
export const shopify: Provider = {
  key: (secret) => (secret === "" ? null : utf8.encode(secret)),

  async check({ headers, body, keys }) {
    const header = headers.get("x-shopify-hmac-sha256");
    if (header === null) return fail("missing_signature", "X-Shopify-Hmac-Sha256 is missing");
    const sig = decodeBase64(header.trim());
    if (!sig || sig.length !== 32) return fail("bad_signature", "X-Shopify-Hmac-Sha256 is not a base64 SHA-256 digest");
    if (!(await anyMatch("SHA-256", keys, body, [sig]))) return fail("bad_signature", "X-Shopify-Hmac-Sha256 does not match the body under any configured secret");
    if (!headers.get("x-shopify-webhook-id")) return fail("missing_header", "X-Shopify-Webhook-Id is missing");
    return { ok: true, signedAt: null };
  },

  describe: (headers) => ({ deliveryId: headers.get("x-shopify-webhook-id"), eventType: headers.get("x-shopify-topic") }),

  keepHeader: (name) => name.startsWith("x-shopify-") && name !== "x-shopify-hmac-sha256",
};
