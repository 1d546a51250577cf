import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSourceConfig, type SourceConfig } from "../../src/sources/config.js";
import { constantTimeEqual, verifyDelivery, type VerifiedDelivery } from "../../src/sources/verify.js";

// Signatures here are made with node:crypto, following each provider's documented scheme: an
// implementation independent of the one under test. GitHub and Standard Webhooks also have
// published vectors (test/fixtures/webhook-signature-vectors.json).
const vectors = JSON.parse(readFileSync(new URL("../fixtures/webhook-signature-vectors.json", import.meta.url), "utf8"));
const bytes = (s: string) => new TextEncoder().encode(s);
const hex = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest("hex");
const b64 = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest("base64");
const whsecKey = (secret: string) => Buffer.from(secret.slice("whsec_".length), "base64");

const T = 1_767_225_600; // 2026-01-01T00:00:00Z, the clock of most tests
const NOW = T * 1000;

const src = (provider: SourceConfig["provider"], secrets: string[], extra: Partial<SourceConfig> = {}): SourceConfig => ({ name: "s", provider, secrets, table: "hooks", ...extra });
const verify = (s: SourceConfig, h: Record<string, string>, body: string, now = NOW) => verifyDelivery(s, new Headers(h), bytes(body), now);
const reason = (v: VerifiedDelivery) => (v.ok ? "ok" : v.reason);

/** One provider, as the table-driven suite below sees it. */
interface Case {
  provider: SourceConfig["provider"];
  secrets: [old: string, fresh: string];
  body: string;
  /** Headers the provider would send for `body`, signed with `secret` at unix time `t`. */
  sign(secret: string, body: string, t: number): Record<string, string>;
  signatureHeader: string;
  /** A header (other than the signature) whose absence must be refused, and the reason. */
  required?: { header: string; reason: string };
  hasTimestamp: boolean;
  /** The headers kept in `providerHeaders`. */
  kept: string[];
  expect: { deliveryId: string; eventType: string | null };
  extra?: Partial<SourceConfig>;
}

const cases: Case[] = [
  {
    provider: "github",
    secrets: ["gh-old-secret", "gh-new-secret"],
    body: '{"action":"opened","repository":{"full_name":"octo/hello"}}',
    sign: (s, body) => ({ "X-Hub-Signature-256": `sha256=${hex(s, body)}`, "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event": "issues", "X-GitHub-Hook-ID": "292430182" }),
    signatureHeader: "X-Hub-Signature-256",
    required: { header: "X-GitHub-Delivery", reason: "missing_header" },
    hasTimestamp: false,
    kept: ["x-github-delivery", "x-github-event", "x-github-hook-id"],
    expect: { deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", eventType: "issues" },
  },
  {
    provider: "stripe",
    secrets: ["whsec_oldStripeSecret", "whsec_newStripeSecret"],
    body: '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid","livemode":false,"data":{"object":{"id":"in_1"}}}',
    sign: (s, body, t) => ({ "Stripe-Signature": `t=${t},v1=${hex(s, `${t}.${body}`)},v0=${"0".repeat(64)}` }),
    signatureHeader: "Stripe-Signature",
    hasTimestamp: true,
    kept: [],
    expect: { deliveryId: "evt_1NG8Du2eZvKYlo2CUI79vXWy", eventType: "invoice.paid" },
  },
  {
    provider: "shopify",
    secrets: ["shpss_old", "shpss_new"],
    body: '{"id":820982911946154508,"email":"jon@example.com"}',
    sign: (s, body) => ({ "X-Shopify-Hmac-Sha256": b64(s, body), "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "shop.myshopify.com", "X-Shopify-Triggered-At": "2025-01-01T00:00:00Z" }),
    signatureHeader: "X-Shopify-Hmac-Sha256",
    required: { header: "X-Shopify-Webhook-Id", reason: "missing_header" },
    hasTimestamp: false,
    kept: ["x-shopify-shop-domain", "x-shopify-topic", "x-shopify-triggered-at", "x-shopify-webhook-id"],
    expect: { deliveryId: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", eventType: "orders/create" },
  },
  {
    provider: "slack",
    secrets: ["8f742231b10e8888abcd99yyyzzz85a5", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"],
    body: '{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}',
    sign: (s, body, t) => ({ "X-Slack-Signature": `v0=${hex(s, `v0:${t}:${body}`)}`, "X-Slack-Request-Timestamp": String(t) }),
    signatureHeader: "X-Slack-Signature",
    required: { header: "X-Slack-Request-Timestamp", reason: "missing_header" },
    hasTimestamp: true,
    kept: ["x-slack-request-timestamp"],
    expect: { deliveryId: "Ev08MFMKH6", eventType: "app_mention" },
  },
  {
    provider: "standard",
    secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + Buffer.from("a fresh 32-byte signing secret!!").toString("base64")],
    body: '{"type":"user.created","data":{"id":"user_1"}}',
    sign: (s, body, t) => ({ "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "webhook-timestamp": String(t), "webhook-signature": `v1,${b64(whsecKey(s), `msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.${t}.${body}`)}` }),
    signatureHeader: "webhook-signature",
    required: { header: "webhook-id", reason: "missing_header" },
    hasTimestamp: true,
    kept: ["webhook-id", "webhook-timestamp"],
    expect: { deliveryId: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", eventType: "user.created" },
  },
  {
    provider: "hmac",
    secrets: ["generic-old", "generic-new"],
    body: '{"kind":"thing.happened"}',
    sign: (s, body) => ({ "X-Signature": hex(s, body), "X-Delivery": "d-42", "X-Event": "thing.happened" }),
    signatureHeader: "X-Signature",
    required: { header: "X-Delivery", reason: "missing_header" },
    hasTimestamp: false,
    kept: ["x-delivery", "x-event"],
    expect: { deliveryId: "d-42", eventType: "thing.happened" },
    extra: { hmac: { header: "X-Signature", algorithm: "sha256", encoding: "hex", idHeader: "X-Delivery", eventTypeHeader: "X-Event" } },
  },
];

describe.each(cases)("$provider", (c) => {
  const [oldSecret, newSecret] = c.secrets;
  const source = (secrets: string[], extra: Partial<SourceConfig> = {}) => src(c.provider, secrets, { ...c.extra, ...extra });

  it("accepts a valid delivery and reads its id and type", async () => {
    const v = await verify(source([newSecret]), c.sign(newSecret, c.body, T), c.body);
    expect(v).toMatchObject({ ok: true, ...c.expect, receivedAt: "2026-01-01T00:00:00.000Z", bodyIsJson: true, payload: JSON.parse(c.body) });
    if (v.ok) expect(v.signedAt).toBe(c.hasTimestamp ? "2026-01-01T00:00:00.000Z" : null);
  });

  it("refuses a tampered body", async () => {
    const h = c.sign(newSecret, c.body, T);
    expect(reason(await verify(source([newSecret]), h, c.body.replace("}", ',"x":1}')))).toBe("bad_signature");
    expect(reason(await verify(source([newSecret]), h, c.body + " "))).toBe("bad_signature");
  });

  it("refuses a signature made with another secret", async () => {
    expect(reason(await verify(source([newSecret]), c.sign(oldSecret, c.body, T), c.body))).toBe("bad_signature");
  });

  it("accepts old and new secrets during a rotation, and only the new one after it", async () => {
    const signedOld = c.sign(oldSecret, c.body, T);
    const signedNew = c.sign(newSecret, c.body, T);
    expect(reason(await verify(source([oldSecret, newSecret]), signedOld, c.body))).toBe("ok");
    expect(reason(await verify(source([oldSecret, newSecret]), signedNew, c.body))).toBe("ok");
    expect(reason(await verify(source([newSecret]), signedOld, c.body))).toBe("bad_signature");
    expect(reason(await verify(source([newSecret]), signedNew, c.body))).toBe("ok");
  });

  it("refuses a missing signature header", async () => {
    const h = c.sign(newSecret, c.body, T);
    delete h[c.signatureHeader];
    const v = await verify(source([newSecret]), h, c.body);
    expect(reason(v)).toBe("missing_signature");
    if (!v.ok) expect(v.message).toContain(c.signatureHeader.startsWith("webhook-") ? "webhook-signature" : c.signatureHeader);
  });

  const required = c.required;
  if (required) {
    it(`refuses a delivery without ${required.header}`, async () => {
      const h = c.sign(newSecret, c.body, T);
      delete h[required.header];
      expect(reason(await verify(source([newSecret]), h, c.body))).toBe(required.reason);
    });
  }

  it("keeps the provider's own headers, lower-cased, and never the signature", async () => {
    const h = { ...c.sign(newSecret, c.body, T), "Content-Type": "application/json", Authorization: "Bearer x" };
    const v = await verify(source([newSecret]), h, c.body);
    if (!v.ok) throw new Error(v.message);
    expect(Object.keys(v.providerHeaders).sort()).toEqual(c.kept);
    expect(Object.keys(v.providerHeaders)).not.toContain(c.signatureHeader.toLowerCase());
  });

  if (c.hasTimestamp) {
    it("enforces the replay window on the signed timestamp, past and future", async () => {
      const s = source([newSecret]);
      expect(reason(await verify(s, c.sign(newSecret, c.body, T - 301), c.body))).toBe("expired");
      expect(reason(await verify(s, c.sign(newSecret, c.body, T + 301), c.body))).toBe("expired");
      expect(reason(await verify(s, c.sign(newSecret, c.body, T - 300), c.body))).toBe("ok");
      expect(reason(await verify(s, c.sign(newSecret, c.body, T + 300), c.body))).toBe("ok");
      const wider = source([newSecret], { toleranceSeconds: 3600 });
      expect(reason(await verify(wider, c.sign(newSecret, c.body, T - 3000), c.body))).toBe("ok");
      expect(reason(await verify(wider, c.sign(newSecret, c.body, T - 3601), c.body))).toBe("expired");
    });

    it("checks the signature before the window: a forged stale delivery is bad_signature, not expired", async () => {
      expect(reason(await verify(source([newSecret]), c.sign(oldSecret, c.body, T - 3600), c.body))).toBe("bad_signature");
    });
  } else {
    it("has no replay window: nothing signed carries a time (redelivery dedupe covers replays)", async () => {
      const h = c.sign(newSecret, c.body, T);
      expect(reason(await verify(source([newSecret]), h, c.body, NOW + 30 * 86_400_000))).toBe("ok");
    });
  }
});

describe("published vectors", () => {
  it("GitHub: the example in 'Validating webhook deliveries'", async () => {
    const g = vectors.github;
    const v = await verify(src("github", [g.secret]), { "X-Hub-Signature-256": g.header, "X-GitHub-Delivery": "d1", "X-GitHub-Event": "push" }, g.payload);
    expect(v).toMatchObject({ ok: true, deliveryId: "d1", eventType: "push", bodyIsJson: false });
    expect(reason(await verify(src("github", [g.secret]), { "X-Hub-Signature-256": g.header, "X-GitHub-Delivery": "d1" }, "Hello, World?"))).toBe("bad_signature");
  });

  it("Standard Webhooks: the Svix example, checked at its own timestamp", async () => {
    const s = vectors.standard_webhooks;
    const h = { "webhook-id": s["webhook-id"], "webhook-timestamp": s["webhook-timestamp"], "webhook-signature": s["webhook-signature"] };
    const at = Number(s["webhook-timestamp"]) * 1000;
    expect(await verify(src("standard", [s.secret]), h, s.payload, at)).toMatchObject({ ok: true, deliveryId: s["webhook-id"], signedAt: "2021-02-25T15:02:10.000Z" });
    expect(reason(await verify(src("standard", [s.secret]), h, s.payload, Date.now()))).toBe("expired");
    // Svix's un-white-labelled header names (Resend, Clerk) carry the same scheme.
    const svix = { "svix-id": s["webhook-id"], "svix-timestamp": s["webhook-timestamp"], "svix-signature": s["webhook-signature"] };
    expect(await verify(src("standard", [s.secret]), svix, s.payload, at)).toMatchObject({ ok: true, deliveryId: s["webhook-id"], providerHeaders: { "svix-id": s["webhook-id"] } });
  });
});

describe("provider details", () => {
  it("GitHub: ping is flagged; the legacy SHA-1 header alone is not accepted", async () => {
    const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
    const v = await verify(src("github", ["k"]), { "X-Hub-Signature-256": `sha256=${hex("k", body)}`, "X-GitHub-Delivery": "p1", "X-GitHub-Event": "ping" }, body);
    expect(v).toMatchObject({ ok: true, ping: true, eventType: "ping", providerHeaders: { "x-github-delivery": "p1", "x-github-event": "ping" } });
    const sha1 = `sha1=${createHmac("sha1", "k").update(body).digest("hex")}`;
    expect(reason(await verify(src("github", ["k"]), { "X-Hub-Signature": sha1, "X-GitHub-Delivery": "p1" }, body))).toBe("missing_signature");
  });

  it("Stripe: any of several v1 may match; v0 alone is ignored; a header without t is refused", async () => {
    const body = '{"id":"evt_2","type":"charge.succeeded"}';
    const good = hex("whsec_k", `${T}.${body}`);
    expect(reason(await verify(src("stripe", ["whsec_k"]), { "Stripe-Signature": `t=${T},v1=${"ab".repeat(32)},v1=${good}` }, body))).toBe("ok");
    expect(reason(await verify(src("stripe", ["whsec_k"]), { "Stripe-Signature": `t=${T},v0=${good}` }, body))).toBe("bad_signature");
    expect(reason(await verify(src("stripe", ["whsec_k"]), { "Stripe-Signature": `v1=${good}` }, body))).toBe("bad_signature");
    // The signed timestamp is the one in the header: moving it breaks the signature.
    expect(reason(await verify(src("stripe", ["whsec_k"]), { "Stripe-Signature": `t=${T + 1},v1=${good}` }, body))).toBe("bad_signature");
  });

  it("Standard Webhooks: any v1 entry may match, other versions are ignored, the timestamp is required", async () => {
    const key = whsecKey(cases[4].secrets[0]);
    const body = '{"type":"a.b"}';
    const sig = b64(key, `msg_1.${T}.${body}`);
    const h = (signature: string, ts: string | null = String(T)) => ({ "webhook-id": "msg_1", "webhook-signature": signature, ...(ts === null ? {} : { "webhook-timestamp": ts }) });
    const s = src("standard", [cases[4].secrets[0]]);
    expect(reason(await verify(s, h(`v1,${b64(key, "other")} v1,${sig}`), body))).toBe("ok");
    expect(reason(await verify(s, h(`v1a,${sig}`), body))).toBe("bad_signature");
    expect(reason(await verify(s, h(`v1,${sig}`, null), body))).toBe("missing_header");
    expect(reason(await verify(s, h(`v1,${sig}`, "2026-01-01T00:00:00Z"), body))).toBe("missing_header");
  });

  it("falls back to the body's SHA-256 when the body is not JSON or carries no id", async () => {
    const form = "token=x&team_id=T1&command=%2Fweather&text=94070";
    const sha = createHash("sha256").update(form).digest("hex");
    const v = await verify(src("slack", ["sk"]), { "X-Slack-Signature": `v0=${hex("sk", `v0:${T}:${form}`)}`, "X-Slack-Request-Timestamp": String(T) }, form);
    expect(v).toMatchObject({ ok: true, deliveryId: sha, bodyIsJson: false, payload: undefined, eventType: null });
    const noId = '{"type":"ping"}';
    const w = await verify(src("stripe", ["whsec_k"]), { "Stripe-Signature": `t=${T},v1=${hex("whsec_k", `${T}.${noId}`)}` }, noId);
    expect(w).toMatchObject({ ok: true, deliveryId: createHash("sha256").update(noId).digest("hex"), bodyIsJson: true });
  });

  it("Slack: url_verification exposes the challenge to answer with", async () => {
    const body = '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    const v = await verify(src("slack", ["sk"]), { "X-Slack-Signature": `v0=${hex("sk", `v0:${T}:${body}`)}`, "X-Slack-Request-Timestamp": String(T), "X-Slack-Retry-Num": "1" }, body);
    expect(v).toMatchObject({ ok: true, challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", eventType: "url_verification" });
    expect(v.ok && v.providerHeaders).toEqual({ "x-slack-request-timestamp": String(T), "x-slack-retry-num": "1" });
  });

  it("generic hmac: sha1, base64 and a prefix", async () => {
    const body = '{"n":1}';
    const sig = createHmac("sha1", "g").update(body).digest("base64");
    const s = src("hmac", ["g"], { hmac: { header: "X-Hook-Sig", algorithm: "sha1", encoding: "base64", prefix: "sha1=" } });
    const v = await verify(s, { "X-Hook-Sig": `sha1=${sig}` }, body);
    expect(v).toMatchObject({ ok: true, deliveryId: createHash("sha256").update(body).digest("hex"), eventType: null, providerHeaders: {} });
    expect(reason(await verify(s, { "X-Hook-Sig": sig }, body))).toBe("bad_signature"); // prefix missing
    expect(reason(await verify(s, { "X-Hook-Sig": `sha1=${createHmac("sha1", "h").update(body).digest("base64")}` }, body))).toBe("bad_signature");
    const sha256 = `sha1=${createHmac("sha256", "g").update(body).digest("base64")}`; // right key, wrong algorithm
    expect(reason(await verify(s, { "X-Hook-Sig": sha256 }, body))).toBe("bad_signature");
  });

  it("verifies the raw bytes, not a re-encoding of them", async () => {
    const raw = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"\xff"}: not UTF-8
    const sig = createHmac("sha256", "k").update(raw).digest("hex");
    const v = await verifyDelivery(src("github", ["k"]), new Headers({ "X-Hub-Signature-256": `sha256=${sig}`, "X-GitHub-Delivery": "r" }), raw, NOW);
    expect(v).toMatchObject({ ok: true, bodyIsJson: false });
  });

  it("refuses unusable secrets as bad_secret_config, naming the position, never the secret", async () => {
    const s = vectors.standard_webhooks;
    const h = { "webhook-id": s["webhook-id"], "webhook-timestamp": s["webhook-timestamp"], "webhook-signature": s["webhook-signature"] };
    const v = await verify(src("standard", [s.secret, "whsec_not*base64!"]), h, s.payload, Number(s["webhook-timestamp"]) * 1000);
    expect(v).toMatchObject({ ok: false, reason: "bad_secret_config", message: expect.stringContaining("secret #2") });
    expect(!v.ok && v.message).not.toContain("not*base64");
    expect(reason(await verify(src("github", []), {}, "{}"))).toBe("bad_secret_config");
    expect(reason(await verify(src("hmac", ["k"]), { "X-Sig": "00" }, "{}"))).toBe("bad_secret_config");
  });
});

describe("constantTimeEqual", () => {
  const a = new Uint8Array([1, 2, 3, 4]);
  it("is true for identical bytes only", () => {
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(), new Uint8Array())).toBe(true);
    expect(constantTimeEqual(a, new Uint8Array([0, 2, 3, 4]))).toBe(false); // first byte differs
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 3, 5]))).toBe(false); // last byte differs
  });
  it("is false for different lengths, prefixes included", () => {
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 3]))).toBe(false);
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 3, 4, 0]))).toBe(false);
    expect(constantTimeEqual(a, new Uint8Array())).toBe(false);
    expect(constantTimeEqual(new Uint8Array(), a)).toBe(false);
  });
});

describe("SourceConfigSchema", () => {
  const base = { name: "gh-main", provider: "github", secrets: ["s"], table: "ops.github_events" };
  it("accepts a valid source and refuses what would break verification or storage", () => {
    expect(parseSourceConfig({ ...base, extract: [{ pointer: "/a~1b", column: "ab", type: "string" }] }).table).toBe("ops.github_events");
    const refuse = (patch: object) => () => parseSourceConfig({ ...base, ...patch });
    expect(refuse({ name: "Bad Name" })).toThrow(/name/);
    expect(refuse({ secrets: [] })).toThrow(/at least one secret/);
    expect(refuse({ secrets: ["1", "2", "3", "4", "5", "6"] })).toThrow(/at most 5/);
    expect(refuse({ table: "../x" })).toThrow(/table/);
    expect(refuse({ provider: "hmac" })).toThrow(/hmac settings/);
    expect(refuse({ hmac: { header: "X-S", algorithm: "sha256", encoding: "hex" } })).toThrow(/hmac provider only/);
    expect(refuse({ extract: [{ pointer: "a/b", column: "x", type: "string" }] })).toThrow(/JSON Pointer/);
    expect(refuse({ extract: [{ pointer: "/~2", column: "x", type: "string" }] })).toThrow(/JSON Pointer/);
    expect(refuse({ extract: [{ pointer: "/a", column: "x", type: "string" }, { pointer: "/b", column: "x", type: "long" }] })).toThrow(/twice/);
  });
});
