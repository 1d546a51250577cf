import { scanNdjson } from "../src/columnar/scan-batches.js";
import { decodeGroups } from "../src/decode/decode-rows.js";
import { ndjsonBatches } from "../src/decode/ndjson.js";
import { freshSchema } from "../src/iceberg/batch-writer.js";
import { appendBatches } from "../src/iceberg/append-rows.js";
import { tableLocation } from "../src/iceberg/table.js";
import type { StructType } from "../src/iceberg/types.js";
import { MemoryStore } from "../src/storage/memory-store.js";

/** The benchmark's event schema: 9 columns of mixed types, timestamps declared so they are converted. */
export const BENCH_SCHEMA: StructType = {
  type: "struct",
  fields: [
    { id: 0, name: "id", required: true, type: "long" },
    { id: 0, name: "ts", required: false, type: "timestamptz" },
    { id: 0, name: "user_id", required: false, type: "string" },
    { id: 0, name: "event", required: false, type: "string" },
    { id: 0, name: "amount", required: false, type: "double" },
    { id: 0, name: "quantity", required: false, type: "long" },
    { id: 0, name: "is_mobile", required: false, type: "boolean" },
    { id: 0, name: "country", required: false, type: "string" },
    { id: 0, name: "session", required: false, type: "string" },
  ],
};

/** CSV columns typed as the upload consumer types them from the table's schema (timestamps as text, converted). */
const CSV_TYPES = { id: "long", amount: "double", quantity: "long", is_mobile: "boolean" } as const;

/** Input held in the isolate so timed runs measure conversion, not wrangler dev's request proxy. */
let loaded: Uint8Array | undefined;

/** The loaded input as a stream of 64 KiB chunks, as a request body or an R2 object would arrive. */
function loadedStream(): ReadableStream<Uint8Array> {
  const bytes = loaded!;
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(at, (at += 65536)));
    },
  });
}

/**
 * `POST /load`: keep the body as the input. Then, on that input:
 * `POST /convert`: NDJSON → Iceberg table (Parquet + manifests + metadata) in an in-memory store
 * (`?source=body`: from the request body as it streams in, instead of the loaded input).
 * (`?format=json|csv`: the input is a JSON array or CSV of the same events, read as uploads are:
 * JSON by the columnar scanner, CSV decoded a batch at a time into columns and converted column by column.)
 * `POST /parse`: the reference NDJSON decoder only (JSON.parse cost).
 * `POST /scan`: the columnar scanner only (bytes into typed columns, nothing encoded).
 */
export default {
  async fetch(req: Request): Promise<Response> {
    const { pathname, searchParams } = new URL(req.url);
    if (pathname === "/load") {
      loaded = new Uint8Array(await req.arrayBuffer());
      return Response.json({ bytes: loaded.byteLength });
    }
    if (pathname === "/convert") {
      const store = new MemoryStore();
      const rowGroupRows = Number(searchParams.get("rowGroupRows") ?? 10_000);
      const body = searchParams.get("source") === "body" ? req.body! : loadedStream();
      // `?path=reference`: JSON.parse and the row converter instead of the columnar scanner.
      // `?format=json|csv`: the loaded input is that format, read as an upload of it is.
      const format = searchParams.get("format");
      const input =
        format === "json"
          ? { json: body }
          : format === "csv"
          ? { groups: decodeGroups(body, { format, batchRows: rowGroupRows, csv: { types: CSV_TYPES } }) }
          : searchParams.get("path") === "reference"
            ? ndjsonBatches(body, { batchRows: rowGroupRows })
            : { ndjson: body };
      const r = await appendBatches(store, tableLocation("bench", "warehouse", "default", "events"), input, {
        chunkRows: rowGroupRows,
        create: { schema: BENCH_SCHEMA },
        rowGroupRows,
        codec: searchParams.get("codec") ?? "snappy",
      });
      return Response.json({ rows: r.rowCount, files: r.dataFiles.length, parquetBytes: r.dataFiles.reduce((n, f) => n + f.fileSizeInBytes, 0) });
    }
    if (pathname === "/scan") {
      // The columnar scanner alone: NDJSON bytes into typed columns of the bench schema, nothing written.
      let rows = 0;
      const schema = freshSchema(BENCH_SCHEMA);
      for await (const b of scanNdjson(loadedStream(), { batchRows: 10_000, maxLineBytes: 1 << 20 }, () => schema)) rows += b.fastRows;
      return Response.json({ rows });
    }
    if (pathname === "/parse") {
      let rows = 0;
      for await (const b of ndjsonBatches(loadedStream())) rows += b.length;
      return Response.json({ rows });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler;
