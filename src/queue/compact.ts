import type { Env } from "../config.js";
import { rpc } from "../errors.js";
import { maybeFail, parseFaults } from "../faults.js";
import { joinSegments, writeSegment, type StepOut } from "../iceberg/maintenance/compaction-run.js";
import { shouldRetry, retryDelay } from "../pipeline/retry.js";
import { errorText, log } from "../log.js";
import { lakeStore } from "../storage/lake.js";
import { compactMessage, type CompactMessage } from "./messages.js";

/** Attempts of one compaction step before its job is given up (it is planned again at a later run). */
const STEP_ATTEMPTS = 5;

/**
 * Runs one step of a compaction job: asks the table's Durable Object which step is next (leased to
 * this run), writes that segment or joins the segments, reports the result, and queues the job's
 * next step. The commit itself happens in the Durable Object. A step that fails is retried with the
 * message, under the same rule as every ingest path (`shouldRetry`); one that cannot succeed (or
 * runs out of attempts) ends the job, which changes nothing in
 * the table: its inputs stay live, and the files it wrote are orphans that orphan removal deletes.
 */
export async function compactStep(env: Env, msg: Message<unknown>, m: CompactMessage): Promise<void> {
  const stub = env.TABLES.get(env.TABLES.idFromName(m.table));
  try {
    const lease = await rpc(stub.compactionStep(m.table, m.job));
    if (!lease) return msg.ack();
    const s = lease.run;
    if (!s) {
      // Another delivery holds the step: look again once its lease would have run out (the holder
      // may have crashed). Sent anew rather than retried, so that waiting spends none of this
      // message's attempts: a job always keeps a live message until it ends.
      await env.INGEST.send(compactMessage(m.table, m.job), { delaySeconds: Math.max(1, Math.ceil(lease.busyMs / 1000)) });
      return msg.ack();
    }
    const store = lakeStore(env);
    const loc = s.location;
    const out: StepOut = s.step < s.job.segments.length ? await writeSegment(store, loc, s.schema, s.job, s.step, { codec: s.codec }) : { output: await joinSegments(store, loc, s.schema, s.job, s.segments) };
    maybeFail(parseFaults(env.FLOE_FAULTS), "compact-after-step");
    if (await rpc(stub.compactionStepDone(m.table, m.job, s.step, out))) await env.INGEST.send(compactMessage(m.table, m.job));
    msg.ack();
  } catch (e) {
    log("compaction", { table: m.table, job: m.job, attempts: msg.attempts, error: errorText(e) }, "warn");
    if (shouldRetry(e, msg.attempts, STEP_ATTEMPTS)) return msg.retry(retryDelay(msg.attempts));
    await rpc(stub.compactionFailed(m.table, m.job, (e as Error).message)).catch(() => undefined);
    msg.ack();
  }
}
