import { DurableObject } from "cloudflare:workers";
import { autoCreate, lakeConfig, leaseMs, purgeGraceMs, type Env } from "../config.js";
import { log } from "../log.js";
import { externalCatalogFor, RestTableCatalog, type ExternalCatalog } from "../catalog/rest-client.js";
import { FloeError, toRpc } from "../errors.js";
import { specFor, freshSchema, type PartitionBy } from "../iceberg/batch-writer.js";
import type { TableCommit } from "../iceberg/commit.js";
import type { DataFile } from "../iceberg/data-file.js";
import { unionByName } from "../iceberg/evolve.js";
import { checkColumns, checkPolicyProperties, ingestPolicy, POLICY_PROPERTIES, type IngestPolicy } from "../iceberg/ingest-policy.js";
import type { StepOut } from "../iceberg/maintenance/compaction-run.js";
import { ACTIONS, type MaintenanceAction, type MaintenanceReport } from "../iceberg/maintenance/maintain.js";
import { currentSchema } from "../iceberg/metadata.js";
import { maxFieldId } from "../iceberg/schema.js";
import { lakeCatalog, type MetadataCatalog } from "../iceberg/metadata-catalog.js";
import type { LoadedTable, TableLocation } from "../iceberg/table.js";
import { createTable } from "../iceberg/transaction/create-table.js";
import { updateProperties } from "../iceberg/transaction/update-properties.js";
import { updateSchema } from "../iceberg/transaction/update-schema.js";
import { updateSpec } from "../iceberg/transaction/update-spec.js";
import type { Schema, StructType } from "../iceberg/types.js";
import { parseTableName } from "../names.js";
import { lakeStore, locationInBucket, locationOf } from "../storage/lake.js";
import type { ObjectStore } from "../storage/object-store.js";
import { abandonClaim, renewClaim, claimKeys, commitBatches, getMeta, migrate, pruneKeys, setMeta } from "./keys.js";
import { migrateCompactions } from "./compactions.js";
import { countOutcomes } from "./external.js";
import { tableStatus, type TableConfig, type TableInfo } from "./table-info.js";
import { TableCatalog } from "./table-catalog.js";
import { GroupCommit, type CommitCarries, type CommitResult, type WrittenWith } from "./group-commit.js";
import { TableUpkeep, type StepLease } from "./table-upkeep.js";
import { addQuarantined, listQuarantine, markLanded, markReplayed, migrateQuarantine, type NewQuarantined, type QuarantineEntry, type QuarantineQuery } from "./quarantine-ledger.js";
import { migrateReceipts, pruneReceipts, receiptOf, recordParts, type Receipt, type RequestPart } from "./receipts.js";
import { migratePurges, nextPurgeAt, runPurges, schedulePurge } from "./purges.js";
import { knownUploads, listUploads, migrateUploads, replayFailed, seeUpload, uploadCommitted, uploadDeleted, uploadFailed, type UploadEntry, type UploadState } from "./uploads-ledger.js";


const DAY_MS = 86_400_000;

/**
 * One per table: the table's only committer. It serializes commits (and groups those that arrive
 * while one is being written into the next snapshot), holds the table's config and its dedupe
 * ledger in SQLite, and answers status. The table's metadata itself lives in the lake; this object
 * caches the last version it wrote and re-reads the lake when a commit may have been left in doubt.
 */
export class TableDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private table: LoadedTable | null | undefined;
  /** Metadata writes (create, schema changes, commits) run one at a time: each builds on the last. */
  private chain: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Maintenance and compaction jobs: the other half of this object, in table-upkeep.ts. */
  private readonly upkeep: TableUpkeep;
  /** What the REST catalog asks of this table (load, commit, register, drop), in table-catalog.ts. */
  private readonly catalog: TableCatalog;
  /** Step 3 of the commit protocol (group commit), in group-commit.ts. */
  private readonly commits: GroupCommit;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.upkeep = new TableUpkeep({
      sql: this.sql,
      env,
      storage: ctx.storage,
      store: () => this.store,
      location: () => this.location(),
      config: () => this.config(),
      loaded: (name, fresh) => this.loaded(name, fresh),
      reconcile: () => this.reconcile(),
      serial: (fn) => this.serial(fn),
      table: () => this.table,
      setTable: (t) => (this.table = t),
    });
    this.catalog = new TableCatalog({
      sql: this.sql,
      env,
      storage: ctx.storage,
      store: () => this.store,
      location: () => this.location(),
      loaded: (name, fresh) => this.loaded(name, fresh),
      setTable: (t) => (this.table = t),
      serial: (fn) => this.serial(fn),
      committed: async (t) => {
        this.noteCommit(t);
        await this.schedule();
      },
    });
    this.commits = new GroupCommit({
      sql: this.sql,
      env,
      storage: ctx.storage,
      store: () => this.store,
      location: () => this.location(),
      port: () => this.port(),
      name: () => this.name(),
      config: () => this.config(),
      external: () => this.external() !== undefined,
      loaded: (name) => this.loaded(name),
      reconcile: () => this.reconcile(),
      serial: (fn) => this.serial(fn),
      table: () => this.table,
      setTable: (t) => (this.table = t),
      landed: (t, carried, snapshot) => {
        this.noteCommit(t);
        for (const u of carried.uploads) uploadCommitted(this.sql, u.object, u.rows, snapshot.snapshotId, Date.now());
        this.landParts(carried.parts, snapshot);
      },
      schedule: () => this.schedule(),
    });
    ctx.blockConcurrencyWhile(async () => this.migrate());
  }

  /** What the object remembers of each commit, whoever made it: the metadata file, and one more commit for automatic maintenance. */
  private noteCommit(t: LoadedTable): void {
    setMeta(this.sql, "metadata_location", t.metadataLocation);
    setMeta(this.sql, "commits_since_maintenance", String(Number(getMeta(this.sql, "commits_since_maintenance") ?? 0) + 1));
  }

  private migrate(): void {
    migrate(this.sql);
    migrateUploads(this.sql);
    migrateCompactions(this.sql);
    migrateQuarantine(this.sql);
    migrateReceipts(this.sql);
    migratePurges(this.sql);
  }

  private lake: ObjectStore | undefined;
  private metadataCatalog: MetadataCatalog | undefined;

  /** The external REST catalog this table commits through, if the deployment names one for it. */
  private external(): ExternalCatalog | undefined {
    return externalCatalogFor(this.env, this.name());
  }

  /** Where the table's metadata is loaded from and committed to: the lake's layout, or the external catalog. */
  private port(): MetadataCatalog {
    if (this.metadataCatalog) return this.metadataCatalog;
    const ext = this.external();
    if (!ext) return lakeCatalog(this.store, this.location());
    return (this.metadataCatalog = countOutcomes(new RestTableCatalog(ext, parseTableName(this.name())), this.sql));
  }

  /**
   * A table in an external catalog lives where that catalog put it: Floe writes its data files and
   * manifests there, through the lake's S3 store, so it must be in the lake's bucket.
   */
  private adoptLocation(t: LoadedTable | null): void {
    if (!t || !this.external()) return;
    const loc = locationInBucket(lakeConfig(this.env).LAKE_BUCKET, t.metadata.location);
    if (getMeta(this.sql, "location") !== JSON.stringify(loc)) setMeta(this.sql, "location", JSON.stringify(loc));
  }

  /** The lake store, built once per object (config parsed and validated at first use). */
  private get store(): ObjectStore {
    return (this.lake ??= lakeStore(this.env));
  }

  private name(): string {
    const n = getMeta(this.sql, "name");
    if (!n) throw new FloeError("internal", "table object used before it was named");
    return n;
  }

  private config(): TableConfig {
    const raw = getMeta(this.sql, "config");
    return raw ? (JSON.parse(raw) as TableConfig) : { mode: "evolve", partitionBy: [], properties: {} };
  }

  /** The table as last committed; read from the lake once per object lifetime, and after doubt. */
  private async loaded(name: string, fresh = false): Promise<LoadedTable | null> {
    if (fresh || this.table === undefined) {
      setMeta(this.sql, "name", name);
      this.table = await this.port().load();
      this.adoptLocation(this.table);
      await this.reconcile(this.table);
      await this.catalog.recatalog(name);
    }
    return this.table;
  }

  /**
   * A commit whose metadata file may exist though its keys were not marked (the object died, or
   * the store failed after writing): the lake decides. Batches named in any snapshot's
   * `floe.batch-ids` are committed; the others' claims stand until their leases end. `fresh`: the
   * table as just loaded, so that it is not read twice.
   */
  private async reconcile(fresh?: LoadedTable | null): Promise<void> {
    const doubt = JSON.parse(getMeta(this.sql, "in_doubt") ?? "[]") as string[];
    if (!doubt.length) return;
    const t = fresh !== undefined ? fresh : await this.port().load();
    this.table = t;
    const snapshotOf = new Map<string, { snapshotId: string; sequenceNumber: number }>();
    for (const s of t?.metadata.snapshots ?? []) {
      for (const b of (s.summary["floe.batch-ids"] ?? "").split(",")) snapshotOf.set(b, { snapshotId: String(s["snapshot-id"]), sequenceNumber: Number(s["sequence-number"] ?? 0) });
    }
    const found = doubt.filter((b) => snapshotOf.has(b));
    const parts = new Map(JSON.parse(getMeta(this.sql, "in_doubt_parts") ?? "[]") as [string, RequestPart[]][]);
    this.ctx.storage.transactionSync(() => {
      commitBatches(this.sql, found, Date.now());
      // Receipts of what landed, with the snapshot that holds it (the commit's own record never ran).
      for (const b of found) if (parts.has(b)) this.landParts(parts.get(b)!, snapshotOf.get(b)!);
      setMeta(this.sql, "in_doubt", "[]");
      setMeta(this.sql, "in_doubt_parts", "[]");
    });
  }

  private status(name: string, config: TableConfig, t: LoadedTable | null): TableInfo {
    return tableStatus(name, config, t, this.sql, this.location(), this.policy(config, t), this.external()?.uri);
  }

  /** The table's ingest policy: its metadata's properties, Floe's config over them, the deployment's number default under both. */
  private policy(config: TableConfig, t: LoadedTable | null | undefined): IngestPolicy {
    return ingestPolicy({ ...(t?.metadata.properties ?? {}), ...config.properties }, this.env.FLOE_INFER_NUMBERS);
  }

  async info(name: string): Promise<TableInfo> {
    return guard(async () => this.status(name, this.config(), await this.loaded(name)));
  }

  /** The snapshots the metadata keeps, newest first: ids, times and summaries (the dashboard's history). */
  async snapshots(name: string): Promise<SnapshotEntry[]> {
    return guard(async () => {
      const t = await this.loaded(name);
      return (t?.metadata.snapshots ?? [])
        .map((x) => ({
          snapshotId: String(x["snapshot-id"]),
          parentId: x["parent-snapshot-id"] === undefined || x["parent-snapshot-id"] === null ? null : String(x["parent-snapshot-id"]),
          sequenceNumber: Number(x["sequence-number"] ?? 0),
          timestampMs: Number(x["timestamp-ms"]),
          committedAt: new Date(Number(x["timestamp-ms"])).toISOString(),
          operation: x.summary.operation,
          summary: x.summary,
        }))
        .sort((a, b) => b.sequenceNumber - a.sequenceNumber || b.timestampMs - a.timestampMs);
    });
  }

  /** `PUT /v1/tables/{table}`: creates the table or alters its schema (evolution rules), config and properties. */
  async configure(name: string, req: { schema?: StructType; partitionBy?: PartitionBy[]; idField?: string; mode?: "evolve" | "strict"; properties?: Record<string, string> }): Promise<TableInfo> {
    return guard(() => this.serial(() => this.configureNow(name, req)));
  }

  private async configureNow(name: string, req: Parameters<TableDO["configure"]>[1]): Promise<TableInfo> {
    const t = await this.loaded(name);
    const prev = this.config();
    if (req.properties) checkPolicyProperties(req.properties);
    const config: TableConfig = {
      mode: req.mode ?? prev.mode,
      idField: req.idField ?? prev.idField,
      partitionBy: req.partitionBy ?? prev.partitionBy,
      properties: { ...prev.properties, ...(req.properties ?? {}) },
    };
    if (!t && req.schema) {
      await this.create(freshSchema(req.schema), config);
    } else if (t) {
      if (req.schema) {
        const u = unionByName(currentSchema(t.metadata), req.schema, t.metadata["last-column-id"], { inferred: false });
        if (u.changed) this.fits(name, config, u.schema, currentSchema(t.metadata));
        if (u.changed) await this.apply(updateSchema(t.metadata, u.schema, u.lastColumnId));
      }
      // A new partitionBy adds a spec (after the schema: it may name a column added just now);
      // files written before keep theirs, and readers read both.
      if (req.partitionBy) await this.apply(updateSpec(this.table!.metadata, specFor(currentSchema(this.table!.metadata), req.partitionBy)));
      if (req.properties) await this.apply(updateProperties(this.table!.metadata, req.properties));
    }
    setMeta(this.sql, "config", JSON.stringify(config));
    return this.status(name, config, this.table ?? null);
  }

  /**
   * The schema a batch of rows needs: the current one, or (mode `evolve`) one with the new fields
   * the consumer inferred, committed as a schema-only metadata change. Creates an auto-created
   * table from the shape on its first write. Serialized here so that new field ids are unique.
   */
  async ensureSchema(name: string, shape: StructType): Promise<TableInfo> {
    return guard(() => this.serial(() => this.ensureSchemaNow(name, shape)));
  }

  private async ensureSchemaNow(name: string, shape: StructType): Promise<TableInfo> {
    const t = await this.loaded(name);
    const config = this.config();
    if (!t) {
      this.mayCreate(name);
      await this.create(freshSchema(shape), config);
    } else if (config.mode === "evolve") {
      const u = unionByName(currentSchema(t.metadata), shape, t.metadata["last-column-id"], { inferred: true });
      if (u.changed) this.fits(name, config, u.schema, currentSchema(t.metadata));
      if (u.changed) await this.apply(updateSchema(t.metadata, u.schema, u.lastColumnId));
    }
    return this.status(name, config, this.table ?? null);
  }

  /**
   * Adopts a schema a writer built while streaming a file (new fields given ids after `base`), so
   * that a file which fails half way changes nothing: the schema is committed only once the whole
   * file was read. Creates the table when `base` is null. A table that moved since `base` is a
   * retryable conflict (the writer reads the file again on the new schema).
   */
  async adoptSchema(name: string, schema: Schema, base: { schemaId: number; lastColumnId: number } | null): Promise<TableInfo> {
    return guard(() => this.serial(() => this.adoptSchemaNow(name, schema, base)));
  }

  private async adoptSchemaNow(name: string, schema: Schema, base: { schemaId: number; lastColumnId: number } | null): Promise<TableInfo> {
    const t = await this.loaded(name);
    const config = this.config();
    const moved = () => new FloeError("commit_conflict", `the schema of ${name} changed while a file was read; it is read again`, { retryable: true });
    if (!t) {
      if (base) throw moved();
      this.mayCreate(name);
      await this.create({ ...schema, "schema-id": 0 }, config);
    } else {
      if (!base || t.metadata["current-schema-id"] !== base.schemaId || t.metadata["last-column-id"] !== base.lastColumnId) throw moved();
      this.fits(name, config, schema, currentSchema(t.metadata));
      await this.apply(updateSchema(t.metadata, schema, maxFieldId(schema)));
    }
    return this.status(name, config, this.table ?? null);
  }

  /** Refuses to auto-create a table when the deployment does not, unless `PUT` configured it. */
  private mayCreate(name: string): void {
    if (!autoCreate(this.env) && getMeta(this.sql, "config") === undefined) throw new FloeError("not_found", `table ${name} does not exist`, { details: { table: name } });
  }

  /** Refuses a schema change that would take the table past its column limit (`floe.limit.columns`). */
  private fits(name: string, config: TableConfig, after: Schema, before: Schema | null): void {
    checkColumns(after, before, this.policy(config, this.table), name);
  }

  /**
   * Creates the table in the lake (the transaction layer's `createTable`). The number inference
   * policy in force is written into its properties, so the table keeps the one it was created
   * with when the deployment's default changes, and any reader of its metadata sees it.
   */
  private async create(schema: Schema, config: TableConfig): Promise<void> {
    const loc = this.location();
    this.fits(this.name(), config, schema, null);
    const properties = { [POLICY_PROPERTIES.numbers]: this.policy(config, null).numbers, ...config.properties };
    this.table = await this.port().commit(createTable({ location: loc.uri, schema, spec: specFor(schema, config.partitionBy), properties }), { now: Date.now(), base: null });
    if (this.external()) this.adoptLocation(this.table);
    else setMeta(this.sql, "location", JSON.stringify(loc)); // pinned: a later drop moves the name, not this table
    await this.catalog.cataloged(this.name(), true);
  }

  /** Commits a metadata-only change planned on the cached table (nothing, when the plan is null). */
  private async apply(commit: TableCommit | null): Promise<void> {
    if (!commit) return;
    this.table = await this.port().commit(commit, { now: Date.now(), base: this.table! });
  }

  /**
   * Where the table is, or will be created: the default `{warehouse}/{namespace}/{table}` unless a
   * registration or a drop moved it (kept in `meta.location`; see table-catalog.ts).
   */
  private location(): TableLocation {
    const rec = getMeta(this.sql, "location");
    return rec ? (JSON.parse(rec) as TableLocation) : locationOf(this.env, parseTableName(this.name()));
  }

  /** Step 1 of the commit protocol: which keys this batch may write, under which fence. */
  async claim(name: string, batchId: string, keys: string[]): Promise<{ fence: number; status: Uint8Array; info: TableInfo }> {
    return guard(() => this.claimNow(name, batchId, keys));
  }

  private async claimNow(name: string, batchId: string, keys: string[]): Promise<{ fence: number; status: Uint8Array; info: TableInfo }> {
    await this.loaded(name);
    const inDoubt = new Set(JSON.parse(getMeta(this.sql, "in_doubt") ?? "[]") as string[]);
    const r = this.ctx.storage.transactionSync(() => claimKeys(this.sql, batchId, keys, Date.now(), leaseMs(this.env), inDoubt));
    if (r.duplicates) setMeta(this.sql, "duplicates", String(Number(getMeta(this.sql, "duplicates") ?? 0) + r.duplicates));
    await this.schedule();
    return { fence: r.fence, status: r.status, info: this.status(name, this.config(), this.table ?? null) };
  }

  /** Step 3: commits a claimed batch's files; batches arriving meanwhile share the next snapshot. */
  commit(name: string, batchId: string, fence: number, files: DataFile[], writtenWith: WrittenWith, carries: CommitCarries = {}): Promise<CommitResult> {
    setMeta(this.sql, "name", name);
    return this.commits.commit(batchId, fence, files, writtenWith, carries);
  }

  /** Extends a claim's lease while its batch is still being written (a large upload); false once it has ended. */
  async renew(name: string, fence: number): Promise<boolean> {
    setMeta(this.sql, "name", name);
    return this.ctx.storage.transactionSync(() => renewClaim(this.sql, fence, Date.now(), leaseMs(this.env)));
  }

  /** Gives up a claim whose batch will not commit (it failed, not crashed): its keys are free again at once. */
  async abandon(name: string, fence: number): Promise<void> {
    return guard(async () => {
      await this.loaded(name);
      // A failed commit may still have landed (its answer lost): settle that from the lake first,
      // so keys of a batch that is in the table are marked committed rather than given back.
      await this.serial(() => this.reconcile());
      this.ctx.storage.transactionSync(() => abandonClaim(this.sql, fence));
    });
  }

  /** An object version seen (by a notification, the reconciler or the upload endpoint): its ledger state. */
  async seeUpload(name: string, u: { object: string; key: string; etag: string; size: number; ranges: number }): Promise<UploadState> {
    setMeta(this.sql, "name", name);
    return seeUpload(this.sql, u, Date.now());
  }

  async failUpload(name: string, object: string, reason: string): Promise<void> {
    setMeta(this.sql, "name", name);
    uploadFailed(this.sql, object, reason, Date.now());
  }

  async deletedUpload(name: string, key: string): Promise<void> {
    setMeta(this.sql, "name", name);
    uploadDeleted(this.sql, key, Date.now());
  }

  async knownUploads(name: string, objects: string[]): Promise<string[]> {
    setMeta(this.sql, "name", name);
    return [...knownUploads(this.sql, objects)];
  }

  async uploads(name: string, opts: { state?: string; limit?: number; after?: string }): Promise<UploadEntry[]> {
    setMeta(this.sql, "name", name);
    return listUploads(this.sql, opts);
  }

  /** Failed uploads back to pending; the caller re-enqueues them. */
  async replayUploads(name: string): Promise<UploadEntry[]> {
    setMeta(this.sql, "name", name);
    return this.ctx.storage.transactionSync(() => replayFailed(this.sql, Date.now()));
  }

  /** Request parts landed: their receipts, and the quarantine entries they were replays of. */
  private landParts(parts: RequestPart[], outcome: Parameters<typeof recordParts>[2]): void {
    recordParts(this.sql, parts, outcome, Date.now());
    markLanded(this.sql, parts.flatMap((p) => (p.replayOf ? [p.replayOf] : [])), Date.now());
  }

  /** Request parts whose rows were all found already committed (a redelivery, an idempotent resend, a replay of what had landed). */
  async settleParts(name: string, parts: RequestPart[]): Promise<void> {
    setMeta(this.sql, "name", name);
    this.ctx.storage.transactionSync(() => this.landParts(parts, "duplicate"));
  }

  /** What became of a request (`GET /v1/requests/{id}`, `?wait=true`), or null when nothing of it is known yet. */
  async request(name: string, requestId: string, at: number): Promise<Receipt | null> {
    return guard(async () => {
      // No write here (not even the name): waiting producers ask often.
      const r = receiptOf(this.sql, requestId);
      const now = Date.now();
      if (!r && (at < now - this.dedupeWindowMs() || at > now + 60_000)) {
        throw new FloeError("not_found", `no request ${requestId} is known: receipts are kept ${this.dedupeWindowMs() / DAY_MS} days`, { details: { requestId } });
      }
      return r;
    });
  }

  /** Indexes a message sent to the quarantine (and counts it, for status). */
  async quarantined(name: string, entry: NewQuarantined): Promise<{ id: string; previousKey: string | null }> {
    setMeta(this.sql, "name", name);
    return this.ctx.storage.transactionSync(() => {
      setMeta(this.sql, "quarantined", String(Number(getMeta(this.sql, "quarantined") ?? 0) + 1));
      return addQuarantined(this.sql, entry, Date.now());
    });
  }

  async quarantine(name: string, q: QuarantineQuery): Promise<{ entries: QuarantineEntry[]; next: number | null }> {
    setMeta(this.sql, "name", name);
    return listQuarantine(this.sql, q);
  }

  /** Entries whose messages the replay sent again (at `sentAt`). */
  async quarantineReplayed(name: string, ids: string[], sentAt: number): Promise<void> {
    setMeta(this.sql, "name", name);
    this.ctx.storage.transactionSync(() => markReplayed(this.sql, ids, sentAt, Date.now()));
  }

  /** How long this table remembers event keys: a replay of what was quarantined longer ago could add rows twice. */
  async replayWindowMs(name: string): Promise<number> {
    setMeta(this.sql, "name", name);
    return this.dedupeWindowMs();
  }

  /**
   * `POST /v1/tables/{table}/maintenance`: runs the actions now (all when none are named) and
   * answers their report. Its commits are serialized with ingest's; its reads and deletes are not.
   */
  async maintain(name: string, req: { actions?: MaintenanceAction[]; dryRun?: boolean; olderThanMs?: number }): Promise<MaintenanceReport> {
    return guard(async () => {
      setMeta(this.sql, "name", name);
      const ext = this.external();
      if (ext) throw new FloeError("invalid_input", `${name} commits through the external catalog ${ext.uri}, which maintains it; Floe's maintenance is off for it`, { details: { table: name } });
      const report = await this.upkeep.run(name, req.actions ?? [...ACTIONS], req);
      await this.schedule(); // jobs it started keep an alarm pending, which resends one whose message is lost
      return report;
    });
  }

  /** A compaction job's next step, leased to the consumer (see `TableUpkeep.step`). */
  async compactionStep(name: string, id: string): Promise<StepLease | null> {
    return guard(async () => {
      const lease = await this.upkeep.step(name, id);
      await this.schedule();
      return lease;
    });
  }

  /** Records a step's result; answers whether a step remains for the queue (the commit is done here). */
  async compactionStepDone(name: string, id: string, step: number, out: StepOut): Promise<boolean> {
    return guard(() => this.upkeep.stepDone(name, id, step, out));
  }

  /** Ends a job that cannot go on (its step failed for good); it is planned again at a later run. */
  async compactionFailed(name: string, id: string, reason: string): Promise<void> {
    return guard(() => this.upkeep.failed(name, id, reason));
  }

  /** Changes through Floe's own catalog are refused for a table another catalog holds: that one is its catalog. */
  private notExternal(name: string): void {
    setMeta(this.sql, "name", name);
    const ext = this.external();
    if (ext) throw new FloeError("invalid_input", `${name} is held by the external catalog ${ext.uri}: change it there`, { details: { type: "BadRequestException", table: name } });
  }

  /** REST catalog: the table as committed (404 when it does not exist). */
  async catalogLoad(name: string): Promise<LoadedTable> {
    return guard(() => this.catalog.load(name));
  }

  /** REST catalog: a commit an engine sent (see `TableCatalog.commit`). */
  async catalogCommit(name: string, commit: TableCommit): Promise<LoadedTable> {
    return guard(async () => {
      this.notExternal(name);
      return this.catalog.commit(name, commit);
    });
  }

  /** REST catalog: registers a metadata file already in the bucket as this table. */
  async catalogRegister(name: string, metadataLocation: string): Promise<LoadedTable> {
    return guard(async () => {
      this.notExternal(name);
      return this.catalog.register(name, metadataLocation);
    });
  }

  /** REST catalog: drops the table (deleting its files with `purge`); this object starts over, empty. */
  async catalogDrop(name: string, purge: boolean): Promise<{ deleted: number; kept: string | null }> {
    return guard(async () => {
      this.notExternal(name);
      const at = Date.now();
      const r = await this.catalog.drop(name, purge);
      await this.startOver(name, at);
      return r;
    });
  }

  /**
   * `DELETE /v1/tables/{table}`: the table leaves the catalog and its state (config, dedupe ledger,
   * receipts, quarantine index, uploads ledger, jobs) is wiped at once; messages sent to it before
   * the drop are discarded by the consumer, not written into a table created later under the name.
   * With `purge`, its files are deleted once the grace period (`FLOE_PURGE_GRACE_SECONDS`) is over
   * (purges.ts); without, they stay, and `metadataLocation` can be registered back.
   */
  async drop(name: string, purge: boolean): Promise<DropResult> {
    return guard(async () => {
      this.notExternal(name);
      const t = await this.loaded(name);
      if (!t && getMeta(this.sql, "config") === undefined) throw new FloeError("not_found", `table ${name} does not exist`, { details: { table: name } });
      const at = Date.now();
      const old = this.location();
      const kept = t ? (await this.catalog.drop(name, false)).kept : (await this.ctx.storage.deleteAll(), null);
      await this.startOver(name, at);
      const purgeAt = purge && t ? at + purgeGraceMs(this.env) : null;
      if (purgeAt !== null) {
        schedulePurge(this.sql, `${old.key}/`, purgeAt);
        await this.schedule();
      }
      return { table: name, dropped: true, metadataLocation: kept, purge: purgeAt === null ? null : { location: old.uri, at: new Date(purgeAt).toISOString() } };
    });
  }

  /** After a drop: the object is empty but for its name, a fresh location, when it was dropped, and pending purges. */
  private async startOver(name: string, droppedAt: number): Promise<void> {
    this.table = undefined;
    this.migrate();
    setMeta(this.sql, "name", name);
    setMeta(this.sql, "location", JSON.stringify(await this.catalog.nextLocation(name)));
    setMeta(this.sql, "cataloged", "no");
    setMeta(this.sql, "dropped_at", String(droppedAt));
  }

  /** Sets the alarm for the next thing due: key pruning (hourly), automatic maintenance, a look at running jobs. */
  private async schedule(): Promise<void> {
    const now = Date.now();
    let pruneAt = Number(getMeta(this.sql, "next_prune_at") ?? 0);
    if (!pruneAt) setMeta(this.sql, "next_prune_at", String((pruneAt = now + DAY_MS / 24)));
    const at = Math.min(pruneAt, this.upkeep.nextAlarm(now), nextPurgeAt(this.sql) ?? Infinity);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** How long event keys (and request receipts) are kept: property `floe.dedupe-window-days`, default 7. */
  private dedupeWindowMs(): number {
    const days = Number(this.config().properties["floe.dedupe-window-days"] ?? 7);
    return (Number.isFinite(days) && days > 0 ? days : 7) * DAY_MS;
  }

  /**
   * Forgets keys older than the dedupe window (property `floe.dedupe-window-days`, default 7), and
   * runs automatic maintenance when it is due (`floe.maintenance.*`).
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    // Cheap (indexed deletes), so every alarm prunes, whatever woke it.
    const window = this.dedupeWindowMs();
    pruneKeys(this.sql, now, window);
    pruneReceipts(this.sql, now, window);
    setMeta(this.sql, "next_prune_at", String(now + DAY_MS / 24));
    if ((nextPurgeAt(this.sql) ?? Infinity) <= now) {
      const purged = await runPurges(this.sql, this.store, now, `${this.location().key}/`);
      log("purge", { table: getMeta(this.sql, "name"), deleted: purged.deleted, done: purged.done });
    }
    // A table in an external catalog is maintained by that catalog.
    if (getMeta(this.sql, "name") && !this.external()) await this.upkeep.onAlarm(now);
    await this.schedule();
  }
}

/** What `DELETE /v1/tables/{table}` answers. */
export interface DropResult {
  table: string;
  dropped: true;
  /** The dropped table's last metadata file (register it to bring the table back), or null. */
  metadataLocation: string | null;
  /** When and where its files will be deleted (`?purge=true`), or null: they stay. */
  purge: { location: string; at: string } | null;
}

/** One snapshot as `GET /v1/tables/{table}/snapshots` lists it (ids as decimal strings: they are 64-bit). */
export interface SnapshotEntry {
  snapshotId: string;
  parentId: string | null;
  sequenceNumber: number;
  timestampMs: number;
  committedAt: string;
  operation: string;
  summary: Record<string, string>;
}

/** Runs an RPC method so that a FloeError reaches the caller whole (see `toRpc`). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toRpc(e);
  }
}
