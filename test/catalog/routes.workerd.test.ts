import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = () => (exports as unknown as { default: Fetcher }).default;
const ADMIN = "test-admin-token";
const BASE = "http://floe.local/iceberg/v1/floe";

async function call(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...((init.headers as Record<string, string>) ?? {}) };
  if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? ADMIN}`;
  const res = await worker().fetch(path.startsWith("http") ? path : `${BASE}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Every refusal: the status, the spec's error body naming what and where, and the catalog still serving. */
async function refused(path: string, init: RequestInit & { token?: string | null }, status: number, type: string, message: RegExp): Promise<void> {
  const r = await call(path, init);
  expect(r.status).toBe(status);
  expect(r.body.error.type).toBe(type);
  expect(r.body.error.code).toBe(status);
  expect(r.body.error.message).toMatch(message);
  expect((await call("/namespaces")).status).toBe(200);
}

describe("REST catalog refusals (workerd)", () => {
  it("refuses unauthenticated and wrongly authenticated requests", async () => {
    await refused("/namespaces", { token: null }, 401, "NotAuthorizedException", /missing bearer token/);
    await refused("/namespaces", { token: "nope" }, 401, "NotAuthorizedException", /wrong token/);
    // The producers' token holds no catalog scope: refused for that, by name.
    await refused("/namespaces", { token: "test-ingest-token" }, 403, "ForbiddenException", /lacks the catalog or admin scope/);
  });

  it("refuses malformed, oversized and mis-shaped bodies with 400/413 naming the field", async () => {
    await refused("/namespaces", { method: "POST", body: "{" }, 400, "BadRequestException", /invalid JSON/);
    await refused("/namespaces", { method: "POST", body: JSON.stringify({ namespace: "flat" }) }, 400, "BadRequestException", /namespace: /);
    await refused("/namespaces", { method: "POST", body: JSON.stringify({ namespace: ["a", "b"] }) }, 400, "BadRequestException", /one level/);
    await refused("/namespaces", { method: "POST", body: JSON.stringify({ namespace: ["x"], properties: { n: 1 } }) }, 400, "BadRequestException", /properties\.n/);
    await refused("/namespaces", { method: "POST", body: JSON.stringify({ namespace: ["x".repeat(2_000_000)] }) }, 413, "BadRequestException", /over 1048576 bytes/);
    expect((await call("/namespaces", { method: "POST", body: JSON.stringify({ namespace: ["shapes"] }) })).status).toBe(200);
    await refused("/namespaces/shapes/tables", { method: "POST", body: JSON.stringify({ name: "t" }) }, 400, "BadRequestException", /schema/);
    await refused("/namespaces/shapes/tables", { method: "POST", body: JSON.stringify({ name: "t", schema: { type: "struct", fields: [{ id: 1, name: "a", type: "int", required: false }, { id: 1, name: "b", type: "int", required: false }] } }) }, 400, "BadRequestException", /1/);
    await refused("/namespaces/shapes/tables/t", { method: "POST", body: JSON.stringify({ requirements: [], updates: [{ action: "add-snapshot" }] }) }, 400, "BadRequestException", /update 0 \(add-snapshot\): snapshot/);
    await refused("/namespaces/shapes/tables/t", { method: "POST", body: JSON.stringify({ requirements: [{ type: "assert-everything" }], updates: [] }) }, 400, "BadRequestException", /unknown requirement type "assert-everything"/);
    await refused("/transactions/commit", { method: "POST", body: JSON.stringify({ "table-changes": [] }) }, 400, "BadRequestException", /table-changes/);
  });

  it("refuses hostile and invalid names without touching the lake", async () => {
    await refused("/namespaces/..%2F..%2Fetc", {}, 400, "BadRequestException", /invalid namespace/);
    await refused("/namespaces/Shapes", {}, 400, "BadRequestException", /invalid namespace/);
    await refused("/namespaces/shapes/tables/..", {}, 404, "NotFoundException", /no catalog route/);
    await refused("/namespaces/shapes/tables/a%2Fb", {}, 400, "BadRequestException", /invalid table name/);
    await refused("/namespaces/a%1Fb", {}, 404, "NoSuchNamespaceException", /a\.b/);
    await refused("http://floe.local/iceberg/v1/elsewhere/namespaces", {}, 404, "NotFoundException", /prefix/);
    await refused("/namespaces/shapes/register", { method: "POST", body: JSON.stringify({ name: "r", "metadata-location": "s3://floe-lake/../other/v1.metadata.json" }) }, 400, "BadRequestException", /not in the lake's bucket/);
    await refused("/namespaces/shapes/register", { method: "POST", body: JSON.stringify({ name: "r", "metadata-location": "s3://floe-lake/warehouse/none/metadata/v1.metadata.json" }) }, 400, "BadRequestException", /does not exist/);
  });

  it("creates, commits with a 64-bit snapshot id kept exact, and answers 404 for what is not there", async () => {
    await refused("/namespaces/nowhere/tables", { method: "POST", body: JSON.stringify({ name: "t", schema: { type: "struct", fields: [] } }) }, 404, "NoSuchNamespaceException", /nowhere/);
    expect((await call("/namespaces", { method: "POST", body: JSON.stringify({ namespace: ["exact"] }) })).status).toBe(200);
    const created = await call("/namespaces/exact/tables", { method: "POST", body: JSON.stringify({ name: "ids", schema: { type: "struct", fields: [{ id: 1, name: "a", type: "long", required: false }] } }) });
    expect(created.status).toBe(200);
    await refused("/namespaces/exact/tables/missing", {}, 404, "NoSuchTableException", /exact\.missing does not exist/);
    // A snapshot with no data (an empty manifest list is allowed to be missing for this check: the catalog does not read it).
    const id = "9223372036854775807";
    const commit = `{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}],"updates":[{"action":"add-snapshot","snapshot":{"snapshot-id":${id},"sequence-number":1,"timestamp-ms":1700000000000,"manifest-list":"s3://floe-lake/warehouse/exact/ids/metadata/snap.avro","summary":{"operation":"append"}}},{"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":${id}}]}`;
    const res = await worker().fetch(`${BASE}/namespaces/exact/tables/ids`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN}` }, body: commit });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain(`"current-snapshot-id":${id}`);
    const again = await worker().fetch(`${BASE}/namespaces/exact/tables/ids`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(await again.text()).toContain(`"snapshot-id":${id}`);
    // The same commit again: the ref moved, so its requirement fails.
    await refused("/namespaces/exact/tables/ids", { method: "POST", body: commit }, 409, "CommitFailedException", /main/);
  });
});
