import type { Env } from "../config.js";
import type { CommitCarries, CommitResult } from "../durable/group-commit.js";
import type { TableInfo } from "../durable/table-info.js";
import { rpc } from "../errors.js";
import { InjectedCrash, maybeFail, parseFaults } from "../faults.js";
import { errorText, log } from "../log.js";
import type { Written } from "./table-writer.js";

/** Something to undo if the commit does not happen: a writer's files, a registered copy. */
export interface Abortable {
  abort(): Promise<void>;
}

export interface Claim {
  fence: number;
  status: Uint8Array;
  info: TableInfo;
}

/**
 * The commit protocol every ingest path runs (DESIGN.md "Commit protocol"): claim the keys at the
 * table's Durable Object, let `write` write the fresh rows' files (or nothing, answering null), and
 * commit them under the claim's fence. A failure while writing (not a crash) deletes what was
 * written and gives the claim back at once, so a retry need not wait for the lease; a failed commit
 * gives the claim back but keeps the files (it may have landed); a crash leaves the claim to its
 * lease and the files to orphan removal. Fault points `after-claim` and `after-write` are here.
 */
export async function commitBatch(
  env: Env,
  table: string,
  keys: string[],
  write: (claim: Claim, aborts: Abortable[]) => Promise<Written | null>,
  opts: { carries?: (w: Written) => CommitCarries; log?: () => Record<string, unknown> } = {},
): Promise<{ claim: Claim; commit: CommitResult | null; written: Written | null; batchId: string }> {
  const stub = env.TABLES.get(env.TABLES.idFromName(table));
  const faults = parseFaults(env.FLOE_FAULTS);
  const batchId = crypto.randomUUID();
  const started = Date.now();
  const about = () => ({ table, batchId, ...(opts.log?.() ?? {}) });
  const claim = await rpc(stub.claim(table, batchId, keys));
  const aborts: Abortable[] = [];
  const giveBack = () => rpc(stub.abandon(table, claim.fence)).catch(() => undefined);
  let written: Written | null;
  try {
    maybeFail(faults, "after-claim");
    written = await write(claim, aborts);
    if (!written) {
      log("batch", { ...about(), fence: claim.fence, keys: keys.length, rows: 0, outcome: "nothing fresh", ms: Date.now() - started });
      return { claim, commit: null, written, batchId };
    }
    maybeFail(faults, "after-write");
  } catch (e) {
    if (e instanceof InjectedCrash) throw e;
    log("batch", { ...about(), fence: claim.fence, keys: keys.length, outcome: "write failed", error: errorText(e), ms: Date.now() - started }, "warn");
    await Promise.all(aborts.map((a) => a.abort().catch(() => undefined)));
    await giveBack();
    throw e;
  }
  try {
    const commit = await rpc(stub.commit(table, batchId, claim.fence, written.files, { schemaId: written.schemaId, specId: written.specId }, opts.carries?.(written) ?? {}));
    log("batch", { ...about(), fence: claim.fence, keys: keys.length, rows: written.rows, files: written.files.length, snapshotId: commit.snapshotId, groupSize: commit.groupSize, outcome: "committed", ms: Date.now() - started });
    return { claim, commit, written, batchId };
  } catch (e) {
    // The commit's outcome may be unknown (its metadata written, the answer lost): the files stay,
    // since a snapshot may reference them. The object settles the claim from the lake before giving
    // it back; files of a commit that did not land are orphans that orphan removal deletes.
    log("batch", { ...about(), fence: claim.fence, keys: keys.length, outcome: "commit failed", error: errorText(e), ms: Date.now() - started }, "warn");
    await giveBack();
    throw e;
  }
}
