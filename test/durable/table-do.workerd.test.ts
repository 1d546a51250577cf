import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { ClaimStatus, KeyState } from "../../src/durable/keys.js";
import type { TableDO } from "../../src/durable/table-do.js";
import { rpc } from "../../src/errors.js";
import { newRequestId } from "../../src/names.js";

const E = env as unknown as Env;
const stubOf = (t: string) => E.TABLES.get(E.TABLES.idFromName(t));

describe("TableDO ledger", () => {
  it("answers fresh, busy (another live claim) and, after a commit, duplicate", async () => {
    const s = stubOf("default.ledger");
    const a = await s.claim("default.ledger", "batch-a", ["k1", "k2"]);
    expect([...a.status]).toEqual([ClaimStatus.Fresh, ClaimStatus.Fresh]);
    const b = await s.claim("default.ledger", "batch-b", ["k2", "k3", "k3", "k2"]);
    // A key twice in one batch: the second copy takes the first's status (a busy key stays busy:
    // the other claim may still fail, and then this row is needed).
    expect([...b.status]).toEqual([ClaimStatus.Busy, ClaimStatus.Fresh, ClaimStatus.Duplicate, ClaimStatus.Busy]);
    expect(b.fence).toBeGreaterThan(a.fence);
    // Abandoning a claim gives its keys back at once.
    await s.abandon("default.ledger", a.fence);
    const c = await s.claim("default.ledger", "batch-c", ["k1", "k2"]);
    expect([...c.status]).toEqual([ClaimStatus.Fresh, ClaimStatus.Fresh]);
  });

  it("refuses a commit with a fence that lost its keys", async () => {
    const s = stubOf("default.fenced");
    await s.ensureSchema("default.fenced", { type: "struct", fields: [{ id: 0, name: "x", required: false, type: "long" }] });
    const a = await s.claim("default.fenced", "batch-a", ["k"]);
    await s.abandon("default.fenced", a.fence);
    await s.claim("default.fenced", "batch-b", ["k"]);
    await expect(rpc(s.commit("default.fenced", "batch-a", a.fence, [], { schemaId: 0, specId: 0 }))).rejects.toMatchObject({ code: "commit_conflict", retryable: true, message: expect.stringMatching(/commit refused: .*fence/) });
  });

  it("forgets committed keys older than the dedupe window when its alarm runs", async () => {
    const s = stubOf("default.prune");
    await s.claim("default.prune", "b", ["old", "new"]);
    await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => {
      const day = 86_400_000;
      state.storage.sql.exec("UPDATE keys SET state = ?, at = ? WHERE key = 'old'", KeyState.Committed, Date.now() - 8 * day);
      state.storage.sql.exec("UPDATE keys SET state = ?, at = ? WHERE key = 'new'", KeyState.Committed, Date.now() - 1 * day);
    });
    expect(await runDurableObjectAlarm(s)).toBe(true);
    const keys = await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => state.storage.sql.exec<{ key: string }>("SELECT key FROM keys").toArray().map((r) => r.key));
    expect(keys).toEqual(["new"]);
  });
});

describe("TableDO commits in doubt", () => {
  it("keeps keys of a batch whose commit is being written busy, even after its lease ran out", async () => {
    const s = stubOf("default.doubt");
    const a = await s.claim("default.doubt", "batch-a", ["k"]);
    await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => {
      // As flushGroup leaves it while the metadata is being written: batch-a in doubt, its lease over.
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('in_doubt', ?)", JSON.stringify(["batch-a"]));
      state.storage.sql.exec("UPDATE keys SET lease_until = ? WHERE fence = ?", Date.now() - 1, a.fence);
    });
    const b = await s.claim("default.doubt", "batch-b", ["k"]);
    expect([...b.status]).toEqual([ClaimStatus.Busy]);
  });
});

describe("TableDO receipts of a commit settled from the lake", () => {
  it("records the parts of a batch found in a snapshot with that snapshot, when its commit's own record was lost", async () => {
    const t = "default.doubt_receipt";
    const s = stubOf(t);
    await s.configure(t, { schema: { type: "struct", fields: [{ id: 0, name: "x", required: false, type: "long" }] } });
    const requestId = newRequestId(t);
    const parts = [{ requestId, part: 0, rows: 1, requestRows: 1 }];
    const c = await s.claim(t, "batch-a", ["k"]);
    const done = await rpc(s.commit(t, "batch-a", c.fence, [], { schemaId: 0, specId: 0 }, { parts }));
    // As if the object died after writing the metadata and before recording it: the keys still
    // claimed, the batch in doubt with its parts, no receipt.
    await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => {
      state.storage.sql.exec("DELETE FROM request_parts");
      state.storage.sql.exec("UPDATE keys SET state = ? WHERE fence = ?", KeyState.Claimed, c.fence);
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('in_doubt', ?)", JSON.stringify(["batch-a"]));
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('in_doubt_parts', ?)", JSON.stringify([["batch-a", parts]]));
    });
    expect(await s.request(t, requestId, Date.now())).toBeNull();
    await s.abandon(t, c.fence); // settles the doubt from the lake first
    expect(await s.request(t, requestId, Date.now())).toMatchObject({ state: "committed", snapshotId: String(done.snapshotId), sequenceNumber: done.sequenceNumber });
    const again = await s.claim(t, "batch-b", ["k"]);
    expect([...again.status]).toEqual([ClaimStatus.Duplicate]);
  });
});

describe("TableDO lease renewal", () => {
  it("extends a live claim (a long upload) and refuses one that already ended", async () => {
    const s = stubOf("default.renew");
    const a = await s.claim("default.renew", "batch-a", ["k"]);
    const lease = async () => runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => state.storage.sql.exec<{ l: number }>("SELECT lease_until AS l FROM keys WHERE key = 'k'").one().l);
    const before = await lease();
    await new Promise((r) => setTimeout(r, 20));
    expect(await s.renew("default.renew", a.fence)).toBe(true);
    expect(await lease()).toBeGreaterThan(before);
    await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE claims SET lease_until = ? WHERE fence = ?", Date.now() - 1, a.fence);
    });
    expect(await s.renew("default.renew", a.fence)).toBe(false);
  });
});

describe("TableDO commit interval", () => {
  it("commits at most once per floe.commit.min-interval-ms; commits arriving meanwhile share one snapshot", async () => {
    const t = "default.interval";
    const s = stubOf(t);
    await s.configure(t, { schema: { type: "struct", fields: [{ id: 0, name: "x", required: false, type: "long" }] }, properties: { "floe.commit.min-interval-ms": "1500" } });
    const commitOne = async (k: string) => {
      const c = await s.claim(t, `b-${k}`, [k]);
      return rpc(s.commit(t, `b-${k}`, c.fence, [], { schemaId: 0, specId: 0 }));
    };
    const first = await commitOne("a");
    const started = Date.now();
    const [b, c] = await Promise.all([commitOne("b"), commitOne("c")]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // waited for the interval (workerd's clock moves with I/O)
    expect(b.snapshotId).toBe(c.snapshotId);
    expect(b.groupSize).toBe(2);
    expect(b.snapshotId).not.toBe(first.snapshotId);
  });
});
