import { anyMatch, decodeHex, fail, field, outsideWindow, type Provider, signedContent, unixSeconds, utf8 } from "./common.js";

/**
 * Slack (api.slack.com, "Verifying requests from Slack"): `X-Slack-Signature` is `v0=` and the
 * hex HMAC-SHA256 of `v0:${X-Slack-Request-Timestamp}:${raw body}` keyed with the app's signing
 * secret. Slack's guide refuses a timestamp more than five minutes from local time as a possible
 * replay; we do the same in both directions (default 300 s).
 *
 * Every request is signed, `url_verification` included: its body `{type: "url_verification",
 * challenge}` must be answered with the challenge, exposed here as `challenge`. For Events API
 * callbacks the id is the body's `event_id`, which Slack keeps when it retries (with
 * `X-Slack-Retry-Num`), and the type is the inner `event.type` (e.g. `message`). Slash commands and
 * interactivity are form-encoded: no JSON, so the id falls back to the body's hash.
 */
export const slack: Provider = {
  key: (secret) => (secret === "" ? null : utf8.encode(secret)),

  async check({ headers, body, keys, now, toleranceSeconds }) {
    const header = headers.get("x-slack-signature");
    if (header === null) return fail("missing_signature", "X-Slack-Signature is missing");
    const rawTs = headers.get("x-slack-request-timestamp");
    if (rawTs === null) return fail("missing_header", "X-Slack-Request-Timestamp is missing");
    const ts = unixSeconds(rawTs);
    if (ts === null) return fail("missing_header", "X-Slack-Request-Timestamp is not a unix time in seconds");
    const m = /^v0=([0-9a-fA-F]{64})$/.exec(header.trim());
    const sig = m ? decodeHex(m[1]) : null;
    if (!sig) return fail("bad_signature", "X-Slack-Signature is not v0=<64 hex digits>");
    if (!(await anyMatch("SHA-256", keys, signedContent(`v0:${rawTs.trim()}:`, body), [sig]))) {
      return fail("bad_signature", "X-Slack-Signature does not match the body under any configured secret");
    }
    return outsideWindow(ts, now, toleranceSeconds) ?? { ok: true, signedAt: ts };
  },

  describe(_headers, payload) {
    const type = field(payload, "type");
    if (type === "url_verification") {
      const challenge = field(payload, "challenge");
      return { deliveryId: null, eventType: type, ...(challenge !== null ? { challenge } : {}) };
    }
    const inner = payload !== null && typeof payload === "object" ? field((payload as Record<string, unknown>).event, "type") : null;
    return { deliveryId: field(payload, "event_id"), eventType: type === "event_callback" ? (inner ?? type) : type };
  },

  keepHeader: (name) => name.startsWith("x-slack-") && name !== "x-slack-signature",
};
