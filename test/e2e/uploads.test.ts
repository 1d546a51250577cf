import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOURCE, fixture } from "../decode/helpers.js";
import { duckdb } from "../support/duckdb.js";
import { tempFile, tempPath } from "../support/temp-file.js";
import { ADMIN_TOKEN, INGEST_TOKEN, duckdbOverFiles, icebirdRows, locationFor, startFloe, waitForRecords, walkLake, type FloeDev } from "../support/floe-dev.js";

// R2 uploads end to end, against a `wrangler dev` of the real service started here. Files written by
// tools we did not write (DuckDB, Python, apache-arrow: test/fixtures/uploads/make.mjs) are put into
// the lake bucket through the local S3 API (S3Store, i.e. aws4fetch) under incoming/{table}/…; there
// are no R2 notifications locally, so POST /v1/admin/reconcile (grace 0 s) enqueues them. The queue
// consumer decodes each, writes Parquet through the S3 API and commits; the rows are read back by
// readers we did not write (icebird over the metadata, DuckDB over the data files) and compared
// with source.json. Then the upload endpoint and its ledger, and broken files.

const LAND_MS = 60_000;
const FIXTURES = new URL("../fixtures/uploads/", import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, FIXTURES));

/** The rows every writer was given. */

/** A rule, to route one prefix that is not incoming/{table}/ (README, "Routing rules"). */
const ACME_RULE = { prefix: "partners/acme/", table: "acme_orders", format: "csv", csv: { delimiter: ";" }, after: "archive" };

let dev: FloeDev;

beforeAll(async () => {
  // A 15 s lease (a test knob, README "Configuration"): a message that finds its object's key busy
  // (another delivery of it holds the claim) is retried after the lease, and the duplicate deliveries
  // this file provokes should not make a test wait a minute for that.
  dev = await startFloe({ RECONCILE_GRACE_SECONDS: "0", FLOE_UPLOAD_RULES: JSON.stringify([ACME_RULE]), FLOE_LEASE_MS: "15000" });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
});

const INGEST = { Authorization: `Bearer ${INGEST_TOKEN}` };
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Fails with wrangler's output attached: a test that times out waiting should say why. */
function withLogs(what: string): string {
  return `${what}\n--- wrangler dev output (tail) ---\n${dev.logs().slice(-6_000)}`;
}

async function reconcile(): Promise<{ listed: number; enqueued: number; tooNew: number; notRoutable: number }> {
  const r = await dev.call("/v1/admin/reconcile", { method: "POST", headers: ADMIN });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

interface LedgerEntry {
  object: string;
  key: string;
  etag: string | null;
  size: number | null;
  state: "pending" | "ingested" | "failed" | "deleted";
  rows: number;
  snapshotId: string | null;
  reason: string | null;
}

async function ledger(table: string): Promise<LedgerEntry[]> {
  const r = await dev.call(`/v1/tables/${table}/uploads?limit=1000`, { headers: INGEST });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.uploads;
}

/** Polls the ledger until it holds `count` entries, none pending (or time runs out); answers the last. */
async function settledLedger(table: string, count: number, timeoutMs = LAND_MS): Promise<LedgerEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await ledger(table);
    if ((l.length >= count && l.every((u) => u.state !== "pending")) || Date.now() >= deadline) return l;
    await new Promise((r) => setTimeout(r, 300));
  }
}

// ---- reading back: one canonical form per Iceberg type, whatever the reader ----------------------

type IcebergType = string | { type: "struct"; fields: { name: string; type: IcebergType }[] } | { type: "list"; element: IcebergType } | { type: "map"; key: IcebergType; value: IcebergType };

/** `list<struct<k: long, v: string>>`: a table's types, to compare with what the README says inference gives. */
function typeText(t: IcebergType): string {
  if (typeof t === "string") return t;
  if (t.type === "list") return `list<${typeText(t.element)}>`;
  if (t.type === "map") return `map<${typeText(t.key)}, ${typeText(t.value)}>`;
  return `struct<${t.fields.map((f) => `${f.name}: ${typeText(f.type)}`).join(", ")}>`;
}
const columnTypes = (schema: { fields: { name: string; type: IcebergType }[] }) => Object.fromEntries(schema.fields.map((f) => [f.name, typeText(f.type)]));

/**
 * A value in one form every reader and the source can be brought to without losing anything:
 * long → its decimal text (icebird gives bigint, DuckDB's JSON rows a string, the source a
 * number), double → number, timestamp → ISO-8601 text (DuckDB prints a space where ISO has `T`),
 * missing → null. Nothing else is coerced: a boolean read back as a string still fails.
 */
function canon(t: IcebergType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof t === "string") {
    if (t === "long" || t === "int") return typeof v === "bigint" || typeof v === "number" || typeof v === "string" ? String(v) : v;
    if (t === "double" || t === "float") return typeof v === "string" ? Number(v) : v;
    if (t === "timestamp" && typeof v === "string") return v.replace(" ", "T");
    return v;
  }
  if (t.type === "list") return Array.isArray(v) ? v.map((x) => canon(t.element, x)) : v;
  if (t.type === "struct") return typeof v === "object" ? Object.fromEntries(t.fields.map((f) => [f.name, canon(f.type, (v as Record<string, unknown>)[f.name])])) : v;
  return v;
}
const canonRows = (schema: { fields: { name: string; type: IcebergType }[] }, rows: readonly Record<string, unknown>[], key = "id") =>
  rows.map((r) => canon({ type: "struct", fields: schema.fields }, r) as Record<string, unknown>).sort((a, b) => Number(a[key]) - Number(b[key]));

/** The table's rows as icebird and as DuckDB read them, canonical by the table's schema; plus its status. */
async function readBack(table: string, opts: { icebird?: boolean } = {}) {
  const s = await dev.status(table);
  const walk = await walkLake(dev.lake, locationFor(table));
  expect(walk.missing).toEqual([]);
  expect(s.currentSnapshotId).toBe(String(walk.metadata["current-snapshot-id"]));
  const duck = canonRows(s.schema, await duckdbOverFiles(dev.lake, walk.currentDataFiles, "SELECT * FROM {files}"));
  const ice = opts.icebird === false ? undefined : canonRows(s.schema, await icebirdRows(dev, s.metadataLocation));
  return { status: s, duck, ice, types: columnTypes(s.schema) };
}

// ---- what each writer put in its file, and what Floe makes of it --------------------------------

/**
 * Types inferred from JSON-like values (README, "Auto-create"): numbers are doubles (the default
 * number policy, floe.infer.numbers), strings stay strings, even dates and decimals.
 */
const JSON_TYPES = {
  id: "double",
  name: "string",
  score: "double",
  active: "boolean",
  born: "string",
  seen: "string",
  price: "string",
  zip: "string",
  tags: "list<string>",
  address: "struct<city: string, zip: string>",
};

// DuckDB's JSON writer prints TIMESTAMP as "YYYY-MM-DD HH:MM:SS[.f]" (a space, not ISO's T) and
// DECIMAL as a JSON number: a property of the file, not of Floe. Floe then keeps the text a string
// (no timestamp guessing) and makes the numbers a double column, as documented.
const DUCKDB_JSON_ROWS = SOURCE.map((r) => ({ ...r, seen: r.seen === null ? null : r.seen.replace("T", " "), price: r.price === null ? null : Number(r.price) }));
const DUCKDB_JSON_TYPES = { ...JSON_TYPES, price: "double" };

/** Parquet and Arrow say their numbers are integers: the number policy is for untyped text only. */
const TYPED_FORMAT_TYPES = { ...JSON_TYPES, id: "long" };

// Parquet and Arrow values reach the table as the decoders give them (src/decode/values.ts,
// documented on decodeRows): int64 → long, dates, timestamps and decimals as their exact text, so
// an auto-created table holds them as strings, exactly as the source wrote them.
const uuidOfMd5 = (s: string) => {
  const h = createHash("md5").update(s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
/** duckdb-nested.parquet: the source plus the columns make.mjs derives (table `wide`); a MAP arrives as an object, so a struct. */
const NESTED_ROWS = SOURCE.map((r) => ({
  ...r,
  seen_tz: r.seen === null ? null : `${r.seen}+00:00`,
  seen_time: r.seen === null ? null : r.seen.slice(11),
  big: 9223372036854775807n - BigInt(r.id),
  uid: uuidOfMd5(String(r.id)),
  raw: Buffer.from(r.name ?? "", "utf8").toString("base64"),
  attrs: r.id % 3 === 0 ? null : { n: r.id, sq: r.id * r.id },
  pairs: [
    { k: r.id, v: r.name },
    { k: -r.id, v: null },
  ],
}));
const NESTED_TYPES = {
  ...TYPED_FORMAT_TYPES,
  seen_tz: "string",
  seen_time: "string",
  big: "long",
  uid: "string",
  raw: "string",
  attrs: "struct<n: long, sq: long>",
  pairs: "list<struct<k: long, v: string>>",
};
/** arrow-js.arrow(s): the source plus `seen_tz`, a UTC timestamp column (its text says +00:00). */
const ARROW_ROWS = SOURCE.map((r) => ({ ...r, seen_tz: r.seen === null ? null : `${r.seen}+00:00` }));
/** duckdb-multi-zstd.parquet: three row groups of generated rows; `i * 0.5` is a DECIMAL(20,1) in DuckDB. */
const ZSTD_ROWS = Array.from({ length: 5000 }, (_, i) => ({
  id: i,
  label: `row ${i}`,
  half: `${Math.floor(i / 2)}.${i % 2 ? 5 : 0}`,
  lucky: i % 7 === 0,
  pair: i % 5 === 0 ? null : [i, i + 1],
}));

interface Landing {
  file: string;
  table: string;
  key: string;
  rows: Record<string, unknown>[];
  types: Record<string, string>;
}
const landing = (file: string, table: string, rows: Record<string, unknown>[], types: Record<string, string>, key = `incoming/${table}/2026-11-24/${file}`): Landing => ({ file, table, key, rows, types });

/** Every fixture whose rows land in an auto-created table. */
const LANDINGS: Landing[] = [
  landing("duckdb.jsonl", "ndjson_duckdb", DUCKDB_JSON_ROWS, DUCKDB_JSON_TYPES),
  landing("duckdb.ndjson.gz", "ndjson_gz_duckdb", DUCKDB_JSON_ROWS, DUCKDB_JSON_TYPES),
  landing("duckdb-array.json", "json_array_duckdb", DUCKDB_JSON_ROWS, DUCKDB_JSON_TYPES),
  landing("python.json", "json_python", SOURCE as unknown as Record<string, unknown>[], JSON_TYPES),
  landing("python-ascii.json", "json_python_ascii", SOURCE as unknown as Record<string, unknown>[], JSON_TYPES),
  landing("duckdb-nested.parquet", "parquet_nested", NESTED_ROWS, NESTED_TYPES),
  landing("duckdb-gzip.parquet", "parquet_gzip_pages", SOURCE as unknown as Record<string, unknown>[], TYPED_FORMAT_TYPES),
  landing("duckdb-multi-zstd.parquet", "parquet_zstd_groups", ZSTD_ROWS, { id: "long", label: "string", half: "string", lucky: "boolean", pair: "list<long>" }),
  landing("arrow-js.arrows", "arrow_stream", ARROW_ROWS, { ...TYPED_FORMAT_TYPES, seen_tz: "string" }),
  landing("arrow-js.arrow", "arrow_file", ARROW_ROWS, { ...TYPED_FORMAT_TYPES, seen_tz: "string" }),
];

/**
 * The CSV fixtures, into auto-created tables. Inference is per value (README "Formats": "else
 * inferred"; inferCsvValue): `zip` holds "02134" (a string: the zero is kept) in row 0 and 10001 (a
 * number) in row 1, so the column has no one type, and the whole file is refused, naming the row and
 * field (README "Atomic per object": rows that do not fit the table).
 */
const CSV_AUTO = [
  { file: "python-bom-crlf.csv", table: "csv_python" },
  { file: "python.csv.gz", table: "csv_gz_python" },
  { file: "python.tsv", table: "tsv_python" },
  { file: "duckdb.csv", table: "csv_duckdb" },
].map((c) => ({ ...c, key: `incoming/${c.table}/${c.file}` }));

/** The source's columns as declared types (README, "Define a table"). */
const TYPED_SCHEMA = {
  fields: [
    { name: "id", type: "long" },
    { name: "name", type: "string" },
    { name: "score", type: "double" },
    { name: "active", type: "boolean" },
    { name: "born", type: "date" },
    { name: "seen", type: "timestamp" },
    { name: "price", type: "decimal(10,2)" },
    { name: "zip", type: "string" },
    { name: "tags", type: { type: "list", element: "string" } },
    { name: "address", type: { type: "struct", fields: [{ name: "city", type: "string" }, { name: "zip", type: "string" }] } },
  ],
};
const TYPED_TYPES = { ...JSON_TYPES, id: "long", born: "date", seen: "timestamp", price: "decimal(10,2)" };
/** Declared tables (namespace `typed`): the text of dates, timestamps and decimals becomes those types. */
const TYPED = [
  { file: "python.json", table: "typed.json_python" },
  { file: "duckdb-nested.parquet", table: "typed.parquet_nested" },
  { file: "arrow-js.arrows", table: "typed.arrow_stream" },
  { file: "python-bom-crlf.csv", table: "typed.csv_python" },
].map((c) => ({ ...c, key: `incoming/${c.table}/${c.file}` }));

const ACME_KEY = "partners/acme/orders-2026-11-24.txt";
const ACME_CSV = "order;qty;note\nA-1;1;first, with a comma\nA-2;2;\"quoted; semicolon\"\nA-3;30;\n";

// ---- the tests ---------------------------------------------------------------------------------

describe("files put through the S3 API, found by the reconciler", () => {
  const objects = LANDINGS.length + CSV_AUTO.length + TYPED.length + 1;

  it("declares the typed tables, puts every fixture, and one reconcile enqueues each object once", async () => {
    for (const t of TYPED) {
      const r = await dev.call(`/v1/tables/${t.table}`, { method: "PUT", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ schema: TYPED_SCHEMA }) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    for (const { file, key } of [...LANDINGS, ...CSV_AUTO, ...TYPED]) {
      const put = await dev.lake.put(key, fixture(file));
      expect(put.size).toBe(fixture(file).byteLength);
    }
    await dev.lake.put(ACME_KEY, new TextEncoder().encode(ACME_CSV), { contentType: "text/plain" });

    expect(await reconcile()).toEqual({ listed: objects, enqueued: objects, tooNew: 0, notRoutable: 0 });
    // At once again, before the consumer has seen most of them: the ledger does not know them yet, so
    // they are enqueued a second time; exactly once per object version must hold regardless.
    const again = await reconcile();
    expect(again.listed).toBe(objects);
    expect(again.enqueued).toBeLessThanOrEqual(objects);
  });

  it.each(LANDINGS)("$file → $table: every row, exactly, read back by icebird and DuckDB", async ({ table, key, rows, types }) => {
    const s = await waitForRecords(dev, table, rows.length, LAND_MS);
    expect(s?.totalRecords, withLogs(`${table}: ${JSON.stringify(s)} ${JSON.stringify(await ledger(table))}`)).toBe(rows.length);
    const l = await settledLedger(table, 1);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ key, state: "ingested", rows: rows.length, reason: null, snapshotId: s.currentSnapshotId });
    expect(l[0].object).toBe(`floe-lake/${key}#${l[0].etag}`);
    // The version is the one any S3 client sees (the S3 API quotes its ETag).
    expect((await dev.lake.head(key))?.etag).toBe(`"${l[0].etag}"`);

    const back = await readBack(table);
    expect(back.types).toEqual(types);
    const expected = canonRows(back.status.schema, rows);
    expect(back.duck).toEqual(expected);
    expect(back.ice).toEqual(expected);
    expect(back.status.uploads).toMatchObject({ ingested: 1, failed: 0, pending: 0 });
  });

  it.each(CSV_AUTO)("$file → $table (auto-created): refused whole, since per-value inference gives `zip` two types", async ({ table, key }) => {
    const l = await settledLedger(table, 1);
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ key, state: "failed", rows: 0, snapshotId: null });
    expect(l[0].reason).toBe('row 1, field "zip": expected string as in earlier rows, got number 10001');
    // Nothing of it anywhere: no table was created for it.
    expect(await dev.status(table)).toBeUndefined();
  });

  it.each(TYPED.filter((t) => !t.file.endsWith(".csv")))("$file → $table (declared): dates, timestamps and decimals land typed, read back by DuckDB", async ({ table, key, file }) => {
    const s = await waitForRecords(dev, table, SOURCE.length, LAND_MS);
    expect(s?.totalRecords, withLogs(`${table}: ${JSON.stringify(s)} ${JSON.stringify(await ledger(table))}`)).toBe(SOURCE.length);
    expect((await settledLedger(table, 1))[0]).toMatchObject({ key, state: "ingested", rows: SOURCE.length });
    // icebird turns timestamps into millisecond Dates: DuckDB (exact to the microsecond) is the reader here.
    const back = await readBack(table, { icebird: false });
    // The declared columns keep their types; columns only the file has are added (mode evolve).
    expect(back.types).toMatchObject(TYPED_TYPES);
    expect(Object.keys(back.types)).toEqual(Object.keys(file.endsWith(".parquet") ? NESTED_TYPES : file.endsWith(".arrows") ? ARROW_ROWS[0] : TYPED_TYPES));
    const declared = { fields: back.status.schema.fields.filter((f: { name: string }) => f.name in TYPED_TYPES) };
    expect(canonRows(declared, back.duck)).toEqual(canonRows(declared, SOURCE as unknown as Record<string, unknown>[]));
  });

  // README "Formats": CSV values are typed by the table's schema when it has one (a declared string
  // column keeps "02134" and 10001 alike as text), else inferred.
  it("python-bom-crlf.csv → typed.csv_python (declared): values typed by the table's schema", async () => {
    const { table, key } = TYPED.find((t) => t.file.endsWith(".csv"))!;
    const l = await settledLedger(table, 1);
    expect(l[0], JSON.stringify(l[0])).toMatchObject({ key, state: "ingested", rows: SOURCE.length });
    const back = await readBack(table, { icebird: false });
    const declared = { fields: back.status.schema.fields.filter((f: { name: string }) => f.name in TYPED_TYPES) };
    // Python's csv module writes "" and None alike (an unquoted empty field: null); the file has no tags or address.
    const expected = SOURCE.map((r) => ({ ...r, name: r.name || null, zip: r.zip || null, tags: null, address: null }));
    expect(canonRows(declared, back.duck)).toEqual(canonRows(declared, expected));
  });

  it("routes partners/acme/ by its rule (csv, delimiter ;) and archives the source after ingest", async () => {
    const s = await waitForRecords(dev, "acme_orders", 3, LAND_MS);
    expect(s?.totalRecords, withLogs(JSON.stringify(s))).toBe(3);
    const back = await readBack("acme_orders");
    expect(back.types).toEqual({ order: "string", qty: "double", note: "string" });
    const expected = [
      { order: "A-1", qty: 1, note: "first, with a comma" },
      { order: "A-2", qty: 2, note: "quoted; semicolon" },
      { order: "A-3", qty: 30, note: null },
    ];
    expect(back.duck.sort((a, b) => String(a.order).localeCompare(String(b.order)))).toEqual(expected);
    expect(back.ice!.sort((a, b) => String(a.order).localeCompare(String(b.order)))).toEqual(expected);
    expect(await dev.lake.head(ACME_KEY)).toBeNull();
    expect(new TextDecoder().decode((await dev.lake.get(`archive/${ACME_KEY}`))!)).toBe(ACME_CSV);
  });

  it("adds nothing when reconciled again: each object version was ingested once", async () => {
    // Everything is in a ledger now (the archived acme file is no longer listed).
    expect(await reconcile()).toEqual({ listed: objects - 1, enqueued: 0, tooNew: 0, notRoutable: 0 });
    for (const { table, rows } of LANDINGS) {
      expect((await dev.status(table)).totalRecords, table).toBe(rows.length);
      expect((await ledger(table)).map((u) => [u.state, u.rows]), table).toEqual([["ingested", rows.length]]);
    }
  });
});

describe("the upload endpoint and its ledger", () => {
  const TABLE = "api_orders";
  const NAME = "2026-11-24/batch-1.csv.gz";
  const KEY = `incoming/${TABLE}/${NAME}`;
  interface Order {
    order_id: string;
    qty: number;
    amount: number;
    paid: boolean;
  }
  const order = (i: number): Order => ({ order_id: `o-${i}`, qty: (i % 4) + 1, amount: i * 3 + 0.25, paid: i % 2 === 1 });
  const csvGz = (rows: Order[]) => gzipSync(["order_id,qty,amount,paid", ...rows.map((r) => `${r.order_id},${r.qty},${r.amount},${r.paid}`)].join("\n") + "\n");
  const v1 = Array.from({ length: 40 }, (_, i) => order(i));
  const v2 = Array.from({ length: 25 }, (_, i) => order(1000 + i));
  const put = (body: Uint8Array) => dev.call(`/v1/tables/${TABLE}/uploads/${NAME}`, { method: "PUT", headers: { ...INGEST, "Content-Type": "text/csv" }, body });
  const TYPES = { order_id: "string", qty: "double", amount: "double", paid: "boolean" };
  const canonOrders = (rows: readonly Record<string, unknown>[]) =>
    canonRows({ fields: Object.entries(TYPES).map(([name, type]) => ({ name, type })) }, rows).sort((a, b) => String(a.order_id).localeCompare(String(b.order_id)));
  let first: { key: string; eTag: string; size: number; object: string };

  it("PUT /v1/tables/{table}/uploads/{name} stores the body under incoming/{table}/{name}; its rows land; the ledger says ingested, with rows and snapshot", async () => {
    const bytes = csvGz(v1);
    const r = await put(bytes);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    first = r.body;
    expect(first).toEqual({ key: KEY, eTag: expect.stringMatching(/^[0-9a-f]{32}$/), size: bytes.byteLength, object: `floe-lake/${KEY}#${first.eTag}` });
    // The object is there, as sent, for any S3 client.
    expect(await dev.lake.get(KEY)).toEqual(new Uint8Array(bytes));
    expect((await dev.lake.head(KEY))?.etag).toBe(`"${first.eTag}"`);

    const s = await waitForRecords(dev, TABLE, v1.length, LAND_MS);
    expect(s?.totalRecords, withLogs(JSON.stringify(s))).toBe(v1.length);
    const l = await settledLedger(TABLE, 1);
    expect(l).toEqual([
      expect.objectContaining({ object: first.object, key: KEY, etag: first.eTag, size: bytes.byteLength, state: "ingested", rows: v1.length, snapshotId: s.currentSnapshotId, reason: null }),
    ]);
    expect(s.currentSnapshotId).toMatch(/^-?\d+$/);
    expect(s.uploads).toMatchObject({ ingested: 1, pending: 0, failed: 0 });

    const back = await readBack(TABLE);
    expect(back.types).toEqual(TYPES);
    expect(back.duck.sort((a, b) => String(a.order_id).localeCompare(String(b.order_id)))).toEqual(canonOrders(v1 as unknown as Record<string, unknown>[]));
    expect(back.ice!.sort((a, b) => String(a.order_id).localeCompare(String(b.order_id)))).toEqual(canonOrders(v1 as unknown as Record<string, unknown>[]));
  });

  it("adds nothing on a reconcile or a re-upload of the same bytes (the same version); a re-upload with new content is a new version, ingested too", async () => {
    const snapshot = (await dev.status(TABLE)).currentSnapshotId;
    expect((await reconcile()).enqueued).toBe(0);
    // The same bytes again: the same eTag, so the same object version, queued again by the endpoint.
    const same = await put(csvGz(v1));
    expect(same.status).toBe(202);
    expect(same.body).toEqual(first);
    // New content under the same key: a new eTag, a new version.
    const next = await put(csvGz(v2));
    expect(next.status).toBe(202);
    expect(next.body.eTag).not.toBe(first.eTag);

    const s = await waitForRecords(dev, TABLE, v1.length + v2.length, LAND_MS);
    expect(s?.totalRecords, withLogs(JSON.stringify(s))).toBe(v1.length + v2.length);
    expect(s.currentSnapshotId).not.toBe(snapshot);
    const l = await settledLedger(TABLE, 2);
    const byObject = Object.fromEntries(l.map((u) => [u.object, u]));
    expect(l).toHaveLength(2);
    expect(byObject[first.object]).toMatchObject({ state: "ingested", rows: v1.length, snapshotId: snapshot });
    expect(byObject[next.body.object]).toMatchObject({ state: "ingested", rows: v2.length, snapshotId: s.currentSnapshotId });

    // Later still: one more reconcile, a consumer batch timeout (2 s), and nothing has moved.
    expect((await reconcile()).enqueued).toBe(0);
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await dev.status(TABLE);
    expect([after.totalRecords, after.currentSnapshotId]).toEqual([v1.length + v2.length, s.currentSnapshotId]);
    const back = await readBack(TABLE);
    const want = canonOrders([...v1, ...v2] as unknown as Record<string, unknown>[]);
    expect(back.duck.sort((a, b) => String(a.order_id).localeCompare(String(b.order_id)))).toEqual(want);
    expect(back.ice!.sort((a, b) => String(a.order_id).localeCompare(String(b.order_id)))).toEqual(want);
  });
});

describe("Parquet whose columns fit: registered as it is, not rewritten", () => {
  const TABLE = "registered";
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  /** A flat Parquet file written by DuckDB. */
  const duckFile = async (select: string) => {
    const path = tempPath("flat.parquet");
    await duckdb(`SET TimeZone = 'UTC'; COPY (${select}) TO '${path}' (FORMAT parquet)`);
    return new Uint8Array(readFileSync(path));
  };
  const FIRST = `SELECT i::BIGINT AS id, 'name ' || i AS name, (i * 0.5)::DOUBLE AS score, i % 2 = 0 AS active, DATE '2024-01-01' + i::INTEGER AS born,
    TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 MINUTE AS seen, (i / 4)::DECIMAL(9,2) AS price, (i * 3)::INTEGER AS qty FROM range(0, 200) r(i)`;
  // The second file: qty is now a BIGINT (the table's int column is promoted to long) and a column is new.
  const SECOND = `SELECT i::BIGINT AS id, 'name ' || i AS name, (i * 0.5)::DOUBLE AS score, i % 2 = 0 AS active, DATE '2024-01-01' + i::INTEGER AS born,
    TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 MINUTE AS seen, (i / 4)::DECIMAL(9,2) AS price, (i * 3)::BIGINT AS qty, 'note ' || i AS note FROM range(200, 300) r(i)`;

  it("copies the uploaded file into the table byte for byte, with a name mapping, and readers see its rows; then a second file evolves the table", async () => {
    const first = await duckFile(FIRST);
    await dev.lake.put(`incoming/${TABLE}/first.parquet`, first);
    expect((await reconcile()).enqueued).toBe(1);
    let l = await settledLedger(TABLE, 1);
    expect(l[0], withLogs("first file")).toMatchObject({ state: "ingested", rows: 200 });

    let walk = await walkLake(dev.lake, locationFor(TABLE));
    expect(walk.missing).toEqual([]);
    expect(walk.currentDataFiles).toHaveLength(1);
    expect(walk.currentDataFiles[0]).toMatch(new RegExp(`^warehouse/default/${TABLE}/data/[0-9a-f-]{36}\\.parquet$`));
    // Not rewritten: the table's data file is the uploaded file, byte for byte.
    expect(sha((await dev.lake.get(walk.currentDataFiles[0]))!)).toBe(sha(first));
    let s = await dev.status(TABLE);
    expect(columnTypes(s.schema)).toEqual({ id: "long", name: "string", score: "double", active: "boolean", born: "date", seen: "timestamp", price: "decimal(9, 2)", qty: "int" });
    // DuckDB wrote no field ids: readers map the columns by name (spec "Column Projection").
    const mapping = JSON.parse(walk.metadata.properties["schema.name-mapping.default"]);
    expect(mapping).toEqual(s.schema.fields.map((f: { id: number; name: string }) => ({ "field-id": f.id, names: [f.name] })));

    // The manifest's metrics come from the file's footer: icebird and DuckDB read the rows.
    const ice = await icebirdRows(dev, s.metadataLocation);
    expect(ice).toHaveLength(200);
    const byId = new Map(ice.map((r) => [Number(r.id), r]));
    for (const i of [0, 1, 117, 199]) {
      const r = byId.get(i)!;
      expect([r.name, Number(r.score), r.active, Number(r.qty)]).toEqual([`name ${i}`, i * 0.5, i % 2 === 0, i * 3]);
      expect(new Date(r.seen as string | number | Date).toISOString()).toBe(new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString());
    }
    const duck = await duckdbOverFiles(dev.lake, walk.currentDataFiles, "SELECT count(*)::INTEGER AS n, sum(qty)::BIGINT AS q, max(born)::VARCHAR AS b FROM {files}");
    expect(duck).toEqual([{ n: 200, q: String(3 * ((199 * 200) / 2)), b: "2024-07-18" }]);

    // Deleting the upload afterwards breaks nothing: the table holds its own copy.
    await dev.lake.delete(`incoming/${TABLE}/first.parquet`);

    const second = await duckFile(SECOND);
    await dev.lake.put(`incoming/${TABLE}/second.parquet`, second);
    expect((await reconcile()).enqueued).toBe(1);
    l = await settledLedger(TABLE, 2);
    expect(l.find((u) => u.key.endsWith("second.parquet")), withLogs("second file")).toMatchObject({ state: "ingested", rows: 100 });
    walk = await walkLake(dev.lake, locationFor(TABLE));
    expect(walk.missing).toEqual([]);
    expect(walk.currentDataFiles).toHaveLength(2);
    expect((await Promise.all(walk.currentDataFiles.map(async (k) => sha((await dev.lake.get(k))!)))).sort()).toEqual([sha(first), sha(second)].sort());
    s = await dev.status(TABLE);
    expect(columnTypes(s.schema)).toMatchObject({ qty: "long", note: "string" });
    expect(JSON.parse(walk.metadata.properties["schema.name-mapping.default"]).map((m: { names: string[] }) => m.names[0])).toEqual(["id", "name", "score", "active", "born", "seen", "price", "qty", "note"]);
    const all = await icebirdRows(dev, s.metadataLocation);
    expect(all).toHaveLength(300);
    const notes = new Map(all.map((r) => [Number(r.id), r.note ?? null]));
    expect([notes.get(5), notes.get(250)]).toEqual([null, "note 250"]);
    expect(s.totalRecords).toBe(300);
  });

  it("rewrites a Parquet file whose columns do not fit, and fails it with the reason when its rows do not fit either", async () => {
    const bad = await duckFile("SELECT 'not a number' AS id, 'x' AS name");
    await dev.lake.put(`incoming/${TABLE}/bad-id.parquet`, bad);
    await reconcile();
    const l = await settledLedger(TABLE, 3);
    const entry = l.find((u) => u.key.endsWith("bad-id.parquet"));
    expect(entry, withLogs("bad file")).toMatchObject({ state: "failed", rows: 0 });
    expect(entry!.reason).toMatch(/^row 0, field "id": /);
    expect((await dev.status(TABLE)).totalRecords).toBe(300);
  });
});

describe("broken files through the real stack", () => {
  const TABLE = "broken";
  const FRESH = "broken_fresh";
  const enc = (s: string) => new TextEncoder().encode(s);
  const good = [1, 2, 3].map((id) => ({ id, label: `good-${id}` }));
  // Enough rows that the decoder hands out full batches (10,000 rows) before it meets the problem:
  // those rows were read, converted and buffered for Parquet, and must still not land.
  const many = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, label: `bad-${from + i}` }));
  const bigCsv = (rows: { id: number; label: string }[]) => ["id,label", ...rows.map((r) => `${r.id},${r.label}`)].join("\n") + "\n";
  const ndjson = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

  const crcPlain = ndjson(many(30_000, 100_000));
  const crcFlipped = (() => {
    const gz = new Uint8Array(gzipSync(crcPlain));
    gz[gz.length - 8] ^= 0xff; // the CRC-32 of the trailer (RFC 1952): every byte inflates, the check fails
    return gz;
  })();
  const truncatedGz = (() => {
    const gz = gzipSync(bigCsv(many(30_000, 200_000)));
    return new Uint8Array(gz.subarray(0, Math.floor(gz.length / 2)));
  })();
  const zstd = fixture("duckdb-multi-zstd.parquet");
  // The same file with the zstd frame of one column chunk of its last row group (rows 4096-4999)
  // spoiled: its footer is intact, and row groups 0 and 1 (4096 rows, two batches) read fine first.
  const spoiledGroup = async () => {
    const [chunk] = await duckdb(`SELECT data_page_offset AS at, total_compressed_size AS size FROM parquet_metadata('${fixturePath("duckdb-multi-zstd.parquet")}') WHERE row_group_id = 2 AND path_in_schema = 'label'`);
    const bytes = zstd.slice();
    const from = Number(chunk.at);
    const magic = bytes.subarray(from, from + Number(chunk.size)).findIndex((_, i, a) => a[i] === 0x28 && a[i + 1] === 0xb5 && a[i + 2] === 0x2f && a[i + 3] === 0xfd);
    expect(magic).toBeGreaterThan(0);
    bytes.fill(0, from + magic, from + magic + 4);
    // An independent reader agrees that the file is broken.
    await expect(duckdb(`SELECT max(label) FROM read_parquet('${tempFile("spoiled.parquet", bytes)}')`)).rejects.toThrow();
    return bytes;
  };

  const BAD: { name: string; bytes: () => Promise<Uint8Array> | Uint8Array; reason: RegExp }[] = [
    { name: "ragged.csv", bytes: () => fixture("python-ragged.csv"), reason: /^CSV line 5: expected 3 fields, got 2$/ },
    { name: "big-ragged.csv", bytes: () => enc(bigCsv(many(25_000, 300_000)) + "999999\n"), reason: /^CSV line 25002: expected 2 fields, got 1$/ },
    { name: "empty.ndjson", bytes: () => new Uint8Array(0), reason: /^the object is empty \(zero bytes\)$/ },
    { name: "empty.parquet", bytes: () => new Uint8Array(0), reason: /^Parquet: 0 bytes is too short for a Parquet file/ },
    { name: "crc.ndjson.gz", bytes: () => crcFlipped, reason: /^gzip: not valid gzip data \(corrupt, .*\) after \d+ decompressed bytes$/ },
    { name: "cut.csv.gz", bytes: () => truncatedGz, reason: /^gzip: not valid gzip data \(.*(truncated|incomplete data).*\) after \d+ decompressed bytes$/ },
    { name: "spoiled-group.parquet", bytes: spoiledGroup, reason: /^Parquet: row group 2 \(rows 4096 to 4999\) is unreadable: / },
    { name: "cut.parquet", bytes: () => zstd.subarray(0, Math.floor(zstd.length * 0.6)), reason: /^Parquet: not a Parquet file, or truncated \(the footer is unreadable\)/ },
  ];

  it("puts one good file and broken ones (S3 API and the endpoint); each broken one is failed, with a reason that says where", async () => {
    // Integral numbers as long, as the Parquet files below have them (so they fail where they are broken, not on their type).
    expect((await dev.call(`/v1/tables/${TABLE}`, { method: "PUT", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ properties: { "floe.infer.numbers": "long" } }) })).status).toBe(200);
    await dev.lake.put(`incoming/${TABLE}/good.ndjson`, enc(ndjson(good)));
    for (const b of BAD) await dev.lake.put(`incoming/${TABLE}/${b.name}`, await b.bytes());
    // The large ragged CSV alone, into a table nothing else writes to.
    await dev.lake.put(`incoming/${FRESH}/big-ragged.csv`, await BAD.find((b) => b.name === "big-ragged.csv")!.bytes());
    const r = await reconcile();
    expect(r.enqueued).toBe(BAD.length + 2);
    // A zero-byte body through the endpoint too.
    const empty = await dev.call(`/v1/tables/${TABLE}/uploads/empty-upload.csv`, { method: "PUT", headers: { ...INGEST, "Content-Type": "text/csv" }, body: "" });
    expect(empty.status, JSON.stringify(empty.body)).toBe(202);

    const l = await settledLedger(TABLE, BAD.length + 2);
    expect(l.filter((u) => u.state === "pending").map((u) => u.key), withLogs("still pending")).toEqual([]);
    const byKey = Object.fromEntries(l.map((u) => [u.key.slice(`incoming/${TABLE}/`.length), u]));
    expect(Object.keys(byKey).sort()).toEqual([...BAD.map((b) => b.name), "good.ndjson", "empty-upload.csv"].sort());
    expect(byKey["good.ndjson"]).toMatchObject({ state: "ingested", rows: good.length });
    for (const b of BAD) {
      expect(byKey[b.name], b.name).toMatchObject({ state: "failed", rows: 0, snapshotId: null });
      expect(byKey[b.name].reason, b.name).toMatch(b.reason);
    }
    // The bad CRC is only seen at the end: nearly all of its 30,000 rows (full batches) were decoded first.
    const inflated = Number(/after (\d+) decompressed bytes/.exec(byKey["crc.ndjson.gz"].reason!)![1]);
    expect(inflated).toBeGreaterThan(Buffer.byteLength(crcPlain) * 0.9);
    expect(byKey["empty-upload.csv"]).toMatchObject({ state: "failed", reason: "the object is empty (zero bytes)" });
    // The ledger's state filter.
    const failed = await dev.call(`/v1/tables/${TABLE}/uploads?state=failed`, { headers: INGEST });
    expect(failed.body.uploads.map((u: LedgerEntry) => u.state)).toEqual(Array(BAD.length + 1).fill("failed"));
    const fresh = await settledLedger(FRESH, 1);
    expect(fresh).toEqual([expect.objectContaining({ state: "failed", rows: 0, reason: "CSV line 25002: expected 2 fields, got 1" })]);
  }, 90_000);

  it("the table holds the good rows and none of theirs; the broken files stay in place for a replay; the service keeps serving", async () => {
    const s = await dev.status(TABLE);
    expect(s.totalRecords).toBe(good.length);
    expect(s.uploads).toMatchObject({ ingested: 1, failed: BAD.length + 1, pending: 0 });
    const back = await readBack(TABLE);
    const want = canonRows(back.status.schema, good);
    expect(back.duck).toEqual(want);
    expect(back.ice).toEqual(want);
    for (const b of BAD) expect(await dev.lake.head(`incoming/${TABLE}/${b.name}`), b.name).not.toBeNull();
    const health = await dev.call("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true });
    expect((await dev.status(FRESH))?.totalRecords ?? 0).toBe(0);
  });

  // README "Atomic per object": a file that fails, even after its first batch (spoiled-group.parquet
  // in its last row group, big-ragged.csv at line 25002), is not ingested at all: no new columns,
  // no table created for it (the schema a file needs is adopted only once the whole file was read).
  it("a failed file leaves the table as it was: no columns of its own, no table created for it", async () => {
    expect(columnTypes((await dev.status(TABLE)).schema)).toEqual({ id: "long", label: "string" });
    expect(await dev.status(FRESH)).toBeUndefined();
  });
});
