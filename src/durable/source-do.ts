import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config.js";

const DAY_MS = 86_400_000;
/** Delivery ids are remembered this long to count redeliveries (the table's ledger dedupes for real). */
const REMEMBER_MS = 7 * DAY_MS;

export interface SourceStatus {
  source: string;
  received: number;
  duplicates: number;
  refused: Record<string, number>;
  lastDeliveryAt: string | null;
  lastDeliveryId: string | null;
}

/**
 * One per webhook source: its counters for `GET /v1/webhooks` (received, redeliveries, refusals by
 * reason, last delivery). It is bookkeeping only: exactly-once is the table's ledger's job, keyed
 * by the delivery id, so a lost count can never duplicate or drop a row.
 */
export class SourceDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec("CREATE TABLE IF NOT EXISTS counts (k TEXT PRIMARY KEY, n INTEGER NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, at INTEGER NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
    });
  }

  private bump(k: string): void {
    this.sql.exec("INSERT INTO counts (k, n) VALUES (?, 1) ON CONFLICT(k) DO UPDATE SET n = n + 1", k);
  }

  /** A verified delivery: counts it, and says whether its id was seen before (a redelivery). */
  async delivered(name: string, deliveryId: string, at: number): Promise<{ duplicate: boolean }> {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('name', ?)", name);
    const seen = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE id = ?", deliveryId).one().n > 0;
    this.ctx.storage.transactionSync(() => {
      this.bump(seen ? "duplicates" : "received");
      if (!seen) this.sql.exec("INSERT INTO deliveries (id, at) VALUES (?, ?)", deliveryId, at);
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('last_at', ?), ('last_id', ?)", String(at), deliveryId);
    });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS / 24);
    return { duplicate: seen };
  }

  /** Takes back `delivered` of a first delivery the queue then refused (the provider sends it again). */
  async notDelivered(_name: string, deliveryId: string): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      if (this.sql.exec("DELETE FROM deliveries WHERE id = ? RETURNING id", deliveryId).toArray().length) this.sql.exec("UPDATE counts SET n = n - 1 WHERE k = 'received' AND n > 0");
    });
  }

  /** A refused delivery, by reason (`bad_signature`, `expired`, …). */
  async refused(name: string, reason: string): Promise<void> {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('name', ?)", name);
    this.bump(`refused:${reason}`);
  }

  async status(name: string): Promise<SourceStatus> {
    const counts = new Map(this.sql.exec<{ k: string; n: number }>("SELECT k, n FROM counts").toArray().map((r) => [r.k, r.n]));
    const meta = new Map(this.sql.exec<{ k: string; v: string }>("SELECT k, v FROM meta").toArray().map((r) => [r.k, r.v]));
    const refused: Record<string, number> = {};
    for (const [k, n] of counts) if (k.startsWith("refused:")) refused[k.slice(8)] = n;
    const last = Number(meta.get("last_at") ?? 0);
    return {
      source: name,
      received: counts.get("received") ?? 0,
      duplicates: counts.get("duplicates") ?? 0,
      refused,
      lastDeliveryAt: last ? new Date(last).toISOString() : null,
      lastDeliveryId: meta.get("last_id") ?? null,
    };
  }

  override async alarm(): Promise<void> {
    this.sql.exec("DELETE FROM deliveries WHERE at < ?", Date.now() - REMEMBER_MS);
    await this.ctx.storage.setAlarm(Date.now() + DAY_MS / 24);
  }
}
