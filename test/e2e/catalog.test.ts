import { ByteWriter } from "hyparquet-writer";
import { icebergCreate } from "icebird";
import { IcebergError, IcebergRestCatalog } from "iceberg-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TableCommit } from "../../src/iceberg/commit.js";
import { parseMetadata, serializeMetadata, type TableMetadata } from "../../src/iceberg/metadata.js";
import { parseExactJson } from "../../src/catalog/requests.js";
import { stringifyExact as wire } from "../../src/iceberg/metadata.js";
import { compileRowConverter } from "../../src/iceberg/rows.js";
import { currentSchema, defaultSpec } from "../../src/iceberg/metadata.js";
import type { LoadedTable, TableLocation } from "../../src/iceberg/table.js";
import { planAppend } from "../../src/iceberg/transaction/append.js";
import { PartitionedFileWriter } from "../../src/iceberg/write-files.js";
import { ADMIN_TOKEN, INGEST_TOKEN, LAKE, duckdbOverFiles, icebirdRows, startFloe, walkLake, type FloeDev } from "../support/floe-dev.js";
import { checkResponse, operationOf } from "../support/openapi.js";

const CATALOG_TOKEN = "e2e-catalog-token";
const NS = "analytics";

/**
 * The REST catalog driven by iceberg-js (a client we did not write) against `wrangler dev`. Every
 * response any request here receives is checked against the spec's OpenAPI document.
 */
describe("Iceberg REST catalog under /iceberg", () => {
  let dev: FloeDev;
  let admin: IcebergRestCatalog;
  let reader: IcebergRestCatalog;
  const problems: string[] = [];
  const exercised = new Set<string>();

  /** fetch for the clients: passes every catalog response through the OpenAPI check. */
  const checkedFetch: typeof fetch = async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const res = await fetch(req);
    const path = new URL(req.url).pathname.replace(/^\/iceberg/, "");
    const text = await res.clone().text();
    problems.push(...checkResponse(req.method, path, res.status, text));
    const op = operationOf(req.method, path);
    if (op) exercised.add(`${req.method} ${op.template} ${res.status}`);
    return res;
  };
  const raw = (path: string, init: RequestInit & { token?: string } = {}) =>
    checkedFetch(`${dev.url}/iceberg${path}`, { ...init, headers: { Authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`, "Content-Type": "application/json", ...(init.headers ?? {}) } });

  beforeAll(async () => {
    dev = await startFloe({
      FLOE_CATALOG_TOKEN: CATALOG_TOKEN,
      FLOE_CATALOG_VEND_CREDENTIALS: "admin",
      FLOE_CATALOG_S3_ACCESS_KEY_ID: LAKE.accessKeyId,
      FLOE_CATALOG_S3_SECRET_ACCESS_KEY: LAKE.secretAccessKey,
    });
    admin = new IcebergRestCatalog({ baseUrl: `${dev.url}/iceberg`, warehouse: LAKE.warehouse, auth: { type: "bearer", token: ADMIN_TOKEN }, fetch: checkedFetch });
    reader = new IcebergRestCatalog({ baseUrl: `${dev.url}/iceberg`, warehouse: LAKE.warehouse, auth: { type: "bearer", token: CATALOG_TOKEN }, fetch: checkedFetch });
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
  });

  test("config names the prefix and exactly the implemented endpoints", async () => {
    const config = await admin.loadConfig();
    expect(config.overrides?.prefix).toBe("floe");
    expect(config.endpoints).toContain("POST /v1/{prefix}/transactions/commit");
    expect(config.endpoints).not.toContain("POST /v1/{prefix}/tables/rename");
    expect(config.defaults?.["s3.endpoint"]).toBe(dev.s3Endpoint);
    expect((await raw("/v1/config?warehouse=warehouse")).status).toBe(200);
    const wrong = await raw("/v1/config?warehouse=elsewhere");
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as any).error.type).toBe("BadRequestException");
  });

  test("namespaces: create, exists, load, properties, list with pages, drop only when empty", async () => {
    await admin.createNamespace({ namespace: [NS] }, { properties: { owner: "data-team" } });
    await admin.createNamespace({ namespace: ["scratch"] });
    expect(await reader.namespaceExists({ namespace: [NS] })).toBe(true);
    expect(await reader.namespaceExists({ namespace: ["nope"] })).toBe(false);
    expect((await reader.loadNamespaceMetadata({ namespace: [NS] })).properties).toEqual({ owner: "data-team" });
    const changed = await admin.updateNamespaceProperties({ namespace: [NS] }, { updates: { tier: "gold" }, removals: ["owner", "absent"] });
    expect(changed).toMatchObject({ updated: ["tier"], removed: ["owner"], missing: ["absent"] });
    expect((await reader.loadNamespaceMetadata({ namespace: [NS] })).properties).toEqual({ tier: "gold" });

    const all = await reader.listNamespaces();
    expect(all.namespaces.map((n) => n.namespace)).toEqual(expect.arrayContaining([[NS], ["scratch"]]));
    // Pages of one: every namespace once, in order, then a null token.
    const paged: string[][] = [];
    let token: string | undefined = "";
    do {
      const page = await reader.listNamespaces({ pageToken: token, pageSize: 1 } as never);
      expect(page.namespaces.length).toBeLessThanOrEqual(1);
      paged.push(...page.namespaces.map((n) => n.namespace));
      token = page.nextPageToken;
    } while (token);
    expect(paged).toEqual(all.namespaces.map((n) => n.namespace));

    const dup = await admin.createNamespace({ namespace: ["scratch"] }).catch((e) => e);
    expect(dup).toBeInstanceOf(IcebergError);
    expect(dup.status).toBe(409);
    expect(dup.icebergType).toBe("AlreadyExistsException");
    await admin.dropNamespace({ namespace: ["scratch"] });
    expect(await reader.namespaceExists({ namespace: ["scratch"] })).toBe(false);
    const gone = await reader.loadNamespaceMetadata({ namespace: ["scratch"] }).catch((e) => e);
    expect(gone.status).toBe(404);
    expect(gone.icebergType).toBe("NoSuchNamespaceException");
  });

  const schema = {
    type: "struct" as const,
    "schema-id": 0,
    fields: [
      { id: 1, name: "id", type: "long" as const, required: false },
      { id: 2, name: "source", type: "string" as const, required: false },
      { id: 3, name: "n", type: "long" as const, required: false },
    ],
  };

  test("tables: create, load with ETag and 304, exists, list, commit, errors", async () => {
    const created = await admin.createTable({ namespace: [NS] }, { name: "events", schema, "partition-spec": { "spec-id": 0, fields: [{ "source-id": 2, "field-id": 1000, name: "source", transform: "identity" }] } });
    expect(created.location).toBe(`s3://${LAKE.bucket}/${LAKE.warehouse}/${NS}/events`);
    expect(await reader.tableExists({ namespace: [NS], name: "events" })).toBe(true);
    expect(await reader.tableExists({ namespace: [NS], name: "missing" })).toBe(false);

    const loaded = await admin.loadTableResult({ namespace: [NS], name: "events" });
    expect(loaded!["metadata-location"]).toMatch(/\/metadata\/v1\.metadata\.json$/);
    expect(loaded!.config?.["s3.region"]).toBe("auto");
    expect(loaded!.config?.["s3.access-key-id"]).toBe(LAKE.accessKeyId); // the admin token may receive keys
    expect(loaded!.etag).toBeTruthy();
    expect(await admin.loadTable({ namespace: [NS], name: "events" }, { ifNoneMatch: loaded!.etag! })).toBeNull();
    // The read-only token gets no keys.
    const forReader = await reader.loadTableResult({ namespace: [NS], name: "events" });
    expect(forReader!.config?.["s3.access-key-id"]).toBeUndefined();
    expect(forReader!["storage-credentials"]).toBeUndefined();

    const list = await reader.listTables({ namespace: [NS] });
    expect(list.identifiers).toEqual([{ namespace: [NS], name: "events" }]);

    // A commit iceberg-js sends: properties, guarded by the table's uuid.
    const uuid = created["table-uuid"];
    const after = await admin.updateTable({ namespace: [NS], name: "events" }, { requirements: [{ type: "assert-table-uuid", uuid }], updates: [{ action: "set-properties", updates: { "comment": "from iceberg-js" } }] });
    expect(after.metadata.properties?.comment).toBe("from iceberg-js");
    expect(await admin.loadTable({ namespace: [NS], name: "events" }, { ifNoneMatch: loaded!.etag! })).not.toBeNull();

    const stale = await admin.updateTable({ namespace: [NS], name: "events" }, { requirements: [{ type: "assert-table-uuid", uuid: crypto.randomUUID() }], updates: [] }).catch((e) => e);
    expect(stale.status).toBe(409);
    expect(stale.icebergType).toBe("CommitFailedException");

    const unknown = await raw(`/v1/floe/namespaces/${NS}/tables/events`, { method: "POST", body: JSON.stringify({ requirements: [], updates: [{ action: "set-statistics-someday" }] }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.message).toMatch(/unknown update action "set-statistics-someday"/);
    const unknownReq = await raw(`/v1/floe/namespaces/${NS}/tables/events`, { method: "POST", body: JSON.stringify({ requirements: [{ type: "assert-moon-phase" }], updates: [] }) });
    expect(unknownReq.status).toBe(400);

    const missing = await reader.loadTable({ namespace: [NS], name: "missing" }).catch((e) => e);
    expect(missing.status).toBe(404);
    expect(missing.icebergType).toBe("NoSuchTableException");
    const noNs = await reader.listTables({ namespace: ["nope"] }).catch((e) => e);
    expect(noNs.icebergType).toBe("NoSuchNamespaceException");
    const twice = await admin.createTable({ namespace: [NS] }, { name: "events", schema }).catch((e) => e);
    expect(twice.status).toBe(409);
    expect(twice.icebergType).toBe("AlreadyExistsException");
    const notEmpty = await admin.dropNamespace({ namespace: [NS] }).catch((e) => e);
    expect(notEmpty.status).toBe(409);
    expect(notEmpty.icebergType).toBe("NamespaceNotEmptyException");
  });

  test("auth: no token 401, wrong token 401, the catalog token may not write (403), oauth/tokens explains itself", async () => {
    const none = await fetch(`${dev.url}/iceberg/v1/config`);
    expect(none.status).toBe(401);
    expect(checkResponse("GET", "/v1/config", none.status, await none.text())).toEqual([]);
    const wrong = await raw("/v1/floe/namespaces", { token: "not-a-token" });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.type).toBe("NotAuthorizedException");
    const write = await reader.createNamespace({ namespace: ["forbidden"] }).catch((e) => e);
    expect(write.status).toBe(403);
    expect(write.icebergType).toBe("ForbiddenException");
    const oauth = await raw("/v1/oauth/tokens", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials&client_id=a&client_secret=b" });
    expect(oauth.status).toBe(400);
    expect(((await oauth.json()) as any).error).toBe("unsupported_grant_type");
    const renamed = await raw("/v1/floe/tables/rename", { method: "POST", body: JSON.stringify({ source: { namespace: [NS], name: "events" }, destination: { namespace: [NS], name: "e2" } }) });
    expect(renamed.status).toBe(406);
    expect((await raw("/v1/floe/namespaces", { method: "POST", body: "{not json" })).status).toBe(400);
    expect((await raw("/v1/other/namespaces")).status).toBe(404);
    expect((await dev.call("/healthz")).status).toBe(200);
  });

  test("staged create, then the create committed through transactions/commit (as DuckDB does)", async () => {
    const staged = await raw(`/v1/floe/namespaces/${NS}/tables`, { method: "POST", body: JSON.stringify({ name: "staged", schema, "stage-create": true }) });
    expect(staged.status).toBe(200);
    const body = (await staged.json()) as any;
    expect(body["metadata-location"]).toBeNull();
    expect(await admin.tableExists({ namespace: [NS], name: "staged" })).toBe(false);
    const m = body.metadata;
    const commit = {
      "table-changes": [
        {
          identifier: { namespace: [NS], name: "staged" },
          requirements: [{ type: "assert-create" }],
          updates: [
            { action: "assign-uuid", uuid: m["table-uuid"] },
            { action: "upgrade-format-version", "format-version": 2 },
            { action: "add-schema", schema: m.schemas[0] },
            { action: "set-current-schema", "schema-id": -1 },
            { action: "add-spec", spec: m["partition-specs"][0] },
            { action: "set-default-spec", "spec-id": -1 },
            { action: "add-sort-order", "sort-order": m["sort-orders"][0] },
            { action: "set-default-sort-order", "sort-order-id": -1 },
            { action: "set-location", location: m.location },
            { action: "set-properties", updates: { "created-by": "duckdb-like" } },
          ],
        },
      ],
    };
    const r = await raw("/v1/floe/transactions/commit", { method: "POST", body: JSON.stringify(commit) });
    expect(r.status).toBe(204);
    const t = await admin.loadTable({ namespace: [NS], name: "staged" });
    expect(t["table-uuid"]).toBe(m["table-uuid"]);
    expect(t.properties?.["created-by"]).toBe("duckdb-like");
    expect((await admin.listTables({ namespace: [NS] })).identifiers.map((i) => i.name)).toContain("staged");
    // The same create again: the table exists now, so assert-create fails (409).
    const again = await raw("/v1/floe/transactions/commit", { method: "POST", body: JSON.stringify(commit) });
    expect(again.status).toBe(409);
    // Two tables in one transaction: refused whole.
    const two = await raw("/v1/floe/transactions/commit", { method: "POST", body: JSON.stringify({ "table-changes": [commit["table-changes"][0], { ...commit["table-changes"][0], identifier: { namespace: [NS], name: "other" } }] }) });
    expect(two.status).toBe(400);
    expect(await admin.tableExists({ namespace: [NS], name: "other" })).toBe(false);
    // Moving the table elsewhere is refused.
    const moved = await admin.updateTable({ namespace: [NS], name: "staged" }, { requirements: [], updates: [{ action: "set-location", location: `s3://${LAKE.bucket}/${LAKE.warehouse}/${NS}/events` }] }).catch((e) => e);
    expect(moved.status).toBe(400);
  });

  /** The table as the catalog holds it, with snapshot ids exact (iceberg-js's JSON.parse would round them). */
  async function exactTable(name: string): Promise<LoadedTable> {
    const r = await raw(`/v1/floe/namespaces/${NS}/tables/${name}`);
    expect(r.status).toBe(200);
    const body = parseExactJson(await r.text()) as { "metadata-location": string; metadata: unknown };
    const metadata = parseMetadata(serializeMetadata(body.metadata as TableMetadata));
    return { metadata, version: 0, metadataKey: "", metadataLocation: body["metadata-location"], metadataBytes: 0 };
  }

  /** An engine's append: Parquet and manifests written to the lake, the snapshot committed through the catalog. */
  async function clientAppend(name: string, rows: Record<string, unknown>[], send: (commit: TableCommit) => Promise<Response>, snapshotId?: bigint): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const base = await exactTable(name);
      const m: TableMetadata = base.metadata;
      const loc: TableLocation = { uri: m.location, key: m.location.replace(`s3://${LAKE.bucket}/`, "") };
      const s = currentSchema(m);
      const w = new PartitionedFileWriter(dev.lake, loc, s, defaultSpec(m), {});
      await w.write(compileRowConverter(s, { unknownFields: "error" })(rows, 0));
      const files = await w.finish();
      const change = await planAppend(dev.lake, loc, base, files, { startSchemaId: m["current-schema-id"], startLastColumnId: m["last-column-id"], summary: { client: "test-engine" }, snapshotId });
      const r = await send(change.commit);
      if (r.status === 200 || r.status === 204) return attempt;
      expect(r.status).toBe(409); // another writer (Floe's ingest) committed first: refresh and retry, as engines do
      await dev.lake.delete([...change.written, ...files.map((f) => f.filePath.replace(`s3://${LAKE.bucket}/`, ""))]);
      if (attempt > 30) throw new Error("too many conflicts");
    }
  }


  test("Floe's ingest and an engine's commits interleave on one table: every row once, read by icebird and DuckDB", async () => {
    const id = { namespace: [NS], name: "events" };
    const ingest = async (from: number, count: number) => {
      const body = Array.from({ length: count }, (_, i) => JSON.stringify({ id: from + i, source: "floe", n: from + i })).join("\n");
      const r = await dev.call(`/v1/tables/${NS}.events/events`, { method: "POST", headers: { Authorization: `Bearer ${INGEST_TOKEN}`, "Content-Type": "application/x-ndjson", "Idempotency-Key": `batch-${from}` }, body });
      expect(r.status).toBe(202);
    };
    // Ingest keeps committing while the engine appends through the catalog (iceberg-js commits,
    // then one raw commit with a snapshot id above 2^53, as Java engines choose them).
    const floeBatches = 16;
    let ingestDone = false;
    const ingesting = (async () => {
      for (let b = 0; b < floeBatches; b++) {
        await ingest(b * 50, 50);
        await new Promise((r) => setTimeout(r, 400));
      }
      ingestDone = true;
    })();
    const viaIcebergJs = async (commit: TableCommit) => {
      const asNumbers = JSON.parse(wire(commit)) as never; // ids here are below 2^53: iceberg-js can carry them
      try {
        await admin.updateTable(id, asNumbers);
        return new Response(null, { status: 200 });
      } catch (e) {
        if (e instanceof IcebergError) return new Response(null, { status: e.status });
        throw e;
      }
    };
    // The engine appends for as long as ingest runs (and at least 8 times).
    let conflicts = 0;
    let clientRows = 0;
    while (!ingestDone || clientRows < 8) {
      conflicts += (await clientAppend("events", [{ id: 100_000 + clientRows, source: "engine", n: clientRows }], viaIcebergJs)) - 1;
      clientRows++;
    }
    await ingesting;
    // A commit planned before Floe's next commit lands is refused (409) and, replanned, lands.
    const stale = await exactTable("events");
    await ingest(floeBatches * 50, 10);
    const deadline0 = Date.now() + 60_000;
    while ((await exactTable("events")).metadata["current-snapshot-id"] === stale.metadata["current-snapshot-id"] && Date.now() < deadline0) await new Promise((r) => setTimeout(r, 200));
    const loc: TableLocation = { uri: stale.metadata.location, key: stale.metadata.location.replace(`s3://${LAKE.bucket}/`, "") };
    const late = await planAppend(dev.lake, loc, stale, [], { startSchemaId: stale.metadata["current-schema-id"], startLastColumnId: stale.metadata["last-column-id"] });
    const refused = await raw(`/v1/floe/namespaces/${NS}/tables/events`, { method: "POST", body: wire(late.commit) });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as any).error.type).toBe("CommitFailedException");
    clientRows++;
    conflicts += (await clientAppend("events", [{ id: 100_000 + clientRows - 1, source: "engine", n: clientRows - 1 }], viaIcebergJs)) - 1;
    const big = 9_123_456_789_012_345_678n;
    await clientAppend("events", [{ id: 200_000, source: "engine-java", n: 1 }], (commit) => raw(`/v1/floe/namespaces/${NS}/tables/events`, { method: "POST", body: wire(commit) }), big);
    await ingest(floeBatches * 50 + 10, 10); // one more after the big id: its snapshot's parent is that id

    const expected = floeBatches * 50 + 20 + clientRows + 1;
    const deadline = Date.now() + 60_000;
    let t = await exactTable("events");
    while (Number(t.metadata.snapshots.at(-1)?.summary["total-records"] ?? 0) < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      t = await exactTable("events");
    }
    const snaps = t.metadata.snapshots;
    expect(snaps.some((s) => s["snapshot-id"] === big)).toBe(true);
    expect(snaps.some((s) => s["parent-snapshot-id"] === big)).toBe(true);
    expect(snaps.some((s) => s.summary.client === "test-engine")).toBe(true);
    expect(snaps.some((s) => s.summary["floe.batch-ids"])).toBe(true);

    const rows = await icebirdRows(dev, t.metadataLocation);
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids.length).toBe(expected);
    expect(new Set(ids).size).toBe(expected);
    const walked = await walkLake(dev.lake, { uri: t.metadata.location, key: t.metadata.location.replace(`s3://${LAKE.bucket}/`, "") });
    const counted = await duckdbOverFiles(dev.lake, walked.currentDataFiles, "SELECT source, count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM {files} GROUP BY source ORDER BY source");
    expect(counted).toEqual([
      { source: "engine", n: clientRows, d: clientRows },
      { source: "engine-java", n: 1, d: 1 },
      { source: "floe", n: floeBatches * 50 + 20, d: floeBatches * 50 + 20 },
    ]);
    console.log(`catalog e2e: ${expected} rows, ${snaps.length} snapshots, ${conflicts} engine commits refused with 409 and retried`);
  }, 180_000);

  test("register a table's metadata file, then ingest into it; drop with and without purge", async () => {
    // The events table's metadata file, registered under another name after dropping it without purge.
    const before = await exactTable("events");
    await admin.dropTable({ namespace: [NS], name: "events" }, { purge: false });
    expect(await admin.tableExists({ namespace: [NS], name: "events" })).toBe(false);
    expect(await dev.lake.get(before.metadataLocation.replace(`s3://${LAKE.bucket}/`, ""))).not.toBeNull(); // files kept
    const reg = await admin.registerTable({ namespace: [NS] }, { name: "revived", "metadata-location": before.metadataLocation });
    expect(reg.location).toBe(before.metadata.location);
    const r = await dev.call(`/v1/tables/${NS}.revived/events`, { method: "POST", headers: { Authorization: `Bearer ${INGEST_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ id: 300_000, source: "floe-after-register", n: 0 }) });
    expect(r.status).toBe(202);
    const total = Number(before.metadata.snapshots.at(-1)!.summary["total-records"]) + 1;
    const deadline = Date.now() + 60_000;
    let t = await exactTable("revived");
    while (Number(t.metadata.snapshots.at(-1)?.summary["total-records"] ?? 0) < total && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      t = await exactTable("revived");
    }
    expect(t.metadata["table-uuid"]).toBe(before.metadata["table-uuid"]);
    expect(t.metadata["partition-specs"]).toEqual(before.metadata["partition-specs"]);
    const rows = await icebirdRows(dev, t.metadataLocation);
    expect(rows.length).toBe(total);
    expect(rows.filter((x) => x.source === "floe-after-register")).toHaveLength(1);

    // A name whose old files remain gets a fresh location when created again.
    const recreated = await admin.createTable({ namespace: [NS] }, { name: "events", schema });
    expect(recreated.location).not.toBe(before.metadata.location);
    expect(recreated.location!.startsWith(`${before.metadata.location}-`)).toBe(true);

    const badReg = await admin.registerTable({ namespace: [NS] }, { name: "bad", "metadata-location": "s3://another-bucket/x/metadata/v1.metadata.json" }).catch((e) => e);
    expect(badReg.status).toBe(400);

    // Purge: every file under the table's location goes.
    const staged = await exactTable("staged");
    const key = staged.metadata.location.replace(`s3://${LAKE.bucket}/`, "");
    await admin.dropTable({ namespace: [NS], name: "staged" }, { purge: true });
    expect((await dev.lake.list(`${key}/`)).objects).toHaveLength(0);
    const gone = await admin.loadTable({ namespace: [NS], name: "staged" }).catch((e) => e);
    expect(gone.status).toBe(404);
  }, 120_000);

  test("a table another engine created (icebird) is registered, and Floe ingests into it keeping its field ids and location", async () => {
    // icebird writes the table's first metadata file (its own shape: no snapshots, refs or logs) and a version hint.
    const url = `s3://${LAKE.bucket}/foreign/orders`;
    const writers = new Map<string, ByteWriter>();
    await icebergCreate({
      tableUrl: url,
      writerFactory: (u: string) => {
        const w = new ByteWriter();
        writers.set(u, w);
        return w;
      },
      schema: { type: "struct", "schema-id": 0, fields: [{ id: 7, name: "order_id", type: "long", required: false }, { id: 9, name: "note", type: "string", required: false }] },
    } as never);
    for (const [u, w] of writers) await dev.lake.put(u.replace(`https://${LAKE.bucket}.s3.amazonaws.com/`, ""), w.getBytes());
    const reg = await admin.registerTable({ namespace: [NS] }, { name: "foreign_orders", "metadata-location": `${url}/metadata/v1.metadata.json` });
    expect(reg.location).toBe(url);

    const body = [{ order_id: 1, note: "a" }, { order_id: 2, note: "b", extra: true }, { order_id: 3 }].map((r) => JSON.stringify(r)).join("\n");
    const r = await dev.call(`/v1/tables/${NS}.foreign_orders/events`, { method: "POST", headers: { Authorization: `Bearer ${INGEST_TOKEN}`, "Content-Type": "application/x-ndjson" }, body });
    expect(r.status).toBe(202);
    const deadline = Date.now() + 60_000;
    let t = await exactTable("foreign_orders");
    while (Number(t.metadata.snapshots.at(-1)?.summary["total-records"] ?? 0) < 3 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      t = await exactTable("foreign_orders");
    }
    expect(t.metadata.location).toBe(url);
    expect(t.metadataLocation.startsWith(`${url}/metadata/`)).toBe(true);
    expect(currentSchema(t.metadata).fields.map((f) => [f.name, f.id])).toEqual([["order_id", 7], ["note", 9], ["extra", 10]]);
    const rows = await icebirdRows(dev, t.metadataLocation);
    expect(rows.map((x) => [Number(x.order_id), x.note ?? null, x.extra ?? null]).sort()).toEqual([[1, "a", null], [2, "b", true], [3, null, null]]);
  }, 120_000);

  test("every response matched the spec's OpenAPI document", () => {
    expect(problems).toEqual([]);
    expect(exercised.size).toBeGreaterThan(20);
  });
});
