import { describe, expect, it } from "vitest";
import { NO_SNAPSHOT, parseMetadata, serializeMetadata, stringifyExact } from "../../src/iceberg/metadata.js";

/** A format 2 file as another writer may leave it: only the spec's required fields. */
const MINIMAL = `{"format-version":2,"table-uuid":"9c12d441-03fe-4693-9a96-a0705ddf69c1","location":"s3://b/t","last-sequence-number":0,"last-updated-ms":1,"last-column-id":1,
"schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"a","required":false,"type":"long"}]}],"current-schema-id":0,
"partition-specs":[{"spec-id":0,"fields":[]}],"default-spec-id":0,"last-partition-id":999,"sort-orders":[{"order-id":0,"fields":[]}],"default-sort-order-id":0}`;

describe("parseMetadata", () => {
  it("fills what the spec lets a writer leave out", () => {
    const m = parseMetadata(MINIMAL);
    expect(m["current-snapshot-id"]).toBe(NO_SNAPSHOT);
    expect(m.snapshots).toEqual([]);
    expect(m.refs).toEqual({});
    expect(m.properties).toEqual({});
    expect(m["snapshot-log"]).toEqual([]);
    expect(m["metadata-log"]).toEqual([]);
  });

  it("reads a current snapshot without refs as main pointing at it, ids exact; null as no snapshot", () => {
    const m = parseMetadata(MINIMAL.replace(/}$/, ',"current-snapshot-id":9223372036854775807,"snapshots":[]}'));
    expect(m.refs).toEqual({ main: { "snapshot-id": 9223372036854775807n, type: "branch" } });
    expect(parseMetadata(MINIMAL.replace(/}$/, ',"current-snapshot-id":null}'))["current-snapshot-id"]).toBe(NO_SNAPSHOT);
  });

  it("round-trips through serializeMetadata with 64-bit ids as JSON integers", () => {
    const m = parseMetadata(MINIMAL.replace(/}$/, ',"current-snapshot-id":4611686018427387905}'));
    const text = serializeMetadata(m);
    expect(text).toContain('"current-snapshot-id":4611686018427387905');
    expect(parseMetadata(text)).toEqual(m);
    expect(stringifyExact({ ids: [1n, -(2n ** 63n)] })).toBe('{"ids":[1,-9223372036854775808]}');
  });
});
