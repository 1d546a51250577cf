import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readManifestList } from "../../src/iceberg/manifest-read.js";
import { loadTable } from "../../src/iceberg/table.js";
import { listAll } from "../../src/storage/object-store.js";
import { ADMIN_TOKEN, INGEST_TOKEN, duckdbOverFiles, icebirdRows, locationFor, startFloe, waitForRecords, walkLake, type FloeDev } from "../support/floe-dev.js";
import { until } from "../support/until.js";

/**
 * A table's life against `wrangler dev`: number inference that does not trap a JavaScript producer,
 * the limits that keep one request from bloating a table, dropping a table (and purging its files
 * after the grace period, here 4 s), and partition spec evolution read back by icebird and DuckDB.
 * The consumer waits 5 s for a batch, so a table can be dropped while its events are queued.
 */
describe("a table's life", () => {
  let dev: FloeDev;

  const api = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
    dev.call(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  const send = (table: string, rows: unknown, wait = true) => api("POST", `/v1/tables/${table}/events${wait ? "?wait=true" : ""}`, rows, INGEST_TOKEN);
  const rowsOf = async (table: string) => {
    const s = await dev.status(table);
    return s?.metadataLocation ? icebirdRows(dev, s.metadataLocation) : [];
  };

  beforeAll(async () => {
    dev = await startFloe({ FLOE_PURGE_GRACE_SECONDS: "4", FLOE_WAIT_TIMEOUT_MS: "25000" }, { batchTimeoutS: 5 });
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
  });

  test("an auto-created table types numbers as double: 0 first, then 1.5, both land", async () => {
    expect((await send("amounts", { id: 0, amount: 0 })).status).toBe(200);
    const r = await send("amounts", { id: 1, amount: 1.5 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const s = await dev.status("amounts");
    expect(s.schema.fields.map((f: any) => [f.name, f.type])).toEqual([["id", "double"], ["amount", "double"]]);
    expect(s.policy.numbers).toBe("double");
    // The policy in force is written into the table's properties (what any engine reading it sees).
    const t = (await loadTable(dev.lake, locationFor("amounts")))!;
    expect(t.metadata.properties["floe.infer.numbers"]).toBe("double");
    expect((await rowsOf("amounts")).sort((a, b) => Number(a.id) - Number(b.id))).toEqual([{ id: 0, amount: 0 }, { id: 1, amount: 1.5 }]);
  });

  test("with floe.infer.numbers=long, a fraction in a long column is refused with how to fix it, and nothing lands", async () => {
    expect((await api("PUT", "/v1/tables/counts", { properties: { "floe.infer.numbers": "long" } })).status).toBe(200);
    expect((await send("counts", { id: 1, amount: 0 })).status).toBe(200);
    expect((await dev.status("counts")).schema.fields.map((f: any) => f.type)).toEqual(["long", "long"]);
    const r = await send("counts", [{ id: 2, amount: 3 }, { id: 3, amount: 1.5 }]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_input");
    expect(r.body.error.details.errors[0]).toMatchObject({ row: 1, field: "amount" });
    expect(r.body.error.details.errors[0].message).toMatch(/1\.5 is not an integer, and the column is long.*DELETE \/v1\/tables\/\{table\}.*declared "double".*floe\.infer\.numbers=double/);
    expect((await dev.status("counts")).totalRecords).toBe(1);
    // A policy value that means nothing is refused, naming the property.
    const bad = await api("PUT", "/v1/tables/counts", { properties: { "floe.infer.numbers": "decimal" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe("properties.floe.infer.numbers");
  });

  test("each limit refuses with 400 naming the limit and the field; nothing is added; the service keeps serving", async () => {
    expect((await api("PUT", "/v1/tables/limited", { properties: { "floe.limit.columns": "6", "floe.limit.rows-per-request": "50" } })).status).toBe(200);
    expect((await send("limited", { a: 1, b: "x" })).status).toBe(200);
    const wide = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`f${i}`, i]));
    const deep = JSON.parse(`${'{"n":'.repeat(40)}1${"}".repeat(40)}`);
    const cases: [string, unknown, string, string | undefined][] = [
      ["20,000 fields", wide, "floe.limit.new-columns-per-request", "f100"],
      ["past the table's columns", { c: 1, d: 2, e: 3, f: 4, g: 5 }, "floe.limit.columns", "g"],
      ["too deep", { deep }, "floe.limit.depth", `deep${".n".repeat(16)}`],
      ["a long name", { ["k".repeat(300)]: 1 }, "floe.limit.field-name-length", undefined],
      ["too many rows", Array.from({ length: 51 }, (_, i) => ({ a: i })), "floe.limit.rows-per-request", undefined],
    ];
    for (const [what, body, limit, field] of cases) {
      const r = await send("limited", body, false);
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe("invalid_input");
      const details = r.body.error.details.limit ? r.body.error.details : r.body.error.details.errors?.[0];
      expect(details, `${what}: ${JSON.stringify(r.body)}`).toMatchObject({ limit });
      if (field) expect(details.field, what).toBe(field);
      expect(details.message ?? r.body.error.message, what).toContain(limit);
      expect((await dev.call("/healthz")).status).toBe(200);
    }
    const s = await dev.status("limited");
    expect(s.totalRecords).toBe(1);
    expect(s.schema.fields.map((f: any) => f.name)).toEqual(["a", "b"]);
  });

  test("drop and recreate: events queued before the drop are discarded, the new table holds only the new rows, purge deletes the old files after the grace period", async () => {
    await send("reborn", Array.from({ length: 5 }, (_, i) => ({ id: i, era: "old" })));
    expect((await dev.status("reborn")).totalRecords).toBe(5);
    const oldLoc = locationFor("reborn");
    expect((await listAll(dev.lake, `${oldLoc.key}/`)).length).toBeGreaterThan(0);
    // Queued, not yet written (the consumer waits 5 s for a batch) when the table is dropped.
    const queued = await send("reborn", [{ id: 100, era: "queued" }], false);
    expect(queued.status).toBe(202);

    expect((await api("DELETE", "/v1/tables/reborn", undefined, INGEST_TOKEN)).status).toBe(403);
    const d = await api("DELETE", "/v1/tables/reborn?purge=true");
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    expect(d.body).toMatchObject({ table: "default.reborn", dropped: true, metadataLocation: expect.stringMatching(/metadata\/v\d+\.metadata\.json$/), purge: { location: oldLoc.uri } });
    // Gone at once from status and listings.
    expect((await api("GET", "/v1/tables/reborn")).status).toBe(404);
    expect((await api("GET", "/v1/tables")).body.tables.map((t: any) => t.table)).not.toContain("default.reborn");
    expect((await api("DELETE", "/v1/tables/reborn")).status).toBe(404);

    // The queued event's batch comes and goes: it is discarded, not written into a new table.
    await until("the queued event to be discarded", async () => dev.logs(), (l) => l.includes('"event":"discard"') && l.includes(queued.body.requestId), { ms: 30_000 });
    expect(await dev.status("reborn")).toBeUndefined();

    // Recreated under the same name: only the new rows, in a location of its own.
    expect((await send("reborn", [{ id: 7, era: "new" }])).status).toBe(200);
    const s = await dev.status("reborn");
    expect(s.location.key).not.toBe(oldLoc.key);
    expect(await rowsOf("reborn")).toEqual([{ id: 7, era: "new" }]);

    // After the grace period the old location is empty; the new table's files are untouched.
    await until("the old files to be purged", () => listAll(dev.lake, `${oldLoc.key}/`), (l) => l.length === 0, { ms: 60_000, every: 1000 });
    expect(await rowsOf("reborn")).toEqual([{ id: 7, era: "new" }]);
    expect((await walkLake(dev.lake, s.location)).missing).toEqual([]);
  });

  test("partition evolution: rows before and after a new partitionBy read back by icebird and DuckDB", async () => {
    expect((await api("PUT", "/v1/tables/evolving", { schema: { fields: [{ name: "id", type: "long" }, { name: "at", type: "timestamptz" }, { name: "kind", type: "string" }] } })).status).toBe(200);
    const before = Array.from({ length: 4 }, (_, i) => ({ id: i, at: `2026-11-0${i + 1}T10:00:00Z`, kind: i % 2 ? "a" : "b" }));
    expect((await send("evolving", before)).status).toBe(200);
    const p = await api("PUT", "/v1/tables/evolving", { partitionBy: [{ source: "at", transform: "day" }, { source: "kind", transform: "identity" }] });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body.partitionSpec).toMatchObject({ "spec-id": 1, fields: [{ name: "at_day", transform: "day", "field-id": 1000 }, { name: "kind", transform: "identity", "field-id": 1001 }] });
    const after = Array.from({ length: 4 }, (_, i) => ({ id: 10 + i, at: `2026-11-2${i}T10:00:00Z`, kind: i % 2 ? "a" : "b" }));
    expect((await send("evolving", after)).status).toBe(200);
    // Back to the first spec: made the default again, not added twice.
    const back = await api("PUT", "/v1/tables/evolving", { partitionBy: [] });
    expect(back.body.partitionSpec).toMatchObject({ "spec-id": 0, fields: [] });
    expect((await send("evolving", [{ id: 99, at: "2026-12-01T00:00:00Z", kind: "c" }])).status).toBe(200);

    const loc = locationFor("evolving");
    const t = (await loadTable(dev.lake, loc))!;
    expect(t.metadata["partition-specs"].map((s) => s["spec-id"])).toEqual([0, 1]);
    expect(t.metadata["last-partition-id"]).toBe(1001);
    const key = (uri: string) => `${loc.key}/${uri.slice(loc.uri.length + 1)}`;
    const snap = t.metadata.snapshots.find((s) => s["snapshot-id"] === t.metadata["current-snapshot-id"])!;
    const manifests = readManifestList((await dev.lake.get(key(snap["manifest-list"])))!);
    expect(new Set(manifests.map((m) => m.partitionSpecId))).toEqual(new Set([0, 1]));

    const ids = [...before, ...after].map((r) => r.id).concat(99);
    const icebird = await icebirdRows(dev, (await dev.status("evolving")).metadataLocation);
    expect(icebird.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(ids);
    const files = (await walkLake(dev.lake, loc)).currentDataFiles;
    expect(files.some((f) => f.includes("/at_day=2026-11-20/kind=b/"))).toBe(true);
    const duck = await duckdbOverFiles(dev.lake, files, "SELECT id::BIGINT AS id, kind FROM {files} ORDER BY id");
    expect(duck.map((r) => Number(r.id))).toEqual(ids);
  });
});
