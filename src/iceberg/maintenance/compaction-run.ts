import type { RowGroup } from "hyparquet";
import { readSource } from "../../columnar/column-source.js";
import { parquetGroups, type RandomAccessFile } from "../../decode/parquet.js";
import { FloeError } from "../../errors.js";
import { concatRowGroups, parquetFooter } from "../../parquet/concat.js";
import { fileMetrics } from "../../parquet/metrics.js";
import { DataFileWriter } from "../../parquet/writer.js";
import type { ObjectStore } from "../../storage/object-store.js";
import { streamingPut } from "../../storage/streaming-put.js";
import type { DataFile } from "../data-file.js";
import type { LoadedTable, TableLocation } from "../table.js";
import { fromTagged, toTagged } from "../tagged-json.js";
import { planReplace } from "../transaction/replace.js";
import { fileKey } from "../transaction/manifests.js";
import { transact } from "../transaction/transact.js";
import type { Schema } from "../types.js";
import type { CompactionJob } from "./compaction-plan.js";

/**
 * Rows per output row group, and converted values held before one is cut: with the input row group
 * being read, the memory bound of a step (see the README's figures).
 */
const ROW_GROUP_ROWS = 122_880; // DuckDB's default row group
const ROW_GROUP_BYTES = 4 * 1024 * 1024;
/** Bytes copied per read when segments are joined. */
const COPY_BYTES = 8 * 1024 * 1024;

/** A segment written by one step: a Parquet file under `compaction/{job}/`, and where its row groups are. */
export interface SegmentOut {
  key: string;
  records: number;
  /** The writer's row groups as tagged JSON text (statistics as untruncated values), to join segments without re-reading footers. */
  rowGroups: string;
}

/** What a step produced: a segment to join later, or (for a job of one segment) the output file itself. */
export type StepOut = { segment: SegmentOut } | { output: DataFile };

const segmentRange = (job: CompactionJob, i: number) => job.inputs.slice(job.segments[i], job.segments[i + 1] ?? job.inputs.length);

/** A data file of the table as a random-access file, read with ranged gets (one row group at a time, not the whole file). */
function storedFile(store: ObjectStore, loc: TableLocation, path: string, size: number): RandomAccessFile {
  const key = fileKey(loc, path);
  return {
    byteLength: size,
    slice: async (start: number, end?: number) => {
      const bytes = await store.getRange(key, start, end ?? size);
      if (!bytes) throw new FloeError("commit_conflict", `compaction input ${path} is gone; the job is planned again`, { retryable: false, details: { stale: 1 } });
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * Step `index` of a job: reads the segment's input files row group by row group, converts their
 * columns to the table's current schema (columns a file predates read as null, int and float widen)
 * and writes them as one Parquet file. A job of one segment writes its output in place (`data/…`);
 * otherwise the segment goes under `compaction/{job}/`, to be joined by `joinSegments`. The row
 * count is checked against the manifests' counts: a rewrite never loses or invents a row.
 */
export async function writeSegment(store: ObjectStore, loc: TableLocation, schema: Schema, job: CompactionJob, index: number, opts: { codec?: string } = {}): Promise<StepOut> {
  const inputs = segmentRange(job, index);
  const only = job.segments.length === 1;
  const name = only ? `${job.dir}/${crypto.randomUUID()}.parquet` : `compaction/${job.id}/seg-${index}-${crypto.randomUUID()}.parquet`;
  // The file goes up as it is encoded, a row group at a time: memory holds one row group, not the file.
  const out = streamingPut(store, `${loc.key}/${name}`, { ifNoneMatch: "*", contentType: "application/vnd.apache.parquet" });
  const writer = new DataFileWriter({ schema, codec: opts.codec, rowGroupRows: ROW_GROUP_ROWS, rowGroupBytes: ROW_GROUP_BYTES, onChunk: (c) => out.write(c) });
  let records = 0;
  let metrics: Awaited<ReturnType<DataFileWriter["finish"]>>["metrics"];
  try {
    for (const input of inputs) {
      // A row group at a time, a column at a time, into typed columns: no row objects.
      for await (const group of parquetGroups(storedFile(store, loc, input.path, input.bytes))) {
        const read = await readSource({ ...group, first: records }, { schema, infer: null, unknownFields: "ignore" });
        await writer.write(read.batch(schema));
        records += group.rowCount;
      }
    }
    const expected = inputs.reduce((n, f) => n + f.records, 0);
    if (records !== expected) throw new FloeError("internal", `compaction of ${inputs.length} files read ${records} rows where the manifests count ${expected}; nothing is committed`);
    ({ metrics } = await writer.finish());
  } catch (e) {
    await out.abort(e);
    throw e;
  }
  await out.close();
  if (only) return { output: { content: 0, filePath: `${loc.uri}/${name}`, fileFormat: "PARQUET", partition: fromTagged(JSON.parse(job.partition)) as DataFile["partition"], ...metrics } };
  return { segment: { key: `${loc.key}/${name}`, records, rowGroups: JSON.stringify(toTagged(writer.rowGroups)) } };
}

/**
 * The last step of a job of several segments: its output is `PAR1`, then each segment's row-group
 * bytes copied as they are (no decoding: segments share the schema and codec), then a footer whose
 * row groups point at the moved bytes. Streamed into the store, so memory stays about one copy
 * window and one upload part whatever the output's size.
 */
export async function joinSegments(store: ObjectStore, loc: TableLocation, schema: Schema, job: CompactionJob, segments: readonly SegmentOut[]): Promise<DataFile> {
  const parts = segments.map((s) => ({ key: s.key, rowGroups: fromTagged(JSON.parse(s.rowGroups)) as RowGroup[] }));
  const { rowGroups, ranges } = concatRowGroups(parts);
  const footer = parquetFooter(schema, rowGroups);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1
    for (let i = 0; i < parts.length; i++) {
      for (let at = ranges[i].start; at < ranges[i].end; at += COPY_BYTES) {
        const chunk = await store.getRange(parts[i].key, at, Math.min(ranges[i].end, at + COPY_BYTES));
        if (!chunk) throw new FloeError("storage_unavailable", `compaction segment ${parts[i].key} is missing; the step that wrote it runs again`, { retryable: true });
        yield chunk;
      }
    }
    yield footer;
  }
  const name = `${job.dir}/${crypto.randomUUID()}.parquet`;
  const info = await store.putStream(`${loc.key}/${name}`, bytes(), { ifNoneMatch: "*", contentType: "application/vnd.apache.parquet" });
  const records = segments.reduce((n, s) => n + s.records, 0);
  return { content: 0, filePath: `${loc.uri}/${name}`, fileFormat: "PARQUET", partition: fromTagged(JSON.parse(job.partition)) as DataFile["partition"], ...fileMetrics(schema, rowGroups, records, info.size) };
}

/**
 * Commits a job's output in place of its inputs (a `replace` snapshot, see `planReplace`, whose
 * summary names the job so a commit left in doubt can be recognised). A table that moved meanwhile
 * is re-planned on; inputs no longer live refuse the commit (`stale`).
 */
export async function commitCompaction(store: ObjectStore, loc: TableLocation, base: LoadedTable, job: CompactionJob, output: DataFile, opts: { now?: () => number } = {}) {
  return transact(store, loc, (b) => planReplace(store, loc, b!, { remove: job.inputs.map((f) => f.path), add: [output], specId: job.specId, summary: { "floe.compaction-job": job.id }, now: (opts.now ?? Date.now)() }), { base, now: opts.now });
}

/**
 * Runs a whole job in this process (tests, benchmarks, a table small enough): every segment, the
 * join, the commit; segments are deleted afterwards. The Worker runs the same steps one per queue
 * message instead, so that each fits an invocation's limits.
 */
export async function runCompactionJob(store: ObjectStore, loc: TableLocation, base: LoadedTable, schema: Schema, job: CompactionJob, opts: { codec?: string; now?: () => number } = {}) {
  const outs: StepOut[] = [];
  for (let i = 0; i < job.segments.length; i++) outs.push(await writeSegment(store, loc, schema, job, i, opts));
  const segments = outs.flatMap((o) => ("segment" in o ? [o.segment] : []));
  const output = "output" in outs[0] ? outs[0].output : await joinSegments(store, loc, schema, job, segments);
  const r = await commitCompaction(store, loc, base, job, output, opts);
  if (segments.length) await store.delete(segments.map((s) => s.key)).catch(() => undefined);
  return { ...r, output };
}
