import { anyMatch, decodeBase64, fail, field, outsideWindow, type Provider, signedContent, unixSeconds } from "./common.js";

/**
 * Standard Webhooks (standardwebhooks.com, spec "Verifying webhook authenticity"; Svix, Resend,
 * Clerk…): headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, a
 * space-separated list of `v1,<base64 HMAC-SHA256>` of `${id}.${timestamp}.${raw body}`. The key
 * is the secret after its `whsec_` prefix, base64-decoded. Several entries exist for zero-downtime
 * rotation: any may match. Other versions (`v1a`, ed25519) are ignored.
 *
 * Svix sends the same headers named `svix-id`, `svix-timestamp`, `svix-signature` unless a
 * customer has them white-labelled (docs.svix.com, "Verifying Webhooks Manually"; Resend and Clerk
 * use the `svix-` names), so those are read when the `webhook-` ones are absent.
 *
 * The timestamp is signed, so the replay window holds: the reference libraries allow 5 minutes
 * either way. The id is the delivery id (the spec: it stays the same when a message is retried).
 */
export const standard: Provider = {
  // Without the prefix the whole secret is taken as base64, as the reference libraries do.
  key(secret) {
    const key = decodeBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
    return key && key.length > 0 ? key : null;
  },

  async check({ headers, body, keys, now, toleranceSeconds }) {
    const header = get(headers, "signature");
    if (header === null) return fail("missing_signature", "webhook-signature is missing");
    const id = get(headers, "id");
    if (!id) return fail("missing_header", "webhook-id is missing");
    const rawTs = get(headers, "timestamp");
    if (rawTs === null) return fail("missing_header", "webhook-timestamp is missing");
    const ts = unixSeconds(rawTs);
    if (ts === null) return fail("missing_header", "webhook-timestamp is not a unix time in seconds");
    const sigs: Uint8Array[] = [];
    for (const entry of header.trim().split(/\s+/)) {
      const at = entry.indexOf(",");
      if (at < 0 || entry.slice(0, at) !== "v1") continue;
      const d = decodeBase64(entry.slice(at + 1));
      if (d && d.length === 32) sigs.push(d);
    }
    if (sigs.length === 0) return fail("bad_signature", "webhook-signature has no v1,<base64> entry");
    if (!(await anyMatch("SHA-256", keys, signedContent(`${id}.${rawTs}.`, body), sigs))) {
      return fail("bad_signature", "no v1 entry of webhook-signature matches the body under any configured secret");
    }
    return outsideWindow(ts, now, toleranceSeconds) ?? { ok: true, signedAt: ts };
  },

  // The spec recommends a `type` in the payload (e.g. `user.created`).
  describe: (headers, payload) => ({ deliveryId: get(headers, "id"), eventType: field(payload, "type") }),

  keepHeader: (name) => ["webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp"].includes(name),
};

function get(headers: Headers, name: "id" | "timestamp" | "signature"): string | null {
  return headers.get(`webhook-${name}`) ?? headers.get(`svix-${name}`);
}
