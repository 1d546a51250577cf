import { AwsClient } from "aws4fetch";
import { icebergRead } from "icebird";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duckdb } from "../support/duckdb.js";
import { tempFile } from "../support/temp-file.js";
import { freePort, startWranglerDev, type WranglerDev } from "../support/wrangler-dev.js";

// Webhooks end to end, against a `wrangler dev` of the real service started here: deliveries signed
// with node:crypto per each provider's published scheme (not with our verification code) go through
// POST /v1/webhooks/{source} → queue → consumer → Parquet through the local S3 API → commit, and are
// read back by readers we did not write: icebird over the table's metadata, DuckDB over the data
// files downloaded through the S3 API. Redeliveries, refusals and the per-source counts too.

const INGEST_TOKEN = "wh-e2e-ingest-token";
const ADMIN_TOKEN = "wh-e2e-admin-token";
/** The local credentials of the lake bucket (wrangler.toml, `local_dev.experimental_s3_credentials`). */
const LAKE = { bucket: "floe-lake", accessKeyId: "floe-dev-access-key", secretAccessKey: "floe-dev-secret-key" };
const LAND_MS = 60_000;

// ---- sources: one per provider, secrets of our own ----------------------------------------------

const STANDARD_KEY = randomBytes(24);
const SECRETS = {
  github: "wh-e2e-github-secret",
  stripe: "whsec_wh_e2e_stripe_secret",
  shopify: "wh-e2e-shopify-secret",
  slack: "wh-e2e-slack-signing-secret",
  standard: `whsec_${STANDARD_KEY.toString("base64")}`,
  hmac: "wh-e2e-custom-secret",
};
const TABLES = {
  github: "hooks.github_events",
  stripe: "hooks.stripe_events",
  shopify: "shopify_events",
  slack: "slack_events",
  standard: "standard_events",
  hmac: "custom_events",
} as const;
type Name = keyof typeof TABLES;
const NAMES = Object.keys(TABLES) as Name[];

const SOURCES = [
  { name: "github", provider: "github", secrets: ["an-old-github-secret", SECRETS.github], table: TABLES.github, extract: [{ pointer: "/pull_request/number", column: "pr_number", type: "long" }] },
  { name: "stripe", provider: "stripe", secrets: [SECRETS.stripe], table: TABLES.stripe },
  { name: "shopify", provider: "shopify", secrets: [SECRETS.shopify], table: TABLES.shopify },
  { name: "slack", provider: "slack", secrets: [SECRETS.slack], table: TABLES.slack },
  { name: "standard", provider: "standard", secrets: [SECRETS.standard], table: TABLES.standard, extract: [{ pointer: "/data/email", column: "email", type: "string" }] },
  { name: "hmac", provider: "hmac", secrets: [SECRETS.hmac], table: TABLES.hmac, hmac: { header: "X-Custom-Signature", algorithm: "sha1", encoding: "base64", prefix: "sha1=", idHeader: "X-Custom-Id", eventTypeHeader: "X-Custom-Event" } },
];

// ---- signing, independently of src/sources: node:crypto and each provider's documented scheme -----

const hmacOf = (algo: "sha256" | "sha1", key: string | Buffer, ...parts: (string | Buffer)[]) => {
  const h = createHmac(algo, key);
  for (const p of parts) h.update(p);
  return h;
};
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Delivery {
  source: Name;
  body: Buffer;
  headers: Record<string, string>;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; id and event in headers. */
function github(body: string, opts: { id?: string; event?: string; secret?: string } = {}): Delivery {
  const b = Buffer.from(body);
  return {
    source: "github",
    body: b,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/e2e",
      "X-GitHub-Delivery": opts.id ?? randomUUID(),
      "X-GitHub-Event": opts.event ?? "pull_request",
      "X-GitHub-Hook-ID": "4242",
      "X-Hub-Signature-256": `sha256=${hmacOf("sha256", opts.secret ?? SECRETS.github, b).digest("hex")}`,
    },
  };
}

/** Stripe: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "${t}.${body}">`, keyed with the whole whsec_ secret. */
function stripe(body: string, opts: { t?: number; secret?: string } = {}): Delivery {
  const b = Buffer.from(body);
  const t = opts.t ?? nowSeconds();
  const v1 = hmacOf("sha256", opts.secret ?? SECRETS.stripe, `${t}.`, b).digest("hex");
  return { source: "stripe", body: b, headers: { "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": `t=${t},v1=${v1},v0=${"0".repeat(64)}` } };
}

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`; id and topic in headers. */
function shopify(body: string, opts: { id?: string; secret?: string } = {}): Delivery {
  const b = Buffer.from(body);
  return {
    source: "shopify",
    body: b,
    headers: {
      "Content-Type": "application/json",
      "X-Shopify-Topic": "orders/create",
      "X-Shopify-Webhook-Id": opts.id ?? randomUUID(),
      "X-Shopify-Shop-Domain": "e2e-shop.myshopify.com",
      "X-Shopify-API-Version": "2026-01",
      "X-Shopify-Hmac-Sha256": hmacOf("sha256", opts.secret ?? SECRETS.shopify, b).digest("base64"),
    },
  };
}

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:${ts}:${body}">` with `X-Slack-Request-Timestamp: ts`. */
function slack(body: string, opts: { ts?: number } = {}): Delivery {
  const b = Buffer.from(body);
  const ts = opts.ts ?? nowSeconds();
  return {
    source: "slack",
    body: b,
    headers: {
      "Content-Type": "application/json",
      "X-Slack-Request-Timestamp": String(ts),
      "X-Slack-Signature": `v0=${hmacOf("sha256", SECRETS.slack, `v0:${ts}:`, b).digest("hex")}`,
    },
  };
}

/** Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "${id}.${ts}.${body}">`, keyed with base64-decoded(secret after whsec_). */
function standard(body: string, opts: { id?: string; ts?: number } = {}): Delivery {
  const b = Buffer.from(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = opts.ts ?? nowSeconds();
  const key = Buffer.from(SECRETS.standard.slice("whsec_".length), "base64");
  const sig = hmacOf("sha256", key, `${id}.${ts}.`, b).digest("base64");
  const stale = hmacOf("sha256", randomBytes(24), `${id}.${ts}.`, b).digest("base64");
  return {
    source: "standard",
    body: b,
    // A rotation: a signature by another key first, then ours, space-separated.
    headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${stale} v1,${sig}` },
  };
}

/** The generic HMAC source as configured above: `X-Custom-Signature: sha1=<base64 HMAC-SHA1 of the body>`. */
function custom(body: string, opts: { id?: string } = {}): Delivery {
  const b = Buffer.from(body);
  return {
    source: "hmac",
    body: b,
    headers: {
      "Content-Type": "application/json",
      "X-Custom-Id": opts.id ?? `cus-${randomUUID()}`,
      "X-Custom-Event": "invoice.created",
      "X-Custom-Signature": `sha1=${hmacOf("sha1", SECRETS.hmac, b).digest("base64")}`,
    },
  };
}

// ---- the deliveries ------------------------------------------------------------------------------

// Bodies formatted as senders format them (GitHub pretty-prints), with text that is not ASCII:
// `payload` must be these exact bytes, not a re-serialization.
const GITHUB_BODY = JSON.stringify(
  { action: "opened", number: 7, pull_request: { number: 7, title: "Add café ✓ 😀" }, repository: { full_name: "acme/app", id: 1296269 }, sender: { login: "ada" } },
  null,
  2,
);
const REDELIVERED_BODY = JSON.stringify({ action: "closed", pull_request: { number: 8 }, repository: { full_name: "acme/app" }, sender: { login: "bob" } });
const STRIPE_EVENT_ID = `evt_${randomUUID().replaceAll("-", "")}`;
const STRIPE_BODY = `{\n  "id": "${STRIPE_EVENT_ID}",\n  "object": "event",\n  "type": "invoice.paid",\n  "livemode": false,\n  "data": {"object": {"id": "in_1QxE2e", "object": "invoice", "amount_paid": 4200}}\n}`;
const SHOPIFY_BODY = JSON.stringify({ id: 820982911946154500, email: "jon@example.com", total_price: "403.00", note: "Größe M" });
const SLACK_EVENT_ID = `Ev${randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;
const SLACK_BODY = JSON.stringify({ token: "x", team_id: "T1", api_app_id: "A1", event: { type: "message", channel: "C1", user: "U1", text: "hëllo", ts: "1700000000.000100" }, type: "event_callback", event_id: SLACK_EVENT_ID, event_time: 1700000000 });
const STANDARD_BODY = JSON.stringify({ type: "user.created", timestamp: "2026-11-25T10:00:00Z", data: { id: "user_1", email: "ada@example.com" } });
const CUSTOM_BODY = JSON.stringify({ invoice: "inv_1", total: 12.5 });

const ok = {
  github: github(GITHUB_BODY),
  stripe: stripe(STRIPE_BODY),
  shopify: shopify(SHOPIFY_BODY),
  slack: slack(SLACK_BODY),
  standard: standard(STANDARD_BODY),
  hmac: custom(CUSTOM_BODY),
} satisfies Record<Name, Delivery>;
const REDELIVERY_ID = randomUUID();
const redelivery = github(REDELIVERED_BODY, { id: REDELIVERY_ID, event: "pull_request" });

// Refusals: each carries an id of its own, which must never show up in a table.
const tampered = (() => {
  const d = github(JSON.stringify({ action: "opened", repository: { full_name: "acme/app" }, sender: { login: "mallory" } }));
  return { ...d, body: Buffer.from(d.body.toString().replace("mallory", "ada")) };
})();
const EXPIRED_STRIPE_ID = `evt_${randomUUID().replaceAll("-", "")}`;
const refusals: { what: string; d: Delivery; reason: string; id: string }[] = [
  { what: "GitHub, body changed after signing", d: tampered, reason: "bad_signature", id: tampered.headers["X-GitHub-Delivery"] },
  (() => {
    const d = shopify(SHOPIFY_BODY, { secret: "not-the-shopify-secret" });
    return { what: "Shopify, signed with the wrong secret", d, reason: "bad_signature", id: d.headers["X-Shopify-Webhook-Id"] };
  })(),
  {
    what: "Stripe, t an hour old",
    d: stripe(STRIPE_BODY.replace(STRIPE_EVENT_ID, EXPIRED_STRIPE_ID), { t: nowSeconds() - 3600 }),
    reason: "expired",
    id: EXPIRED_STRIPE_ID,
  },
  (() => {
    const body = SLACK_BODY.replace(SLACK_EVENT_ID, "EvEXPIRED01");
    return { what: "Slack, timestamp ten minutes old", d: slack(body, { ts: nowSeconds() - 600 }), reason: "expired", id: "EvEXPIRED01" };
  })(),
  (() => {
    const d = standard(STANDARD_BODY, { ts: nowSeconds() + 900 });
    return { what: "Standard Webhooks, timestamp 15 minutes ahead", d, reason: "expired", id: d.headers["webhook-id"] };
  })(),
  (() => {
    const d = custom(CUSTOM_BODY);
    const headers = { ...d.headers };
    delete (headers as Record<string, string>)["X-Custom-Signature"];
    return { what: "generic HMAC, no signature header", d: { ...d, headers }, reason: "missing_signature", id: d.headers["X-Custom-Id"] };
  })(),
];

// ---- the service ---------------------------------------------------------------------------------

let dev: WranglerDev;


beforeAll(async () => {
  // The port is chosen here so that S3_ENDPOINT can name it (startWranglerDev reports its port only once started).
  const port = await freePort();
  dev = await startWranglerDev({
    port,
    vars: {
      FLOE_INGEST_TOKEN: INGEST_TOKEN,
      FLOE_ADMIN_TOKEN: ADMIN_TOKEN,
      S3_ENDPOINT: `http://127.0.0.1:${port}/cdn-cgi/local/r2/s3`,
      S3_ACCESS_KEY_ID: LAKE.accessKeyId,
      S3_SECRET_ACCESS_KEY: LAKE.secretAccessKey,
      FLOE_SOURCES: JSON.stringify(SOURCES),
    },
  });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
});

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${dev.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: res.status, body: text };
  }
}
const deliver = (d: Delivery) => call(`/v1/webhooks/${d.source}`, { method: "POST", body: d.body, headers: d.headers });

/** `GET /v1/tables/{table}` with the ingest token; undefined while the table does not exist. */
async function tableStatus(table: string): Promise<any | undefined> {
  const r = await call(`/v1/tables/${table}`, { headers: { Authorization: `Bearer ${INGEST_TOKEN}` } });
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET /v1/tables/${table}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Polls the table's status until `done(status)` or the timeout; answers the last status either way. */
async function waitFor(table: string, done: (s: any) => boolean, timeoutMs = LAND_MS): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    try {
      last = (await tableStatus(table)) ?? last;
    } catch {
      // a transient failure of the status call is not what is being waited for
    }
    if ((last && done(last)) || Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const withLogs = (what: string) => `${what}\n--- wrangler dev output (tail) ---\n${dev.logs().slice(-6_000)}`;

/** Every row of the table, read by icebird from the metadata file the status names, over the local S3 API. */
async function icebirdRows(metadataLocation: string): Promise<Record<string, any>[]> {
  const m = /^(s3:\/\/.+)\/metadata\/([^/]+\.metadata\.json)$/.exec(metadataLocation);
  if (!m) throw new Error(`not a metadata location: ${metadataLocation}`);
  // The demo's reader-side helper (plain JavaScript): icebird's s3:// reads go to this wrangler dev, signed.
  const { pointFetchAtLake } = (await import(new URL("../../scripts/lake-fetch.mjs", import.meta.url).href)) as {
    pointFetchAtLake: (o: { endpoint: string; accessKeyId: string; secretAccessKey: string }) => () => void;
  };
  const restore = pointFetchAtLake({ endpoint: dev.s3Endpoint, accessKeyId: LAKE.accessKeyId, secretAccessKey: LAKE.secretAccessKey });
  try {
    return await icebergRead({ tableUrl: m[1], metadataFileName: m[2] });
  } finally {
    restore();
  }
}

/**
 * DuckDB over every Parquet file under the table's `data/` prefix, listed and downloaded through
 * the S3 API (ListObjectsV2, GET) with aws4fetch: neither our manifests nor our store code decides
 * what is read. Webhook tables are append-only, so every data file is live.
 */
async function duckdbOverTable(metadataLocation: string, select: string, tail = ""): Promise<Record<string, any>[]> {
  const m = /^s3:\/\/([^/]+)\/(.+)\/metadata\/[^/]+$/.exec(metadataLocation);
  if (!m) throw new Error(`not a metadata location: ${metadataLocation}`);
  const [, bucket, tableKey] = m;
  const aws = new AwsClient({ accessKeyId: LAKE.accessKeyId, secretAccessKey: LAKE.secretAccessKey, service: "s3", region: "auto" });
  const list = await aws.fetch(`${dev.s3Endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(`${tableKey}/data/`)}`);
  const xml = await list.text();
  if (!list.ok) throw new Error(`ListObjectsV2: ${list.status} ${xml}`);
  const keys = [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((k) => k[1].replaceAll("&amp;", "&")).filter((k) => k.endsWith(".parquet"));
  if (!keys.length) throw new Error(`no data files under ${tableKey}/data/: ${xml}`);
  const paths: string[] = [];
  for (const key of keys) {
    const res = await aws.fetch(`${dev.s3Endpoint}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
    if (!res.ok) throw new Error(`GET ${key}: ${res.status}`);
    paths.push(tempFile(key.split("/").pop()!, new Uint8Array(await res.arrayBuffer())));
  }
  const files = paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(", ");
  return duckdb(`SELECT ${select} FROM read_parquet([${files}], union_by_name = true) ${tail}`);
}

/** A map column as a plain object, however the reader hands it over (object, Map, or list of key/value entries). */
function asObject(v: unknown): Record<string, string> | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Map) return Object.fromEntries(v);
  if (Array.isArray(v)) return Object.fromEntries(v.map((e: any) => [e.key, e.value]));
  return v as Record<string, string>;
}

// ---- the tests -----------------------------------------------------------------------------------

describe("webhooks through wrangler dev", () => {
  const answers = {} as Record<Name, { status: number; body: any }>;
  let redeliveryAnswers: { status: number; body: any }[] = [];
  const refusalAnswers: { status: number; body: any }[] = [];
  const rows = {} as Record<Name, Record<string, any>[]>;
  const statuses = {} as Record<Name, any>;

  it("refuses a tampered body, a wrong secret, an expired timestamp and a missing signature with 401 and the reason", async () => {
    // Sent first, so that by the time the valid deliveries have landed these would have too, had they been queued.
    for (const r of refusals) refusalAnswers.push(await deliver(r.d));
    refusals.forEach((r, i) => {
      const a = refusalAnswers[i];
      expect(a.status, `${r.what}: ${JSON.stringify(a.body)}`).toBe(401);
      expect(a.body.error.code, r.what).toBe("unauthorized");
      expect(a.body.error.details, r.what).toMatchObject({ source: r.d.source, reason: r.reason });
      expect(typeof a.body.error.message, r.what).toBe("string");
    });
    // An unknown source is 404, and not counted anywhere.
    const unknown = await call("/v1/webhooks/nosuch", { method: "POST", body: ok.github.body, headers: ok.github.headers });
    expect(unknown.status).toBe(404);
  });

  it("answers 202 to a signed delivery of every provider", async () => {
    const results = await Promise.all(NAMES.map((n) => deliver(ok[n])));
    NAMES.forEach((n, i) => (answers[n] = results[i]));
    for (const n of NAMES) {
      expect(answers[n].status, `${n}: ${JSON.stringify(answers[n].body)}\n${dev.logs().slice(-3000)}`).toBe(202);
      expect(answers[n].body).toMatchObject({ accepted: 1, redelivery: false });
      expect(typeof answers[n].body.requestId).toBe("string");
    }
    expect(answers.github.body.deliveryId).toBe(ok.github.headers["X-GitHub-Delivery"]);
    expect(answers.stripe.body.deliveryId).toBe(STRIPE_EVENT_ID);
    expect(answers.shopify.body.deliveryId).toBe(ok.shopify.headers["X-Shopify-Webhook-Id"]);
    expect(answers.slack.body.deliveryId).toBe(SLACK_EVENT_ID);
    expect(answers.standard.body.deliveryId).toBe(ok.standard.headers["webhook-id"]);
    expect(answers.hmac.body.deliveryId).toBe(ok.hmac.headers["X-Custom-Id"]);
  });

  it("accepts one delivery redelivered 5 times at once, every time with 202", async () => {
    redeliveryAnswers = await Promise.all(Array.from({ length: 5 }, () => deliver(redelivery)));
    for (const a of redeliveryAnswers) {
      expect(a.status, JSON.stringify(a.body)).toBe(202);
      expect(a.body).toMatchObject({ accepted: 1, deliveryId: REDELIVERY_ID });
    }
    // The source's bookkeeping sees one of them first; the other four are redeliveries.
    expect(redeliveryAnswers.filter((a) => a.body.redelivery === false)).toHaveLength(1);
  });

  it("lands each delivery as one row of its table: the redelivered one once", async () => {
    const expected: Record<Name, number> = { github: 2, stripe: 1, shopify: 1, slack: 1, standard: 1, hmac: 1 };
    await Promise.all(
      NAMES.map(async (n) => {
        // GitHub: all five copies of the redelivery accounted for (one written, four dropped as duplicates).
        const s = await waitFor(TABLES[n], (s) => s.totalRecords >= expected[n] && (n !== "github" || s.duplicatesDropped >= 4));
        statuses[n] = s;
        expect(s?.totalRecords, withLogs(`${TABLES[n]}: ${JSON.stringify(s)}`)).toBe(expected[n]);
      }),
    );
    expect(statuses.github.duplicatesDropped).toBe(4);
    for (const n of NAMES) {
      expect(statuses[n].exists).toBe(true);
      expect(statuses[n].metadataLocation).toMatch(/^s3:\/\/floe-lake\/.+\.metadata\.json$/);
      rows[n] = await icebirdRows(statuses[n].metadataLocation);
      expect(rows[n], `${n}: ${JSON.stringify(rows[n], (_k, v) => (typeof v === "bigint" ? String(v) : v))}`).toHaveLength(expected[n]);
    }
    // No late copy of the redelivery (nor of a refused delivery) shows up a batch later either.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await tableStatus(TABLES.github)).totalRecords).toBe(2);
  });

  it("stores the columns: delivery id, event type, provider, the exact body, the provider's headers, extracted columns", () => {
    const one = (n: Name, id: string) => {
      const found = rows[n].filter((r) => r.delivery_id === id);
      expect(found, `${n}: no single row with delivery_id ${id}`).toHaveLength(1);
      return found[0];
    };
    const common = (n: Name, r: Record<string, any>, eventType: string | null) => {
      expect(r.source).toBe(n);
      expect(r.provider).toBe(SOURCES.find((s) => s.name === n)!.provider);
      expect(r.event_type ?? null).toBe(eventType);
      expect(r.payload).toBe(ok[n].body.toString("utf8"));
      expect(r.payload_is_json).toBe(true);
      const at = new Date(r.received_at).getTime();
      expect(Math.abs(Date.now() - at)).toBeLessThan(5 * 60_000);
    };

    const gh = one("github", ok.github.headers["X-GitHub-Delivery"]);
    common("github", gh, "pull_request");
    expect(gh.payload).toContain("\n  \"action\": \"opened\""); // the sender's formatting, kept
    expect({ repository: gh.repository, action: gh.action, sender: gh.sender, pr_number: Number(gh.pr_number) }).toEqual({ repository: "acme/app", action: "opened", sender: "ada", pr_number: 7 });
    expect(asObject(gh.headers)).toEqual({ "x-github-delivery": ok.github.headers["X-GitHub-Delivery"], "x-github-event": "pull_request", "x-github-hook-id": "4242" });
    const re = one("github", REDELIVERY_ID);
    expect(re.payload).toBe(REDELIVERED_BODY);
    expect({ action: re.action, sender: re.sender, pr_number: Number(re.pr_number) }).toEqual({ action: "closed", sender: "bob", pr_number: 8 });

    const st = one("stripe", STRIPE_EVENT_ID);
    common("stripe", st, "invoice.paid");
    expect({ type: st.type, livemode: st.livemode, object_id: st.object_id }).toEqual({ type: "invoice.paid", livemode: false, object_id: "in_1QxE2e" });
    expect(asObject(st.headers) ?? {}).toEqual({}); // Stripe's only header is its signature, never kept

    const sh = one("shopify", ok.shopify.headers["X-Shopify-Webhook-Id"]);
    common("shopify", sh, "orders/create");
    expect(asObject(sh.headers)).toEqual({
      "x-shopify-topic": "orders/create",
      "x-shopify-webhook-id": ok.shopify.headers["X-Shopify-Webhook-Id"],
      "x-shopify-shop-domain": "e2e-shop.myshopify.com",
      "x-shopify-api-version": "2026-01",
    });

    const sl = one("slack", SLACK_EVENT_ID);
    common("slack", sl, "message");
    expect(asObject(sl.headers)).toEqual({ "x-slack-request-timestamp": ok.slack.headers["X-Slack-Request-Timestamp"] });

    const sw = one("standard", ok.standard.headers["webhook-id"]);
    common("standard", sw, "user.created");
    expect(sw.email).toBe("ada@example.com");
    expect(asObject(sw.headers)).toEqual({ "webhook-id": ok.standard.headers["webhook-id"], "webhook-timestamp": ok.standard.headers["webhook-timestamp"] });

    const cu = one("hmac", ok.hmac.headers["X-Custom-Id"]);
    common("hmac", cu, "invoice.created");
    expect(asObject(cu.headers)).toEqual({ "x-custom-id": ok.hmac.headers["X-Custom-Id"], "x-custom-event": "invoice.created" });

    // Nothing refused landed.
    const allIds = NAMES.flatMap((n) => rows[n].map((r) => r.delivery_id));
    for (const r of refusals) expect(allIds, r.what).not.toContain(r.id);
  });

  it("reads the same rows with DuckDB from the data files: a map of headers, the exact bodies", async () => {
    const gh = await duckdbOverTable(statuses.github.metadataLocation, "delivery_id, event_type, provider, payload, typeof(headers) AS headers_type, headers['x-github-event'] AS gh_event, typeof(received_at) AS at_type, repository, action, sender, pr_number", "ORDER BY action DESC");
    expect(gh.map((r) => r.delivery_id)).toEqual([ok.github.headers["X-GitHub-Delivery"], REDELIVERY_ID]);
    expect(gh[0]).toMatchObject({ event_type: "pull_request", provider: "github", payload: GITHUB_BODY, headers_type: "MAP(VARCHAR, VARCHAR)", gh_event: "pull_request", at_type: "TIMESTAMP WITH TIME ZONE", repository: "acme/app", action: "opened", sender: "ada" });
    expect(Number(gh[0].pr_number)).toBe(7);
    for (const n of NAMES) {
      const r = await duckdbOverTable(statuses[n].metadataLocation, "delivery_id, payload");
      expect(r.map((x) => x.payload).sort(), n).toEqual(rows[n].map((x) => x.payload).sort());
    }
    const st = await duckdbOverTable(statuses.stripe.metadataLocation, "type, livemode, object_id");
    expect(st).toEqual([{ type: "invoice.paid", livemode: false, object_id: "in_1QxE2e" }]);
  });

  it("counts received, duplicates and refusals per source at GET /v1/webhooks", async () => {
    expect((await call("/v1/webhooks")).status).toBe(401);
    expect((await call("/v1/webhooks", { headers: { Authorization: `Bearer ${INGEST_TOKEN}` } })).status).toBe(403); // a token, but without the admin scope
    const r = await call("/v1/webhooks", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    const by = Object.fromEntries((r.body.sources as any[]).map((s) => [s.source, s]));
    expect(Object.keys(by).sort()).toEqual([...NAMES].sort());
    expect(JSON.stringify(r.body)).not.toContain(SECRETS.github); // never the secrets
    const want: Record<Name, { received: number; duplicates: number; refused: Record<string, number> }> = {
      github: { received: 2, duplicates: 4, refused: { bad_signature: 1 } },
      stripe: { received: 1, duplicates: 0, refused: { expired: 1 } },
      shopify: { received: 1, duplicates: 0, refused: { bad_signature: 1 } },
      slack: { received: 1, duplicates: 0, refused: { expired: 1 } },
      standard: { received: 1, duplicates: 0, refused: { expired: 1 } },
      hmac: { received: 1, duplicates: 0, refused: { missing_signature: 1 } },
    };
    for (const n of NAMES) {
      expect(by[n], n).toMatchObject({ ...want[n], provider: SOURCES.find((s) => s.name === n)!.provider, table: TABLES[n].includes(".") ? TABLES[n] : `default.${TABLES[n]}`, url: `/v1/webhooks/${n}` });
      expect(by[n].refused, n).toEqual(want[n].refused);
      expect(by[n].lastDeliveryAt, n).not.toBeNull();
    }
    expect(by.github.lastDeliveryId).toBe(REDELIVERY_ID);
    expect(by.github.secrets).toBe(2);
  });
});
