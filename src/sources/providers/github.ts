import { anyMatch, decodeHex, fail, type Provider, utf8 } from "./common.js";

/**
 * GitHub (docs.github.com, "Validating webhook deliveries"): `X-Hub-Signature-256` is `sha256=`
 * and the hex HMAC-SHA256 of the raw body, keyed with the webhook secret, compared in constant
 * time. The legacy SHA-1 `X-Hub-Signature` is not accepted: taking it would let anyone who strips
 * the SHA-256 header downgrade the check.
 *
 * Nothing signed carries a time, so there is no replay window. Replays are caught by dedupe
 * instead: `X-GitHub-Delivery` is a GUID per event that a redelivery keeps (github/docs#32822),
 * and it is the delivery id. `X-GitHub-Event` is the event type; `ping` is sent when a webhook is
 * created and carries no event to store.
 */
export const github: Provider = {
  key: (secret) => (secret === "" ? null : utf8.encode(secret)),

  async check({ headers, body, keys }) {
    const header = headers.get("x-hub-signature-256");
    if (header === null) return fail("missing_signature", "X-Hub-Signature-256 is missing (is a secret set on the GitHub webhook?)");
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
    const sig = m ? decodeHex(m[1]) : null;
    if (!sig) return fail("bad_signature", "X-Hub-Signature-256 is not sha256=<64 hex digits>");
    if (!(await anyMatch("SHA-256", keys, body, [sig]))) return fail("bad_signature", "X-Hub-Signature-256 does not match the body under any configured secret");
    if (!headers.get("x-github-delivery")) return fail("missing_header", "X-GitHub-Delivery is missing");
    return { ok: true, signedAt: null };
  },

  describe(headers) {
    const eventType = headers.get("x-github-event");
    return { deliveryId: headers.get("x-github-delivery"), eventType, ...(eventType === "ping" ? { ping: true as const } : {}) };
  },

  keepHeader: (name) => name.startsWith("x-github-"),
};
