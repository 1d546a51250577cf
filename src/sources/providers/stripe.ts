import { anyMatch, decodeHex, fail, field, outsideWindow, type Provider, signedContent, unixSeconds, utf8 } from "./common.js";

/**
 * Stripe (docs.stripe.com, "Verify webhook signatures manually"): `Stripe-Signature` is a
 * comma-separated list of `key=value`: `t` the unix time of signing, `v1` the hex HMAC-SHA256 of
 * `${t}.${raw body}` keyed with the endpoint's whole `whsec_…` secret as UTF-8 text (it is not
 * decoded, unlike Standard Webhooks). There may be several `v1` (Stripe signs with the old and
 * the new secret while one is being rolled): any may match. Every scheme but `v1` (such as `v0`)
 * is ignored, as Stripe advises, so a forged weaker signature cannot downgrade the check.
 *
 * Because `t` is signed, a replay window holds: Stripe's libraries refuse a `t` more than 300 s
 * old by default; we refuse the future too. The delivery id is the event's `id` (`evt_…`), which
 * Stripe keeps across retries, and the type its `type` (`invoice.paid`); both come from the body,
 * read only once the signature holds.
 */
export const stripe: Provider = {
  key: (secret) => (secret === "" ? null : utf8.encode(secret)),

  async check({ headers, body, keys, now, toleranceSeconds }) {
    const header = headers.get("stripe-signature");
    if (header === null) return fail("missing_signature", "Stripe-Signature is missing");
    let t: number | null = null;
    let tText = "";
    const sigs: Uint8Array[] = [];
    for (const part of header.split(",")) {
      const at = part.indexOf("=");
      if (at < 0) continue;
      const [k, v] = [part.slice(0, at).trim(), part.slice(at + 1).trim()];
      if (k === "t" && t === null) {
        t = unixSeconds(v);
        tText = v; // the signed text is the header's own digits, not the number re-printed
      }
      if (k === "v1") {
        const d = v.length === 64 ? decodeHex(v) : null;
        if (d) sigs.push(d);
      }
    }
    if (t === null) return fail("bad_signature", "Stripe-Signature has no t=<unix seconds>");
    if (sigs.length === 0) return fail("bad_signature", "Stripe-Signature has no v1=<64 hex digits> signature");
    if (!(await anyMatch("SHA-256", keys, signedContent(`${tText}.`, body), sigs))) {
      return fail("bad_signature", "no v1 signature in Stripe-Signature matches the body under any configured secret");
    }
    return outsideWindow(t, now, toleranceSeconds) ?? { ok: true, signedAt: t };
  },

  describe: (_headers, payload) => ({ deliveryId: field(payload, "id"), eventType: field(payload, "type") }),

  // Stripe's only header of its own is the signature, which is not kept.
  keepHeader: () => false,
};
