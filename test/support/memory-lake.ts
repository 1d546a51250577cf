import { afterEach, beforeEach } from "vitest";
import { tableLocation, type TableLocation } from "../../src/iceberg/table.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { serveStoreOverFetch } from "./store-fetch.js";

/**
 * A fresh in-memory lake for each test, with `fetch` pointed at it (icebird reads through it), and
 * a table location `warehouse/default/{table}` in it. Hands both to `use` before each test.
 */
export function memoryLake(table: string, use: (store: MemoryStore, loc: TableLocation) => void, bucket = "lake"): void {
  let restore: () => void;
  beforeEach(() => {
    const store = new MemoryStore();
    restore = serveStoreOverFetch(store, bucket);
    use(store, tableLocation(bucket, "warehouse", "default", table));
  });
  afterEach(() => restore());
}
