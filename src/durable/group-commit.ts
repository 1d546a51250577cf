import { leaseMs, type Env } from "../config.js";
import { FloeError, isFloeError, toRpc } from "../errors.js";
import { maybeFail, parseFaults } from "../faults.js";
import type { DataFile } from "../iceberg/data-file.js";
import { currentSchema } from "../iceberg/metadata.js";
import type { MetadataCatalog } from "../iceberg/metadata-catalog.js";
import { numberProperty } from "../iceberg/properties.js";
import { indexById, maxFieldId } from "../iceberg/schema.js";
import type { LoadedTable, TableLocation } from "../iceberg/table.js";
import { appendFiles } from "../iceberg/transaction/append.js";
import type { Schema } from "../iceberg/types.js";
import { log } from "../log.js";
import type { ObjectStore } from "../storage/object-store.js";
import { checkFence, commitFences, getMeta, setMeta } from "./keys.js";
import type { RequestPart } from "./receipts.js";
import type { TableConfig } from "./table-info.js";

/** An upload (or one byte range of it) a commit carries: the ledger marks it when the commit lands. */
export interface CommittedUpload {
  object: string;
  rows: number;
}

/** What a commit carries besides its files: the uploads and the request parts it lands. */
export interface CommitCarries {
  uploads?: CommittedUpload[];
  parts?: RequestPart[];
}

export interface CommitResult {
  snapshotId: bigint;
  sequenceNumber: number;
  metadataLocation: string;
  /** How many claims this snapshot carried (group commit). */
  groupSize: number;
}

/** The schema and partition spec a batch's files were written with. */
export interface WrittenWith {
  schemaId: number;
  specId: number;
}

interface PendingCommit extends WrittenWith {
  batchId: string;
  fence: number;
  files: DataFile[];
  uploads: CommittedUpload[];
  parts: RequestPart[];
  resolve: (r: CommitResult) => void;
  reject: (e: unknown) => void;
}

/** What the group commit needs of its table's object (table-do.ts). */
export interface GroupCommitHost {
  sql: SqlStorage;
  env: Env;
  storage: DurableObjectStorage;
  store(): ObjectStore;
  location(): TableLocation;
  port(): MetadataCatalog;
  name(): string;
  config(): TableConfig;
  external(): boolean;
  loaded(name: string): Promise<LoadedTable | null>;
  reconcile(): Promise<void>;
  serial<T>(fn: () => Promise<T>): Promise<T>;
  table(): LoadedTable | null | undefined;
  setTable(t: LoadedTable | undefined): void;
  /** Inside the commit's SQLite transaction: the object's own records of it (uploads, receipts, counters). */
  landed(t: LoadedTable, carried: { uploads: CommittedUpload[]; parts: RequestPart[] }, snapshot: { snapshotId: string; sequenceNumber: number }): void;
  schedule(): Promise<void>;
}

/**
 * Step 3 of the commit protocol, in the table's object: commits claimed batches' files, grouping
 * the batches that arrive while one snapshot is being written into the next one. Each group is
 * checked against its claims' fences, marked in doubt while its metadata is written, and recorded
 * (keys committed, uploads, receipts) in one transaction once it landed.
 */
export class GroupCommit {
  private pending: PendingCommit[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly host: GroupCommitHost) {}

  commit(batchId: string, fence: number, files: DataFile[], writtenWith: WrittenWith, carries: CommitCarries): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batchId, fence, files, schemaId: writtenWith.schemaId, specId: writtenWith.specId, uploads: carries.uploads ?? [], parts: carries.parts ?? [], resolve, reject: (e) => reject(toRpc(e)) });
      this.flushing ??= this.flushLoop().finally(() => (this.flushing = undefined));
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      await this.commitInterval();
      const group = this.pending.splice(0);
      await this.host.serial(() => this.flushGroup(group));
    }
  }

  /**
   * `floe.commit.min-interval-ms` (default 0): a table may ask to commit less often, trading latency
   * for fewer snapshots (so the snapshot cap keeps more time of history, and fewer small files are
   * written). Commits arriving meanwhile wait and join one snapshot. Capped at half a claim lease,
   * so the waiting batches' claims stay valid.
   */
  private async commitInterval(): Promise<void> {
    const { sql, env } = this.host;
    const props = this.host.table()?.metadata.properties ?? this.host.config().properties;
    const fallback = this.host.external() ? Number(env.FLOE_EXTERNAL_CATALOG_MIN_INTERVAL_MS ?? 3000) || 0 : 0;
    const min = Math.min(numberProperty(props, "floe.commit.min-interval-ms", fallback, { min: 0 }), leaseMs(env) / 2);
    const wait = Math.max(Number(getMeta(sql, "last_commit_at") ?? 0) + min, Number(getMeta(sql, "commit_not_before") ?? 0)) - Date.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  }

  private async flushGroup(group: PendingCommit[]): Promise<void> {
    const { sql, env } = this.host;
    const name = this.host.name();
    const now = Date.now();
    let t = await this.host.loaded(name);
    if (getMeta(sql, "in_doubt") !== "[]" && getMeta(sql, "in_doubt") !== undefined) {
      await this.host.reconcile();
      t = this.host.table() ?? null;
    }
    const ok: PendingCommit[] = [];
    for (const g of group) {
      const why = checkFence(sql, g.batchId, g.fence, now) ?? (t ? incompatible(currentSchema(t.metadata), t, g) : `table ${name} does not exist`);
      if (why) g.reject(new FloeError("commit_conflict", `commit refused: ${why}; claim again`, { retryable: true }));
      else ok.push(g);
    }
    if (!ok.length || !t) return;
    const ids = ok.map((g) => g.batchId);
    setMeta(sql, "in_doubt", JSON.stringify(ids));
    // The parts go with the doubt: if the lake later shows the commit landed, their receipts say where.
    setMeta(sql, "in_doubt_parts", JSON.stringify(ok.filter((g) => g.parts.length).map((g) => [g.batchId, g.parts])));
    try {
      const r = await appendFiles(this.host.store(), this.host.location(), ok.flatMap((g) => g.files), {
        base: t,
        catalog: this.host.port(),
        summary: { "floe.batch-ids": ids.join(","), "floe.claims": String(ok.length), "floe.sources": sourcesOf(ok) },
      });
      maybeFail(parseFaults(env.FLOE_FAULTS), "after-metadata");
      this.host.storage.transactionSync(() => {
        commitFences(sql, ok.map((g) => g.fence), Date.now());
        setMeta(sql, "in_doubt", "[]");
        setMeta(sql, "in_doubt_parts", "[]");
        setMeta(sql, "last_commit_at", String(Date.now()));
        this.host.landed(r.table, { uploads: ok.flatMap((g) => g.uploads), parts: ok.flatMap((g) => g.parts) }, { snapshotId: String(r.snapshotId), sequenceNumber: r.sequenceNumber });
      });
      this.host.setTable(r.table);
      log("commit", { table: name, snapshotId: r.snapshotId, sequenceNumber: r.sequenceNumber, batchIds: ids, fences: ok.map((g) => g.fence), files: ok.reduce((n, g) => n + g.files.length, 0), ms: Date.now() - now });
      await this.host.schedule();
      for (const g of ok) g.resolve({ snapshotId: r.snapshotId, sequenceNumber: r.sequenceNumber, metadataLocation: r.table.metadataLocation, groupSize: ok.length });
    } catch (e) {
      if (isFloeError(e, "rate_limited")) {
        // The external catalog refused (nothing committed): wait as it asks, then commit this group
        // with whatever arrives meanwhile as one snapshot. Claims whose lease runs out meanwhile
        // are refused at the next try and claimed again by their messages' retries.
        setMeta(sql, "in_doubt", "[]");
        setMeta(sql, "in_doubt_parts", "[]");
        const wait = Math.min(Number(e.details?.retryAfter ?? 5) * 1000, leaseMs(env) / 2);
        setMeta(sql, "commit_not_before", String(Date.now() + wait));
        this.pending.unshift(...ok);
        return;
      }
      // The metadata file may or may not exist now: the lake decides, before anyone claims again.
      this.host.setTable(undefined);
      const err = isFloeError(e) ? e : new FloeError("storage_unavailable", `commit failed: ${(e as Error).message}`, { cause: e, retryable: true });
      for (const g of ok) g.reject(err);
    }
  }
}

/** What a group commit carries, for its snapshot's summary: `events` (requests, webhooks), `uploads`, or both. */
function sourcesOf(group: PendingCommit[]): string {
  const out = new Set<string>();
  for (const g of group) {
    if (g.parts.length) out.add("events");
    if (g.uploads.length) out.add("uploads");
  }
  return [...out].sort().join(",") || "events";
}

/**
 * Files written under an older schema may join a snapshot of the current one if every column they
 * hold still exists with the same type: evolution here only adds columns, which read as null.
 */
function incompatible(current: Schema, t: LoadedTable, written: WrittenWith): string | undefined {
  // Partition tuples follow the spec the files were written with: under another, they mean nothing.
  if (written.specId !== t.metadata["default-spec-id"]) return `the partition spec changed since the files were written (spec ${written.specId}, now ${t.metadata["default-spec-id"]})`;
  const fileSchemaId = written.schemaId;
  if (fileSchemaId === current["schema-id"]) return undefined;
  const old = t.metadata.schemas.find((s) => s["schema-id"] === fileSchemaId);
  if (!old) return `schema ${fileSchemaId} is unknown`;
  const now = indexById(current);
  for (const [id, f] of indexById(old)) {
    const c = now.get(id);
    if (!c || JSON.stringify(c.type) !== JSON.stringify(f.type)) return `column ${f.path} changed since the files were written`;
  }
  return maxFieldId(old) > maxFieldId(current) ? "schema went back" : undefined;
}
