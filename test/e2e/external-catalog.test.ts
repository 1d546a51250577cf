import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseExactJson } from "../../src/catalog/requests.js";
import { parseMetadata, serializeMetadata, type TableMetadata } from "../../src/iceberg/metadata.js";
import { ADMIN_TOKEN, INGEST_TOKEN, LAKE, duckdbOverFiles, icebirdRows, startFloe, walkLake, type FloeDev } from "../support/floe-dev.js";
import { until } from "../support/until.js";

const TABLE = "shop.orders";
const EVENTS = 600;
const PER_REQUEST = 20;

/**
 * Part 2 of the catalog issue: Floe (A) commits a table through an external REST catalog instead
 * of the lake's file layout. The external catalog is a second `wrangler dev` running Floe's own
 * catalog (B): a real server speaking the protocol, which owns the table's metadata, while A writes
 * data files and manifests into the same bucket through its S3 API (as Floe does with Basin's
 * bucket). B injects refusals (409, Basin's 400 ConcurrentUpdateError, 429 with Retry-After), a
 * failure before applying (503), and commits applied whose answer is lost (504). Every event must be
 * in the table exactly once afterwards, as B's catalog serves it.
 */
describe("committing through an external REST catalog (two wrangler devs)", () => {
  let catalog: FloeDev; // B
  let floe: FloeDev; // A

  beforeAll(async () => {
    catalog = await startFloe({ FLOE_FAULTS: "catalog-409:0.15,catalog-400-concurrent:0.1,catalog-429:0.1,catalog-503:0.1,catalog-lost-reply:0.15" });
    floe = await startFloe({
      S3_ENDPOINT: catalog.s3Endpoint,
      FLOE_EXTERNAL_CATALOG_URI: `${catalog.url}/iceberg`,
      FLOE_EXTERNAL_CATALOG_WAREHOUSE: LAKE.warehouse,
      FLOE_EXTERNAL_CATALOG_TOKEN: ADMIN_TOKEN,
      FLOE_EXTERNAL_CATALOG_MIN_INTERVAL_MS: "300",
    });
  }, 180_000);

  afterAll(async () => {
    await floe?.stop();
    await catalog?.stop();
  });

  /** The table as the external catalog serves it, ids exact. */
  async function served(): Promise<{ metadataLocation: string; metadata: TableMetadata } | undefined> {
    const [ns, t] = TABLE.split(".");
    const r = await fetch(`${catalog.url}/iceberg/v1/floe/namespaces/${ns}/tables/${t}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (r.status === 404) return undefined;
    expect(r.status).toBe(200);
    const o = parseExactJson(await r.text()) as { "metadata-location": string; metadata: TableMetadata };
    return { metadataLocation: o["metadata-location"], metadata: parseMetadata(serializeMetadata(o.metadata)) };
  }

  test("every event once, through injected 409s, 400 ConcurrentUpdateErrors, 429s, 503s and lost replies", async () => {
    const send = async (from: number) => {
      const body = Array.from({ length: PER_REQUEST }, (_, i) => JSON.stringify({ order_id: from + i, amount: (from + i) * 1.5, sku: `sku-${(from + i) % 7}` })).join("\n");
      const r = await floe.call(`/v1/tables/${TABLE}/events`, { method: "POST", headers: { Authorization: `Bearer ${INGEST_TOKEN}`, "Content-Type": "application/x-ndjson", "Idempotency-Key": `orders-${from}` }, body });
      expect(r.status).toBe(202);
    };
    for (let from = 0; from < EVENTS; from += PER_REQUEST) {
      await send(from);
      if ((from / PER_REQUEST) % 5 === 0) await send(from); // a client's retry of the same request
      await new Promise((r) => setTimeout(r, 800)); // spread over ~25 s: many consumer batches, so many commits
    }

    let t = await until("every event committed", served, (x) => Number(x?.metadata.snapshots.at(-1)?.summary["total-records"] ?? 0) >= EVENTS, { ms: 240_000, every: 1000 });
    expect(t).toBeDefined();
    // Settled: nothing more lands after a while (a late duplicate would show here).
    await new Promise((r) => setTimeout(r, 5000));
    t = (await served())!;
    expect(Number(t.metadata.snapshots.at(-1)!.summary["total-records"])).toBe(EVENTS);

    const rows = await icebirdRows(catalog, t.metadataLocation);
    const ids = rows.map((r) => Number(r.order_id));
    expect(ids.length).toBe(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    const loc = { uri: t.metadata.location, key: t.metadata.location.replace(`s3://${LAKE.bucket}/`, "") };
    const walked = await walkLake(catalog.lake, loc);
    expect(walked.missing).toEqual([]);
    const [counted] = await duckdbOverFiles(catalog.lake, walked.currentDataFiles, "SELECT count(*)::INT AS n, count(DISTINCT order_id)::INT AS d, sum(amount)::DOUBLE AS s FROM {files}");
    expect(counted).toEqual({ n: EVENTS, d: EVENTS, s: (1.5 * (EVENTS - 1) * EVENTS) / 2 });

    const status = await floe.status(TABLE);
    expect(status.externalCatalog.uri).toBe(`${catalog.url}/iceberg`);
    const o = status.externalCatalog;
    console.log(`external catalog e2e: ${EVENTS} events in ${t.metadata.snapshots.length} snapshots; A's commits: ${o.commits} answered 200, ${o.conflicts} refused as conflicts (409 or 400 ConcurrentUpdateError), ${o.rateLimited} rate limited (429), ${o.unknownOutcomes} with unknown outcome (503/504), ${status.duplicatesDropped} duplicates dropped`);
    expect(o.conflicts + o.rateLimited + o.unknownOutcomes).toBeGreaterThan(0);
    // Floe's maintenance is off for a table another catalog holds.
    const m = await floe.call(`/v1/tables/${TABLE}/maintenance`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: "{}" });
    expect(m.status).toBe(400);
    expect(m.body.error.message).toMatch(/external catalog/);
  }, 360_000);
});
