import { until } from "../support/until.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { loadTable } from "../../src/iceberg/table.js";
import { ADMIN_TOKEN, INGEST_TOKEN, LAKE, duckdbOverFiles, icebirdRows, locationFor, startFloe, waitForRecords, walkLake, type FloeDev } from "../support/floe-dev.js";
import { FloeDoc } from "../support/floe-openapi.js";

/**
 * What an operator and a producer see, against `wrangler dev`: commit receipts (`wait=true`, the
 * status URL), the quarantine and its replay read back by icebird and DuckDB, the log lines that
 * follow an event, and every answer checked against the generated OpenAPI document. The consumer
 * here waits 5 s for a batch, so a table can be changed after its events were queued.
 */
describe("the operator's view", () => {
  let dev: FloeDev;
  let doc: FloeDoc;
  const answers: { method: string; path: string; status: number; body: unknown }[] = [];
  const WRONG = "not-the-token-5f2c9a";

  const api = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const r = await dev.call(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    answers.push({ method, path, status: r.status, body: r.body });
    return r;
  };


  /** Floe's own log lines (JSON objects), as wrangler dev printed them. */
  const floeLines = () =>
    dev
      .logs()
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("{") && l.includes('"event"'))
      .map((l) => { try { return JSON.parse(l) as Record<string, any>; } catch { return null; } })
      .filter((x): x is Record<string, any> => x !== null);

  beforeAll(async () => {
    dev = await startFloe({ FLOE_WAIT_TIMEOUT_MS: "25000" }, { batchTimeoutS: 5 });
    const d = await dev.call("/openapi.json");
    expect(d.status).toBe(200);
    doc = await FloeDoc.load(d.body);
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
  });

  test("wait=true answers once committed, with the snapshot whose files hold the rows", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, n: `row ${i}` }));
    const r = await api("POST", "/v1/tables/receipts/events?wait=true", rows, INGEST_TOKEN);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ accepted: 50, requestId: expect.stringMatching(/~default\.receipts$/), snapshotId: expect.stringMatching(/^-?\d+$/), sequenceNumber: 1 });
    expect(Date.parse(r.body.committedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(r.headers.get("floe-request-id")).toBe(r.body.requestId);

    // The snapshot names the batch, and the files it added hold exactly these rows.
    const loc = locationFor("receipts");
    const t = (await loadTable(dev.lake, loc))!;
    const snap = t.metadata.snapshots.find((s) => String(s["snapshot-id"]) === r.body.snapshotId)!;
    expect(snap).toBeDefined();
    expect(snap.summary["added-records"]).toBe("50");
    const batchIds = snap.summary["floe.batch-ids"].split(",");
    const key = (uri: string) => `${loc.key}/${uri.slice(loc.uri.length + 1)}`;
    const added: string[] = [];
    for (const m of readManifestList((await dev.lake.get(key(snap["manifest-list"])))!)) {
      for (const e of readManifest((await dev.lake.get(key(m.manifestPath)))!).entries) if (e.status === 1 && String(e.snapshotId) === r.body.snapshotId) added.push(key(e.dataFile.filePath));
    }
    const ids = await duckdbOverFiles(dev.lake, added, "SELECT id FROM {files} ORDER BY id");
    expect(ids.map((x) => Number(x.id))).toEqual(rows.map((x) => x.id));

    // The log lines lead from the request to its batch and from the batch to this commit.
    const lines = floeLines();
    expect(lines.find((l) => l.event === "request" && l.requestId === r.body.requestId)).toMatchObject({ method: "POST", path: "/v1/tables/receipts/events", status: 200 });
    const batch = lines.find((l) => l.event === "batch" && l.outcome === "committed" && l.requestIds?.includes(r.body.requestId));
    expect(batch).toMatchObject({ table: "default.receipts", snapshotId: r.body.snapshotId, rows: 50 });
    expect(batchIds).toContain(batch!.batchId);
    expect(lines.find((l) => l.event === "commit" && l.batchIds?.includes(batch!.batchId))).toMatchObject({ snapshotId: r.body.snapshotId, table: "default.receipts" });
  });

  test("a wait that runs out answers 202 with a status URL that later says committed", async () => {
    const r = await api("POST", "/v1/tables/receipts/events?wait=true&timeout=0.5", [{ id: 100, n: "late" }], INGEST_TOKEN);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ accepted: 1, state: "pending", status: `/v1/requests/${r.body.requestId}` });
    const done = await until("committed", () => api("GET", r.body.status, undefined, INGEST_TOKEN), (x) => x.body.state === "committed", { context: () => dev.logs().slice(-3000) });
    expect(done.body).toMatchObject({ table: "default.receipts", rows: 1, committedRows: 1 });
    const t = (await loadTable(dev.lake, locationFor("receipts")))!;
    expect(String(t.metadata["current-snapshot-id"])).toBe(done.body.snapshotId);
  });

  test("events quarantined when the table turned strict after they were queued are replayed once the table takes them, each row once", async () => {
    expect((await api("PUT", "/v1/tables/audit", { schema: { fields: [{ name: "id", type: "long" }] } })).status).toBe(200);
    const sent = await api("POST", "/v1/tables/audit/events", [{ id: 1, note: "a" }, { id: 2, note: "b" }], INGEST_TOKEN);
    expect(sent.status).toBe(202);
    // Accepted while the table evolves; it turns strict before the consumer (5 s batches) writes them.
    expect((await api("PUT", "/v1/tables/audit", { mode: "strict" })).body.mode).toBe("strict");
    const q = await until("quarantined", () => api("GET", "/v1/tables/audit/quarantine"), (x) => x.body.entries?.length === 1);
    const entry = q.body.entries[0];
    expect(entry).toMatchObject({ state: "quarantined", code: "invalid_input", rows: 2, requestId: sent.body.requestId });
    expect(entry.reason).toMatch(/note/);
    expect((await api("GET", sent.body.status, undefined, INGEST_TOKEN)).body).toMatchObject({ state: "quarantined", quarantine: { id: entry.id } });

    // The table takes the field now; replay all, and the same entry again by id while it is in flight.
    expect((await api("PUT", "/v1/tables/audit", { schema: { fields: [{ name: "note", type: "string" }] } })).status).toBe(200);
    expect((await api("POST", "/v1/tables/audit/quarantine/replay", { all: true })).body.replayed).toEqual([entry.id]);
    expect((await api("POST", "/v1/tables/audit/quarantine/replay", { ids: [entry.id] })).body.replayed).toEqual([entry.id]);
    await until("landed", () => api("GET", "/v1/tables/audit/quarantine?state=landed"), (x) => x.body.entries?.length === 1);
    await waitForRecords(dev, "audit", 2, 30_000);
    await until("receipt", () => api("GET", sent.body.status, undefined, INGEST_TOKEN), (x) => x.body.state === "committed");
    // The second replay's two rows were dropped as duplicates (in the same batch or a later one):
    // once counted, both replays have been through the consumer.
    const after = await until("second replay dropped", async () => (await dev.status("audit"))!, (x) => x.duplicatesDropped >= 2);
    expect(after.totalRecords).toBe(2);
    expect(after.quarantine).toEqual({ quarantined: 0, replayed: 0, landed: 1 });

    const canon = (rows: Record<string, unknown>[]) => rows.map((x) => `${Number(x.id)}:${String(x.note)}`).sort();
    expect(canon(await icebirdRows(dev, after.metadataLocation))).toEqual(["1:a", "2:b"]);
    const walk = await walkLake(dev.lake, locationFor("audit"));
    expect(canon(await duckdbOverFiles(dev.lake, walk.currentDataFiles, "SELECT id, note FROM {files}"))).toEqual(["1:a", "2:b"]);
  }, 120_000);

  test("refusals name what and where, and the service goes on", async () => {
    const limit = await api("GET", "/v1/tables/audit/uploads?limit=lots");
    expect(limit.status).toBe(400);
    expect(limit.body.error).toMatchObject({ code: "invalid_input", details: { in: "query", issues: [expect.objectContaining({ path: "limit" })] } });
    expect((await api("GET", "/v1/requests/nope")).status).toBe(400);
    expect((await api("POST", "/v1/tables/audit/quarantine/replay", "{not json")).body.error.code).toBe("invalid_input");
    expect((await api("POST", "/v1/tables/audit/quarantine/replay", { all: false })).status).toBe(400);
    expect((await api("GET", "/v1/tables/audit/quarantine", undefined, WRONG)).status).toBe(401);
    expect((await api("POST", "/v1/tables/audit/events?wait=maybe", [{ id: 3 }], INGEST_TOKEN)).status).toBe(400);
    expect((await api("GET", "/healthz")).status).toBe(200);
  });

  test("every answer above is one the OpenAPI document declares, with its schema", () => {
    expect(answers.length).toBeGreaterThan(15);
    expect(answers.flatMap((a) => doc.check(a.method, a.path, a.status, a.body))).toEqual([]);
  });

  test("log lines are JSON with their ids, and never hold a token or a secret", () => {
    const lines = floeLines();
    expect(lines.filter((l) => l.event === "request").length).toBeGreaterThan(10);
    for (const l of lines) {
      expect(typeof l.at).toBe("string");
      expect(["info", "warn", "error"]).toContain(l.level);
    }
    expect(lines.some((l) => l.event === "quarantine" && l.table === "default.audit")).toBe(true);
    expect(lines.some((l) => l.event === "replay" && l.table === "default.audit")).toBe(true);
    const text = lines.map((l) => JSON.stringify(l)).join("\n");
    for (const secret of [ADMIN_TOKEN, INGEST_TOKEN, LAKE.secretAccessKey, WRONG, "Bearer"]) expect(text).not.toContain(secret);
    // A token sent with a refused request appears nowhere in what wrangler printed either.
    expect(dev.logs()).not.toContain(WRONG);
  });
});
