import type { Env } from "../config.js";
import type { CommitResult, CommittedUpload } from "../durable/table-do.js";
import type { TableInfo } from "../durable/table-info.js";
import { rpc } from "../errors.js";
import { InjectedCrash, maybeFail, parseFaults } from "../faults.js";
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
  opts: { uploads?: (w: Written) => CommittedUpload[] } = {},
): Promise<{ claim: Claim; commit: CommitResult | null; written: Written | null }> {
  const stub = env.TABLES.get(env.TABLES.idFromName(table));
  const faults = parseFaults(env.FLOE_FAULTS);
  const batchId = crypto.randomUUID();
  const claim = await rpc(stub.claim(table, batchId, keys));
  const aborts: Abortable[] = [];
  const giveBack = () => rpc(stub.abandon(table, claim.fence)).catch(() => undefined);
  let written: Written | null;
  try {
    maybeFail(faults, "after-claim");
    written = await write(claim, aborts);
    if (!written) return { claim, commit: null, written };
    maybeFail(faults, "after-write");
  } catch (e) {
    if (e instanceof InjectedCrash) throw e;
    await Promise.all(aborts.map((a) => a.abort().catch(() => undefined)));
    await giveBack();
    throw e;
  }
  try {
    const commit = await rpc(stub.commit(table, batchId, claim.fence, written.files, written.schemaId, opts.uploads?.(written) ?? []));
    return { claim, commit, written };
  } catch (e) {
    // The commit's outcome may be unknown (its metadata written, the answer lost): the files stay,
    // since a snapshot may reference them. The object settles the claim from the lake before giving
    // it back; files of a commit that did not land are orphans that orphan removal deletes.
    await giveBack();
    throw e;
  }
}
