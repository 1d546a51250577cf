import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, INGEST_TOKEN, duckdbOverFiles, icebirdRows, locationFor, startFloe, waitForRecords, walkLake, type FloeDev } from "../support/floe-dev.js";

// The happy path end to end, against a `wrangler dev` this file starts: HTTP → Queue → consumer →
// Parquet through R2's S3 API → TableDO commit, read back by readers we did not write (icebird,
// DuckDB). Then refusals through the real stack.

const MAX_BODY_BYTES = 1_000_000;
const LAND_MS = 60_000;
let dev: FloeDev;

beforeAll(async () => {
  dev = await startFloe({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
});

const INGEST = { Authorization: `Bearer ${INGEST_TOKEN}` };
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_TYPE = { "Content-Type": "application/json" };
const NDJSON_TYPE = { "Content-Type": "application/x-ndjson" };

function post(table: string, body: BodyInit, headers: Record<string, string>) {
  return dev.call(`/v1/tables/${table}/events`, { method: "POST", body, headers: { ...INGEST, ...headers } });
}
const ndjson = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** Fails with wrangler's output attached: a test that times out waiting should say why. */
function withLogs(what: string): string {
  return `${what}\n--- wrangler dev output (tail) ---\n${dev.logs().slice(-6_000)}`;
}

// ---- rows --------------------------------------------------------------------------------------

interface Click {
  eid: string;
  n: number;
  price: number;
  ok: boolean;
  note: string | null;
  user: { id: number; name: string };
  tags: string[];
  at: string;
}
const click = (i: number): Click => ({
  eid: `c-${String(i).padStart(4, "0")}`,
  n: i * 1_000_003, // past 2^31 for the larger i: a long, not an int
  price: i + 0.25, // never integral: stays a double in every batch
  ok: i % 3 === 0,
  note: i % 4 === 0 ? null : `note ${i} — café ✓ ${"😀".repeat(i % 3)}`,
  user: { id: i % 7, name: `user_${i % 7}` },
  tags: Array.from({ length: i % 3 }, (_, k) => `t${k}`),
  at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
});

interface Order {
  order_id: string;
  sku: string;
  qty: number;
  amount: number;
  paid: boolean;
}
const order = (i: number): Order => ({ order_id: `o-${i}`, sku: `sku-${i % 5}`, qty: (i % 4) + 1, amount: Math.round(i * 317.5) / 100 + 0.01, paid: i % 2 === 1 });

/**
 * One reader-independent form: longs come as bigint (icebird) or decimal strings (DuckDB's JSON
 * rows) and become numbers; a missing value is undefined (icebird) or null (DuckDB) and becomes
 * null. Nothing else is coerced, so a boolean read back as a string, say, still fails.
 */
const num = (v: unknown) => (v === null || v === undefined ? null : typeof v === "bigint" || typeof v === "string" ? Number(v) : v);
const val = (v: unknown) => (v === undefined ? null : v);
function canonClick(r: Record<string, any>): Record<string, unknown> {
  return {
    eid: val(r.eid),
    n: num(r.n),
    price: num(r.price),
    ok: val(r.ok),
    note: val(r.note),
    user: r.user == null ? null : { id: num(r.user.id), name: val(r.user.name) },
    tags: val(r.tags),
    at: val(r.at),
  };
}
function canonOrder(r: Record<string, any>): Record<string, unknown> {
  return { order_id: val(r.order_id), sku: val(r.sku), qty: num(r.qty), amount: num(r.amount), paid: val(r.paid) };
}
const byKey = (key: (t: any) => string) => (a: unknown, b: unknown) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

// ---- the tests ---------------------------------------------------------------------------------

describe("events in, Iceberg out (wrangler dev)", () => {
  const clicks = Array.from({ length: 201 }, (_, i) => click(i));
  const orders = Array.from({ length: 61 }, (_, i) => order(i));

  it("accepts a JSON object, a JSON array, NDJSON and gzip NDJSON for two tables (one namespaced), answering 202 with the count", async () => {
    const sends: [string, Promise<{ status: number; body: any }>, number][] = [
      ["clicks", post("clicks", JSON.stringify(clicks[0]), JSON_TYPE), 1],
      ["clicks", post("clicks", JSON.stringify(clicks.slice(1, 41)), JSON_TYPE), 40],
      ["clicks", post("clicks", ndjson(clicks.slice(41, 101)), NDJSON_TYPE), 60],
      ["clicks", post("clicks", gzipSync(ndjson(clicks.slice(101))), { ...NDJSON_TYPE, "Content-Encoding": "gzip" }), 100],
      ["shop.orders", post("shop.orders", JSON.stringify(orders.slice(0, 25)), { ...JSON_TYPE, "Idempotency-Key": "orders-1" }), 25],
      ["shop.orders", post("shop.orders", gzipSync(ndjson(orders.slice(25, 60))), { ...NDJSON_TYPE, "Content-Encoding": "gzip" }), 35],
      ["shop.orders", post("shop.orders", JSON.stringify(orders[60]), JSON_TYPE), 1],
    ];
    for (const [table, res, n] of sends) {
      const r = await res;
      expect(r.status, `${table}: ${JSON.stringify(r.body)}`).toBe(202);
      expect(r.body).toMatchObject({ accepted: n, requestId: expect.any(String) });
    }
  });

  it("commits every row of each table: status, icebird and DuckDB agree with what was sent", async () => {
    for (const [table, sent, canon, key] of [
      ["clicks", clicks, canonClick, (r: any) => r.eid],
      ["shop.orders", orders, canonOrder, (r: any) => r.order_id],
    ] as const) {
      const s = await waitForRecords(dev, table, sent.length, LAND_MS);
      expect(s?.totalRecords, withLogs(`${table} did not reach ${sent.length} records: ${JSON.stringify(s)}`)).toBe(sent.length);
      expect(s.table).toBe(table.includes(".") ? table : `default.${table}`);
      expect(s.exists).toBe(true);
      expect(s.quarantined).toBe(0);
      expect(s.duplicatesDropped).toBe(0);

      // The status is consistent with the lake: the metadata file it names is the newest one, and
      // snapshot id, file and record counts are those of its current snapshot.
      const loc = locationFor(table);
      const walk = await walkLake(dev.lake, loc);
      expect(s.metadataLocation).toMatch(/\/metadata\/v(\d+)\.metadata\.json$/);
      const version = Number(/v(\d+)\.metadata\.json$/.exec(s.metadataLocation)![1]);
      expect(s.metadataLocation).toBe(`${loc.uri}/metadata/v${version}.metadata.json`);
      expect(await dev.lake.head(`${loc.key}/metadata/v${version}.metadata.json`)).not.toBeNull();
      expect(await dev.lake.head(`${loc.key}/metadata/v${version + 1}.metadata.json`)).toBeNull();
      expect(typeof s.currentSnapshotId).toBe("string");
      expect(s.currentSnapshotId).toMatch(/^-?\d+$/);
      expect(s.currentSnapshotId).toBe(String(walk.metadata["current-snapshot-id"]));
      expect(s.dataFiles).toBe(walk.currentDataFiles.length);
      expect(s.dataFiles).toBeGreaterThan(0);
      expect(walk.missing).toEqual([]);
      expect(typeof s.lastCommitAt).toBe("string");
      expect(Number.isNaN(Date.parse(s.lastCommitAt))).toBe(false);

      const expected = sent.map((r) => canon(r as any)).sort(byKey(key));
      // icebird, reading from the metadata file Floe reported.
      const ice = (await icebirdRows(dev, s.metadataLocation)).map(canon).sort(byKey(key));
      expect(ice).toEqual(expected);
      // DuckDB over exactly the data files of the current snapshot.
      const duck = (await duckdbOverFiles(dev.lake, walk.currentDataFiles, "SELECT * FROM {files}")).map(canon).sort(byKey(key));
      expect(duck).toEqual(expected);
    }
  });

  it("infers the schema from the JSON: doubles (the default number policy), booleans, strings, a struct and a list", async () => {
    const s = await dev.status("clicks");
    const types = Object.fromEntries(s.schema.fields.map((f: { name: string; type: unknown }) => [f.name, typeof f.type === "string" ? f.type : (f.type as { type: string }).type]));
    expect(types).toEqual({ eid: "string", n: "double", price: "double", ok: "boolean", note: "string", user: "struct", tags: "list", at: "string" });
    const ids = new Set<number>();
    const collect = (fields: { id: number; type: any }[]) => {
      for (const f of fields) {
        expect(ids.has(f.id), `field id ${f.id} used twice`).toBe(false);
        ids.add(f.id);
        if (f.type?.type === "struct") collect(f.type.fields);
      }
    };
    collect(s.schema.fields);
  });

  it("lands a request too large for one queue batch (> 256 KB of NDJSON, staged in R2) completely, and removes the staged body", async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => ({ eid: `b-${i}`, seq: i, kind: ["view", "click", "buy"][i % 3], payload: `${"abcdefghij".repeat(9)}-${i}`.padEnd(100, "z") }));
    const body = ndjson(rows);
    expect(body.length).toBeGreaterThan(256 * 1024);
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    const r = await post("bulk", body, { ...NDJSON_TYPE, "Idempotency-Key": "bulk-1" });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.accepted).toBe(3_000);

    const s = await waitForRecords(dev, "bulk", rows.length, LAND_MS);
    expect(s?.totalRecords, withLogs(`bulk did not reach 3000 records: ${JSON.stringify(s)}`)).toBe(3_000);
    expect(s.quarantined).toBe(0);
    const walk = await walkLake(dev.lake, locationFor("bulk"));
    expect(walk.missing).toEqual([]);

    const ice = await icebirdRows(dev, s.metadataLocation);
    expect(ice).toHaveLength(3_000);
    const seen = new Map(ice.map((x) => [String(x.eid), x]));
    expect(seen.size).toBe(3_000);
    for (const row of rows) {
      const got = seen.get(row.eid);
      expect(got && { eid: String(got.eid), seq: Number(got.seq), kind: got.kind, payload: got.payload }).toEqual(row);
    }
    const [agg] = await duckdbOverFiles(dev.lake, walk.currentDataFiles, "SELECT count(*)::INTEGER AS n, count(DISTINCT eid)::INTEGER AS ids, sum(seq)::BIGINT AS total, sum(length(payload))::BIGINT AS bytes FROM {files}");
    expect({ n: Number(agg.n), ids: Number(agg.ids), total: Number(agg.total), bytes: Number(agg.bytes) }).toEqual({
      n: 3_000,
      ids: 3_000,
      total: (2_999 * 3_000) / 2,
      bytes: rows.reduce((a, r) => a + r.payload.length, 0),
    });

    // The claim check is deleted once its rows are committed and the message acked.
    const deadline = Date.now() + 10_000;
    let staged = (await dev.lake.list("staging/")).objects;
    while (staged.length && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 250));
      staged = (await dev.lake.list("staging/")).objects;
    }
    expect(staged.map((o) => o.key)).toEqual([]);
  });
});

describe("refusals through the real stack: JSON errors, and the service keeps serving", () => {
  beforeAll(async () => {
    const put = await dev.call("/v1/tables/strict_t", {
      method: "PUT",
      headers: { ...ADMIN, ...JSON_TYPE },
      body: JSON.stringify({ mode: "strict", schema: { fields: [{ name: "id", type: "long", required: true }, { name: "label", type: "string" }] } }),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });

  const big = JSON.stringify({ x: "a".repeat(MAX_BODY_BYTES + 200_000) });
  const cases: [string, () => ReturnType<typeof post>, number, string, ((body: any) => void)?][] = [
    ["no token", () => dev.call("/v1/tables/clicks/events", { method: "POST", body: "{}", headers: JSON_TYPE }), 401, "unauthorized"],
    ["wrong token", () => post("clicks", "{}", { ...JSON_TYPE, Authorization: "Bearer not-the-token" }), 401, "unauthorized"],
    ["ingest token where the admin scope is needed", () => dev.call("/v1/tables/clicks", { method: "PUT", body: "{}", headers: { ...JSON_TYPE, ...INGEST } }), 403, "forbidden"],
    ["invalid JSON", () => post("clicks", '{"eid": "x",', JSON_TYPE), 400, "invalid_input"],
    ["bad NDJSON line, named", () => post("clicks", '{"eid":"a"}\n{"eid":"b"}\n{"eid":\n', NDJSON_TYPE), 400, "invalid_input", (b) => expect(b.error.details).toMatchObject({ line: 3 })],
    [
      "rows that do not fit a strict table, each named by row and field",
      () => post("strict_t", JSON.stringify([{ id: 1 }, { id: "one" }, { id: 2, label: 5 }, { id: 3, extra: true }, { label: "no id" }]), JSON_TYPE),
      400,
      "invalid_input",
      (b) => {
        expect(b.error.details.count).toBe(4);
        expect(b.error.details.errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([[1, "id"], [2, "label"], [3, "extra"], [4, "id"]]);
        for (const e of b.error.details.errors) expect(typeof e.message).toBe("string");
      },
    ],
    [
      "a row whose value does not fit an existing auto-created table's column",
      () => post("clicks", JSON.stringify([click(900), { ...click(901), n: "nine hundred and one" }]), JSON_TYPE),
      400,
      "invalid_input",
      (b) => expect(b.error.details.errors).toEqual([expect.objectContaining({ row: 1, field: "n" })]),
    ],
    ["a body over MAX_BODY_BYTES", () => post("clicks", big, JSON_TYPE), 413, "too_large", (b) => expect(b.error.details).toEqual({ limit: MAX_BODY_BYTES })],
    ["a gzip body that inflates over MAX_BODY_BYTES", () => post("clicks", gzipSync(big), { ...JSON_TYPE, "Content-Encoding": "gzip" }), 413, "too_large", (b) => expect(b.error.details).toEqual({ limit: MAX_BODY_BYTES })],
    ["an unsupported Content-Type", () => post("clicks", "eid=1", { "Content-Type": "text/plain" }), 415, "unsupported_media_type"],
    ["an unsupported Content-Encoding", () => post("clicks", "{}", { ...JSON_TYPE, "Content-Encoding": "br" }), 415, "unsupported_media_type"],
  ];
  for (const [name, send, status, code, more] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const r = await send();
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toEqual(expect.any(String));
      more?.(r.body);
      const health = await dev.call("/healthz");
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ ok: true });
    });
  }

  it("let nothing through: the refused rows never land, and the tables still take good rows", async () => {
    const before = await dev.status("clicks");
    expect(before.totalRecords).toBe(201);
    const ok = await post("strict_t", JSON.stringify([{ id: 10, label: "fine" }]), JSON_TYPE);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const more = await post("clicks", JSON.stringify(click(1000)), JSON_TYPE);
    expect(more.status, JSON.stringify(more.body)).toBe(202);

    const strict = await waitForRecords(dev, "strict_t", 1, LAND_MS);
    const clicks = await waitForRecords(dev, "clicks", 202, LAND_MS);
    expect(strict?.totalRecords, withLogs(JSON.stringify(strict))).toBe(1);
    expect(clicks?.totalRecords, withLogs(JSON.stringify(clicks))).toBe(202);
    expect(strict.quarantined + clicks.quarantined).toBe(0);
    const rows = await icebirdRows(dev, strict.metadataLocation);
    expect(rows.map((r) => ({ id: Number(r.id), label: r.label }))).toEqual([{ id: 10, label: "fine" }]);
    // Nothing went to the quarantine either.
    expect((await dev.lake.list("quarantine/")).objects).toEqual([]);
  });
});
