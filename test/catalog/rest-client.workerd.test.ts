import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RestTableCatalog } from "../../src/catalog/rest-client.js";
import { stringifyExact as wire } from "../../src/iceberg/metadata.js";
import { FloeError } from "../../src/errors.js";
import { createTable } from "../../src/iceberg/transaction/create-table.js";
import type { TableCommit } from "../../src/iceberg/commit.js";
import { parseTableName } from "../../src/names.js";

/**
 * The client Floe commits through an external catalog with, against the REST catalog this Worker
 * serves (the real routes and TableDOs of the pool). Answers only an external catalog gives
 * (Basin's 400 ConcurrentUpdateError, a 429, a lost reply) are produced by wrapping that server's
 * transport, so the client's reading of each is checked.
 */
const worker = () => (exports as unknown as { default: Fetcher }).default;
const serve: typeof fetch = (input, init) => worker().fetch(input as RequestInfo, init);
const cfg = { uri: "http://floe.local/iceberg", warehouse: "warehouse", token: "test-admin-token" };
const schema = { type: "struct" as const, "schema-id": 0, fields: [{ id: 1, name: "a", type: "long" as const, required: false }] };
const create = () => createTable({ location: "ignored", schema, spec: { "spec-id": 0, fields: [] } });

function snapshotCommit(parent: bigint | null, id: bigint, seq: number): TableCommit {
  return {
    requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": parent }],
    updates: [
      { action: "add-snapshot", snapshot: { "snapshot-id": id, ...(parent === null ? {} : { "parent-snapshot-id": parent }), "sequence-number": seq, "timestamp-ms": 1_700_000_000_000, "manifest-list": "s3://floe-lake/warehouse/ext/t/metadata/snap.avro", summary: { operation: "append", "floe.batch-ids": `b${seq}` } } },
      { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": id },
    ],
  };
}

describe("RestTableCatalog", () => {
  it("creates (namespace too), loads, and commits with 64-bit ids exact; a stale commit is a conflict", async () => {
    const c = new RestTableCatalog(cfg, parseTableName("ext.t"), serve);
    expect(await c.load()).toBeNull();
    const t = await c.commit(create());
    expect(t.metadata.location).toBe("s3://floe-lake/warehouse/ext/t");
    const big = 9_000_000_000_000_000_123n;
    const after = await c.commit(snapshotCommit(null, big, 1));
    expect(after.metadata["current-snapshot-id"]).toBe(big);
    expect((await c.load())!.metadata.snapshots[0]["snapshot-id"]).toBe(big);
    const stale = await c.commit(snapshotCommit(null, 5n, 2)).catch((e) => e);
    expect(stale).toBeInstanceOf(FloeError);
    expect(stale.code).toBe("commit_conflict");
    // Created again by another writer meanwhile: the existing table is loaded.
    const again = await new RestTableCatalog(cfg, parseTableName("ext.t"), serve).commit(create());
    expect(again.metadata["current-snapshot-id"]).toBe(big);
  });

  it("reads Basin's 400 ConcurrentUpdateError as a conflict, 429 as slow down, 5xx and lost replies as unknown", async () => {
    const answer = (status: number, body: string, headers: Record<string, string> = {}): typeof fetch => async (input, init) => {
      if ((init?.method ?? "GET") !== "POST" || !String(input).includes("/tables/")) return serve(input, init);
      return new Response(body, { status, headers });
    };
    const commitWith = async (http: typeof fetch): Promise<FloeError> => {
      const c = new RestTableCatalog(cfg, parseTableName("ext.t"), http);
      return c.commit(snapshotCommit(1n, 2n, 9)).then(
        () => expect.unreachable("the commit was not refused") as never,
        (e) => e as FloeError,
      );
    };
    expect((await commitWith(answer(400, JSON.stringify({ error: { message: "Concurrent update to table", type: "ConcurrentUpdateError", code: 400 } })))).code).toBe("commit_conflict");
    const slow = await commitWith(answer(429, "slow down", { "Retry-After": "60" }));
    expect(slow.code).toBe("rate_limited");
    expect(slow.details?.retryAfter).toBe(60);
    const gateway = await commitWith(answer(504, "gateway timeout"));
    expect(gateway.code).toBe("storage_unavailable");
    expect(gateway.details?.outcome).toBe("unknown");
    const lost = await commitWith(async (input, init) => {
      if ((init?.method ?? "GET") === "POST" && String(input).includes("/tables/")) throw new TypeError("network connection lost");
      return serve(input, init);
    });
    expect(lost.details?.outcome).toBe("unknown");
    const plain = await commitWith(answer(403, "Forbidden")); // Basin answers 401/403 as plain text
    expect(plain.retryable).toBe(true);
    expect(plain.message).toMatch(/403 Forbidden.*FLOE_EXTERNAL_CATALOG_TOKEN/);
  });

  it("writes bigints as exact JSON integers", () => {
    expect(wire({ a: 2n ** 63n - 1n, b: [1n, "x"] })).toBe('{"a":9223372036854775807,"b":[1,"x"]}');
  });
});
