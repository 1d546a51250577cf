import { anyMatch, decodeBase64, decodeHex, fail, type Provider, utf8 } from "./common.js";

/**
 * Any sender that signs the raw body with an HMAC and puts the digest in a header, as configured
 * in `source.hmac`: the header, `sha256` or `sha1`, `hex` or `base64`, an optional prefix such as
 * `sha256=`, and optional headers for the delivery id and the event type. Nothing signed carries a
 * time, so there is no replay window; without an id header, the id is the body's hash, which
 * still makes a replayed body a duplicate.
 */
export const generic: Provider = {
  key: (secret) => (secret === "" ? null : utf8.encode(secret)),

  async check({ source, headers, body, keys }) {
    const cfg = source.hmac;
    if (!cfg) return fail("bad_secret_config", `source ${source.name}: the hmac provider needs hmac settings`);
    const header = headers.get(cfg.header);
    if (header === null) return fail("missing_signature", `${cfg.header} is missing`);
    const prefix = cfg.prefix ?? "";
    const value = header.trim();
    if (!value.startsWith(prefix)) return fail("bad_signature", `${cfg.header} does not start with ${JSON.stringify(prefix)}`);
    const encoded = value.slice(prefix.length);
    const sig = cfg.encoding === "hex" ? decodeHex(encoded) : decodeBase64(encoded);
    const size = cfg.algorithm === "sha1" ? 20 : 32;
    if (!sig || sig.length !== size) return fail("bad_signature", `${cfg.header} is not a ${cfg.encoding} ${cfg.algorithm} digest`);
    if (!(await anyMatch(cfg.algorithm === "sha1" ? "SHA-1" : "SHA-256", keys, body, [sig]))) {
      return fail("bad_signature", `${cfg.header} does not match the body under any configured secret`);
    }
    if (cfg.idHeader && !headers.get(cfg.idHeader)) return fail("missing_header", `${cfg.idHeader} is missing`);
    return { ok: true, signedAt: null };
  },

  describe: (headers, _payload, source) => ({
    deliveryId: source.hmac?.idHeader ? headers.get(source.hmac.idHeader) : null,
    eventType: source.hmac?.eventTypeHeader ? headers.get(source.hmac.eventTypeHeader) : null,
  }),

  keepHeader(name, source) {
    const wanted = [source.hmac?.idHeader, source.hmac?.eventTypeHeader].filter((h): h is string => !!h).map((h) => h.toLowerCase());
    return wanted.includes(name) && name !== source.hmac?.header.toLowerCase();
  },
};
