import { createExecutionContext } from "cloudflare:test";
import { exports, env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { tableLocation } from "../../src/iceberg/table.js";
import { R2Store } from "../../src/storage/r2-store.js";
import { readTable } from "../support/read-table.js";
import app from "../../src/worker.js";

const worker = exports as unknown as { default: Fetcher };
const E = env as unknown as Env;
const enc = new TextEncoder();

async function hmacHex(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function deliver(source: string, body: string, headers: Record<string, string>) {
  const res = await worker.default.fetch(`http://floe.local/v1/webhooks/${source}`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** GitHub's published vector (docs, "Validating webhook deliveries"). */
const GH = { body: "Hello, World!", sig: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" };

async function waitForRows(table: string, n: number): Promise<Record<string, unknown>[]> {
  const stub = E.TABLES.get(E.TABLES.idFromName(`default.${table}`));
  for (let i = 0; i < 100; i++) {
    if ((await stub.info(`default.${table}`)).totalRecords >= n) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 2500)); // room for a wrongly duplicated row to land too
  return (await readTable(new R2Store(E.LAKE), tableLocation("floe-lake", "warehouse", "default", table))).rows;
}

describe("webhooks", () => {
  it("refuses an unknown source, a missing or wrong signature, a tampered body; counts each refusal", async () => {
    expect((await deliver("nope", "{}", {})).status).toBe(404);
    const missing = await deliver("gh", GH.body, { "X-GitHub-Delivery": "d0" });
    expect(missing.status).toBe(401);
    expect(missing.body.error.details.reason).toBe("missing_signature");
    expect((await deliver("gh", GH.body + "!", { "X-Hub-Signature-256": GH.sig, "X-GitHub-Delivery": "d0" })).body.error.details.reason).toBe("bad_signature");
    expect((await deliver("gh", GH.body, { "X-Hub-Signature-256": GH.sig.replace("7571", "7572"), "X-GitHub-Delivery": "d0" })).status).toBe(401);
    const list = await worker.default.fetch("http://floe.local/v1/webhooks", { headers: { Authorization: "Bearer test-admin-token" } });
    const gh = ((await list.json()) as { sources: { source: string; refused: Record<string, number>; secrets: number }[] }).sources.find((s) => s.source === "gh")!;
    expect(gh.refused).toEqual({ missing_signature: 1, bad_signature: 2 });
    expect(JSON.stringify(gh)).not.toContain("Secret to Everybody");
  });

  it("stores a verified delivery once however often it is redelivered, flagging a body that is not JSON", async () => {
    const headers = { "X-Hub-Signature-256": GH.sig, "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event": "push" };
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver("gh", GH.body, headers)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const rows = await waitForRows("gh_events", 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: "gh", provider: "github", event_type: "push", delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", payload: "Hello, World!", payload_is_json: false });
    expect(rows[0].headers).toMatchObject({ "x-github-event": "push" });
    expect(rows[0].received_at).toBeInstanceOf(Date);
  });

  it("verifies Stripe with either secret during a rotation, within the replay window only", async () => {
    const body = JSON.stringify({ id: "evt_1", type: "payment_intent.succeeded", livemode: false, data: { object: { id: "pi_9" } } });
    const t = Math.floor(Date.now() / 1000);
    const old = await deliver("stripe", body, { "Stripe-Signature": `t=${t},v1=${await hmacHex("whsec_old", `${t}.${body}`)}` });
    expect(old.status).toBe(202);
    expect(old.body.deliveryId).toBe("evt_1");
    const fresh = await deliver("stripe", body, { "Stripe-Signature": `t=${t},v1=${await hmacHex("whsec_new", `${t}.${body}`)}` });
    expect(fresh.status).toBe(202);
    const stale = t - 301;
    const expired = await deliver("stripe", body, { "Stripe-Signature": `t=${stale},v1=${await hmacHex("whsec_new", `${stale}.${body}`)}` });
    expect(expired.body.error.details.reason).toBe("expired");
    const rows = await waitForRows("stripe_events", 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ delivery_id: "evt_1", type: "payment_intent.succeeded", livemode: false, object_id: "pi_9", payload_is_json: true });
  });

  it("refuses a body over the limit with 413 before verifying, and keeps serving", async () => {
    const r = await deliver("gh", "x".repeat(1_100_000), { "X-Hub-Signature-256": GH.sig, "X-GitHub-Delivery": "big" });
    expect(r.status).toBe(413);
    expect(r.body.error.details).toEqual({ limit: 1048576 });
    expect((await worker.default.fetch("http://floe.local/healthz")).status).toBe(200);
  });

  it("answers Slack's url_verification with its challenge", async () => {
    const body = JSON.stringify({ type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", token: "x" });
    const ts = String(Math.floor(Date.now() / 1000));
    const r = await deliver("slack", body, { "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": `v0=${await hmacHex("slack-signing-secret", `v0:${ts}:${body}`)}` });
    expect(r).toEqual({ status: 200, body: { challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" } });
  });

  it("answers wait=true once the delivery is committed, with its snapshot; a redelivery as a duplicate", async () => {
    const headers = { "X-Hub-Signature-256": GH.sig, "X-GitHub-Delivery": "wait-1", "X-GitHub-Event": "push" };
    const first = await deliver("gh?wait=true&timeout=30", GH.body, headers);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 1, deliveryId: "wait-1", snapshotId: expect.stringMatching(/^\d+$/), sequenceNumber: expect.any(Number) });
    const info = await E.TABLES.get(E.TABLES.idFromName("default.gh_events")).info("default.gh_events");
    expect(info.currentSnapshotId).toBe(first.body.snapshotId);
    const again = await deliver("gh?wait=true&timeout=30", GH.body, headers);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ redelivery: true, duplicate: true, snapshotId: null });
  });

  it("takes a delivery the queue refused back out of the source's count: the provider's retry is its first delivery", async () => {
    const received = async () => {
      const list = await worker.default.fetch("http://floe.local/v1/webhooks", { headers: { Authorization: "Bearer test-admin-token" } });
      return ((await list.json()) as { sources: { source: string; received: number; duplicates: number }[] }).sources.find((s) => s.source === "gh")!;
    };
    const before = await received();
    const headers = { "Content-Type": "application/json", "X-Hub-Signature-256": GH.sig, "X-GitHub-Delivery": "queue-refused-once", "X-GitHub-Event": "push" };
    const refusing = { ...E, INGEST: { sendBatch: () => Promise.reject(new Error("Queue is unavailable")), send: () => Promise.reject(new Error("Queue is unavailable")) } };
    const res = await app.fetch(new Request("http://floe.local/v1/webhooks/gh", { method: "POST", body: GH.body, headers }), refusing as unknown as Env, createExecutionContext());
    expect(res.status).toBe(503);
    expect(await received()).toMatchObject({ received: before.received, duplicates: before.duplicates });
    const retry = await deliver("gh", GH.body, headers);
    expect(retry).toMatchObject({ status: 202, body: { redelivery: false, deliveryId: "queue-refused-once" } });
    expect(await received()).toMatchObject({ received: before.received + 1, duplicates: before.duplicates });
  });
});
