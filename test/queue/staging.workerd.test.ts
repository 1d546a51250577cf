import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { quarantine } from "../../src/queue/quarantine.js";
import { sweepStaging } from "../../src/queue/staging.js";

const E = env as unknown as Env;
const DAY = 86_400_000;
const keys = async (prefix: string) => (await E.LAKE.list({ prefix })).objects.map((o) => o.key).sort();

describe("staged request bodies", () => {
  it("are swept once older than the window (3 days), and not before", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const put = [`staging/${today}/a.ndjson`, `staging/${today}/b.ndjson`, "staging/2020-01-01/c.ndjson"];
    for (const k of put) await E.LAKE.put(k, '{"x":1}');
    expect(await sweepStaging(E)).toEqual({ deleted: 0 }); // all written just now
    expect(await keys("staging/")).toEqual(expect.arrayContaining(put));
    // Four days on, every one of them is stale.
    expect((await sweepStaging(E, Date.now() + 4 * DAY)).deleted).toBeGreaterThanOrEqual(3);
    for (const k of put) expect(await E.LAKE.head(k)).toBeNull();
  });

  it("of a quarantined message are copied beside its record first, so a replay still finds them", async () => {
    const stagingKey = `staging/${new Date().toISOString().slice(0, 10)}/q.ndjson`;
    await E.LAKE.put(stagingKey, '{"id":1}\n{"id":2}');
    const body = { v: 1, kind: "staged", table: "default.q", requestId: "r", keyPrefix: "k", stagingKey, count: 2, receivedAt: 0 };
    const key = await quarantine(E, "default.q", { id: "m1", attempts: 11, body }, "retries exhausted", "retries_exhausted");
    const record = JSON.parse(await (await E.LAKE.get(key))!.text());
    expect(record.stagedBody).toBe(key.replace(/\.json$/, ".ndjson"));
    await sweepStaging(E, Date.now() + 4 * DAY);
    expect(await E.LAKE.head(stagingKey)).toBeNull();
    expect(await (await E.LAKE.get(record.stagedBody))!.text()).toBe('{"id":1}\n{"id":2}');
  });
});
