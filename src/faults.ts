import { FloeError } from "./errors.js";
import type { Body, ObjectStore, PutOptions } from "./storage/object-store.js";

/**
 * Test-only fault injection, driven by the `FLOE_FAULTS` variable: `name:probability` pairs, e.g.
 * `after-claim:0.2,s3-put:0.1`. The end-to-end tests start `wrangler dev` with it to crash the
 * consumer at each step of the commit protocol and to fail S3 writes, and then check that every
 * event is in the table exactly once. Unset (as in production), nothing here ever fires.
 *
 * Points: `after-claim`, `after-write` (Parquet written, not committed), `after-metadata` (the
 * Durable Object wrote the metadata file but did not record it), `before-ack`, `s3-put`; and for
 * maintenance: `compact-after-step` (a compaction step's file written, not recorded),
 * `compact-after-commit` (a compaction committed, not recorded), `expire-after-commit` (snapshots
 * expired, their files not yet deleted), `orphans-mid-delete` (half the orphans deleted).
 */
export type FaultPoint = "after-claim" | "after-write" | "after-metadata" | "before-ack" | "s3-put" | "compact-after-step" | "compact-after-commit" | "expire-after-commit" | "orphans-mid-delete" | CatalogFault;

/**
 * Faults of the REST catalog Floe serves, for testing a Floe that commits through it: a refused
 * commit (`catalog-409`, Basin's `catalog-400-concurrent`, `catalog-429` with `Retry-After: 1`), one
 * that fails before applying (`catalog-503`), and one applied whose answer is lost (`catalog-lost-reply`: 504).
 */
export type CatalogFault = "catalog-409" | "catalog-400-concurrent" | "catalog-429" | "catalog-503" | "catalog-lost-reply";

export function parseFaults(spec: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (spec ?? "").split(",")) {
    const [name, p] = part.split(":");
    if (name && Number(p) > 0) out.set(name.trim(), Number(p));
  }
  return out;
}

/** An injected crash: the consumer must behave as if its isolate died here (no clean-up). */
export class InjectedCrash extends Error {}

/** Whether the fault at `point` fires this time (the configured probability). */
export function fires(faults: Map<string, number>, point: FaultPoint): boolean {
  const p = faults.get(point);
  return p !== undefined && Math.random() < p;
}

/** Throws an injected crash at `point` with the configured probability. */
export function maybeFail(faults: Map<string, number>, point: FaultPoint): void {
  if (fires(faults, point)) throw new InjectedCrash(`injected fault: ${point}`);
}

/** A store whose puts fail (before writing anything) with the `s3-put` probability. */
export function faultyStore(inner: ObjectStore, faults: Map<string, number>): ObjectStore {
  const p = faults.get("s3-put");
  if (!p) return inner;
  return {
    get: (k) => inner.get(k),
    getRange: (k, a, b) => inner.getRange(k, a, b),
    putStream: (k, chunks, o) => (Math.random() < p ? Promise.reject(new FloeError("storage_unavailable", `injected fault: s3-put ${k}`)) : inner.putStream(k, chunks, o)),
    getStream: (k) => inner.getStream(k),
    list: (prefix, o) => inner.list(prefix, o),
    delete: (k) => inner.delete(k),
    copy: (from, to, o) => inner.copy(from, to, o),
    put: (key: string, body: Body, opts?: PutOptions) => {
      if (Math.random() < p) return Promise.reject(new FloeError("storage_unavailable", `injected fault: s3-put ${key}`));
      return inner.put(key, body, opts);
    },
  };
}
