import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { TableCatalog } from "../../src/durable/table-catalog.js";
import { FloeError } from "../../src/errors.js";
import { loadTable, commitTable, tableLocation, type LoadedTable, type TableLocation } from "../../src/iceberg/table.js";
import { createTable } from "../../src/iceberg/transaction/create-table.js";
import { serializeMetadata } from "../../src/iceberg/metadata.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { ObjectStore } from "../../src/storage/object-store.js";

const loc = tableLocation("floe-lake", "warehouse", "ns", "t");
type Mode = "ok" | "landed-then-failed" | "failed" | "failed-and-unreadable";

/**
 * An engine's commit whose metadata write fails: the catalog settles the outcome from the lake
 * instead of answering "unknown" (or worse, "failed" for a commit that landed, which makes engines
 * delete files the table references: apache/iceberg#12792).
 */
async function setup(mode: Mode, opts: { at?: TableLocation } = {}) {
  const inner = new MemoryStore();
  let t: LoadedTable | null | undefined = await commitTable(inner, loc, createTable({ location: loc.uri, schema: { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "a", type: "long", required: false }] }, spec: { "spec-id": 0, fields: [] } }), { now: 1, base: null });
  let unreadable = false;
  const store: ObjectStore = Object.create(inner);
  store.put = async (key, body, opts) => {
    if (!/\/v\d+\.metadata\.json$/.test(key) || mode === "ok") return inner.put(key, body, opts);
    if (mode === "landed-then-failed") await inner.put(key, body, opts);
    if (mode === "failed-and-unreadable") unreadable = true;
    throw new FloeError("storage_unavailable", `injected: put ${key}`);
  };
  store.get = async (key) => {
    if (unreadable) throw new FloeError("storage_unavailable", "injected: lake unreadable");
    return inner.get(key);
  };
  const meta = new Map<string, string>();
  const where = (): TableLocation => (meta.has("location") ? JSON.parse(meta.get("location")!) : (opts.at ?? loc));
  if (opts.at) t = undefined;
  const sql = { exec: (q: string, k: string, v: string) => (q.startsWith("INSERT") && meta.set(k, v), { toArray: () => (meta.has(k) ? [{ v: meta.get(k) }] : []) }) } as unknown as SqlStorage;
  const catalog = new TableCatalog({
    sql,
    env: env as unknown as Env,
    storage: {} as DurableObjectStorage,
    store: () => store,
    location: where,
    loaded: async (_n, fresh) => (fresh || t === undefined ? (t = await loadTable(store, where())) : t),
    setTable: (x) => (t = x),
    serial: (fn) => fn(),
    committed: async () => undefined,
  });
  return { catalog, inner };
}

const commit = { requirements: [], updates: [{ action: "set-properties" as const, updates: { k: "v" } }] };

describe("TableCatalog.commit when the metadata write fails", () => {
  it("answers the table when the write landed in spite of the error", async () => {
    const { catalog, inner } = await setup("landed-then-failed");
    const t = await catalog.commit("ns.t", commit);
    expect(t.version).toBe(2);
    expect(t.metadata.properties.k).toBe("v");
    expect((await loadTable(inner, loc))!.version).toBe(2);
  });

  it("answers a retryable 503 when nothing was written", async () => {
    const { catalog, inner } = await setup("failed");
    const e = await catalog.commit("ns.t", commit).catch((x) => x);
    expect(e).toBeInstanceOf(FloeError);
    expect(e.status).toBe(503);
    expect(e.message).toMatch(/nothing was committed/);
    expect((await loadTable(inner, loc))!.version).toBe(1);
  });

  it("answers 500 CommitStateUnknownException when the lake cannot be read back", async () => {
    const { catalog } = await setup("failed-and-unreadable");
    const e = await catalog.commit("ns.t", commit).catch((x) => x);
    expect(e.status).toBe(500);
    expect(e.details.type).toBe("CommitStateUnknownException");
  });

  it("commits normally, and refuses a move elsewhere", async () => {
    const { catalog } = await setup("ok");
    expect((await catalog.commit("ns.t", commit)).version).toBe(2);
    const e = await catalog.commit("ns.t", { requirements: [], updates: [{ action: "set-location", location: "s3://floe-lake/warehouse/ns/other" }] }).catch((x) => x);
    expect(e.status).toBe(400);
  });
});

describe("TableCatalog.register", () => {
  it("copies a metadata file named as Java engines name them into Floe's layout, keeping the table where it is", async () => {
    const { catalog, inner } = await setup("ok", { at: tableLocation("floe-lake", "warehouse", "ns", "other") });
    const at = "s3://floe-lake/spark/warehouse/db/orders";
    const base = (await loadTable(inner, loc))!.metadata;
    const text = serializeMetadata({ ...base, location: at, "table-uuid": "6f4ae8c5-7a57-4b44-9a4f-0b3c0d6e8a11" });
    await inner.put("spark/warehouse/db/orders/metadata/00003-0b7f.metadata.json", new TextEncoder().encode(text));
    const t = await catalog.register("ns.other", `${at}/metadata/00003-0b7f.metadata.json`);
    expect(t.metadata["table-uuid"]).toBe("6f4ae8c5-7a57-4b44-9a4f-0b3c0d6e8a11");
    expect(t.metadataLocation).toBe(`${at}/metadata/v1.metadata.json`);
    expect(await inner.get("spark/warehouse/db/orders/metadata/00003-0b7f.metadata.json")).not.toBeNull(); // the engine's file stays
  });
});
