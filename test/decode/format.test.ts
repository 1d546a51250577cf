import { describe, expect, it } from "vitest";
import { formatFromName } from "../../src/decode/format.js";

describe("formatFromName", () => {
  it.each([
    ["incoming/t/a.ndjson", { format: "ndjson", gzip: false }],
    ["incoming/t/a.jsonl", { format: "ndjson", gzip: false }],
    ["incoming/t/a.json", { format: "json", gzip: false }],
    ["incoming/t/a.csv", { format: "csv", gzip: false }],
    ["incoming/t/a.tsv", { format: "csv", gzip: false, csv: { delimiter: "\t" } }],
    ["incoming/t/a.parquet", { format: "parquet", gzip: false }],
    ["incoming/t/a.arrow", { format: "arrow", gzip: false }],
    ["incoming/t/a.arrows", { format: "arrow", gzip: false }],
    ["incoming/t/a.ipc", { format: "arrow", gzip: false }],
    ["incoming/t/a.ndjson.gz", { format: "ndjson", gzip: true }],
    ["incoming/t/a.jsonl.gz", { format: "ndjson", gzip: true }],
    ["incoming/t/a.json.gz", { format: "json", gzip: true }],
    ["incoming/t/a.csv.gz", { format: "csv", gzip: true }],
    ["incoming/t/a.tsv.gz", { format: "csv", gzip: true, csv: { delimiter: "\t" } }],
    ["incoming/t/a.parquet.gz", { format: "parquet", gzip: true }],
    ["incoming/t/a.arrows.gz", { format: "arrow", gzip: true }],
    ["incoming/t/2024.01.02.export.CSV.GZ", { format: "csv", gzip: true }],
    ["incoming/t/a.csv.gzip", { format: "csv", gzip: true }],
  ])("%s", (key, expected) => {
    expect(formatFromName(key)).toEqual(expected);
  });

  it("falls back to the content type, parameters and case ignored", () => {
    expect(formatFromName("incoming/t/dump", "text/csv; charset=utf-8")).toEqual({ format: "csv", gzip: false });
    expect(formatFromName("incoming/t/dump", "Application/X-NDJSON")).toEqual({ format: "ndjson", gzip: false });
    expect(formatFromName("incoming/t/dump", "application/vnd.apache.parquet")).toEqual({ format: "parquet", gzip: false });
    expect(formatFromName("incoming/t/dump", "application/vnd.apache.arrow.stream")).toEqual({ format: "arrow", gzip: false });
    expect(formatFromName("incoming/t/dump", "text/tab-separated-values")).toEqual({ format: "csv", gzip: false, csv: { delimiter: "\t" } });
    expect(formatFromName("incoming/t/dump.gz", "application/json")).toEqual({ format: "json", gzip: true });
  });

  it("prefers the extension over the content type", () => {
    expect(formatFromName("incoming/t/a.csv", "application/octet-stream")).toEqual({ format: "csv", gzip: false });
    expect(formatFromName("incoming/t/a.parquet", "application/json")).toEqual({ format: "parquet", gzip: false });
  });

  it("knows nothing of other names and types", () => {
    expect(formatFromName("incoming/t/a.xlsx")).toBeUndefined();
    expect(formatFromName("incoming/t/a.gz")).toBeUndefined();
    expect(formatFromName("incoming/t/a.gz", "application/gzip")).toBeUndefined();
    expect(formatFromName("incoming/t/csv")).toBeUndefined();
    expect(formatFromName("incoming/t.csv/readme")).toBeUndefined();
    expect(formatFromName("incoming/t/a.txt", "text/plain")).toBeUndefined();
    expect(formatFromName("incoming/t/a.constructor")).toBeUndefined();
  });
});
