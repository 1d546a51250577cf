import { describe, expect, it } from "vitest";
import { parseCommit, parseExactJson } from "../../src/catalog/requests.js";
import { etagOf, icebergError, loadResultText, noneMatch, refsOnly } from "../../src/catalog/responses.js";
import { FloeError } from "../../src/errors.js";
import { applyUpdates } from "../../src/iceberg/commit.js";
import { parseMetadata } from "../../src/iceberg/metadata.js";
import { createTable } from "../../src/iceberg/transaction/create-table.js";

describe("catalog requests", () => {
  it("keeps 64-bit integers exact and leaves small numbers alone", () => {
    const v = parseExactJson('{"a":9223372036854775807,"b":-9223372036854775808,"c":12,"d":1.5e300,"e":[4611686018427387905]}') as Record<string, unknown>;
    expect(v).toEqual({ a: 9223372036854775807n, b: -9223372036854775808n, c: 12, d: 1.5e300, e: [4611686018427387905n] });
  });

  it("parses a commit into the core's types, ids as bigint", () => {
    const { commit } = parseCommit(parseExactJson(JSON.stringify({
      requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 5 }],
      updates: [{ action: "add-snapshot", snapshot: { "snapshot-id": 6, "parent-snapshot-id": 5, "sequence-number": 2, "timestamp-ms": 1, "manifest-list": "s3://b/t/m.avro", summary: { operation: "append" } } }, { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": 6 }],
    })));
    expect(commit.requirements[0]).toEqual({ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 5n });
    expect(commit.updates[0]).toMatchObject({ action: "add-snapshot", snapshot: { "snapshot-id": 6n, "parent-snapshot-id": 5n } });
    expect(commit.updates[1]).toMatchObject({ "snapshot-id": 6n });
  });

  it("refuses unknown kinds whole, and wrong shapes naming where", () => {
    expect(() => parseCommit({ requirements: [], updates: [{ action: "set-statistics" }] })).toThrow(/unknown update action "set-statistics"/);
    expect(() => parseCommit({ requirements: [{ type: "assert-x" }], updates: [] })).toThrow(/unknown requirement type "assert-x"/);
    expect(() => parseCommit({ requirements: [], updates: [{ action: "set-properties", updates: { a: 1 } }] })).toThrow(/update 0 \(set-properties\): updates\.a/);
    expect(() => parseCommit({ requirements: [] })).toThrow(/updates/);
    try {
      parseCommit({ requirements: [], updates: [{ action: "add-snapshot", snapshot: { "snapshot-id": 1, "timestamp-ms": 1, "manifest-list": "x", summary: { operation: "append" } } }] });
      expect.unreachable();
    } catch (e) {
      expect((e as FloeError).code).toBe("invalid_input");
      expect((e as Error).message).toMatch(/sequence-number/);
    }
  });
});

describe("catalog responses", () => {
  const metadata = applyUpdates(null, createTable({ location: "s3://b/w/n/t", schema: { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "a", type: "long", required: false }] }, spec: { "spec-id": 0, fields: [] } }).updates, { now: 1 });

  it("writes 64-bit ids exactly in a LoadTableResult", () => {
    const m = { ...metadata, "current-snapshot-id": 9223372036854775807n };
    const text = loadResultText({ metadataLocation: "s3://b/w/n/t/metadata/v1.metadata.json", metadata: m, config: { "s3.region": "auto" } });
    expect(text).toContain('"current-snapshot-id":9223372036854775807');
    const back = JSON.parse(text);
    expect(back["metadata-location"]).toBe("s3://b/w/n/t/metadata/v1.metadata.json");
    expect(parseMetadata(JSON.stringify(back.metadata).replace(/"current-snapshot-id":[^,]+/, '"current-snapshot-id":-1'))["format-version"]).toBe(2);
    expect(back.config).toEqual({ "s3.region": "auto" });
  });

  it("keeps only referenced snapshots for snapshots=refs", () => {
    const snap = (id: bigint) => ({ "snapshot-id": id, "sequence-number": Number(id), "timestamp-ms": 1, "manifest-list": "x", summary: { operation: "append" as const } });
    const m = { ...metadata, snapshots: [snap(1n), snap(2n)], refs: { main: { "snapshot-id": 2n, type: "branch" as const } } };
    expect(refsOnly(m).snapshots.map((s) => s["snapshot-id"])).toEqual([2n]);
  });

  it("matches If-None-Match lists, weak tags and *", async () => {
    const tag = await etagOf("s3://b/t/metadata/v2.metadata.json", "all");
    expect(tag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(tag).not.toBe(await etagOf("s3://b/t/metadata/v3.metadata.json", "all"));
    expect(tag).not.toBe(await etagOf("s3://b/t/metadata/v2.metadata.json", "refs"));
    expect(noneMatch(`"x", ${tag}`, tag)).toBe(true);
    expect(noneMatch(`W/${tag}`, tag)).toBe(true);
    expect(noneMatch("*", tag)).toBe(true);
    expect(noneMatch('"other"', tag)).toBe(false);
    expect(noneMatch(undefined, tag)).toBe(false);
  });

  it("maps errors to the spec's exception types, a named type first", () => {
    expect(icebergError(new FloeError("commit_conflict", "x")).body.error).toEqual({ message: "x", type: "CommitFailedException", code: 409 });
    expect(icebergError(new FloeError("not_found", "ns", { details: { type: "NoSuchNamespaceException" } })).body.error.type).toBe("NoSuchNamespaceException");
    expect(icebergError(new FloeError("internal", "?", { details: { type: "CommitStateUnknownException" } }))).toMatchObject({ status: 500, body: { error: { type: "CommitStateUnknownException" } } });
    expect(icebergError(new Error("boom"))).toEqual({ status: 500, body: { error: { message: "internal error", type: "ServiceFailureException", code: 500 } } });
  });
});
