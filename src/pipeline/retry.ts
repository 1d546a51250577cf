import type { Env } from "../config.js";
import { isFloeError } from "../errors.js";
import { errorText, log } from "../log.js";
import { quarantine } from "../queue/quarantine.js";

/** Deliveries of a message before it is given up (wrangler.toml: max_retries = 10, so 11 in all). */
export const MAX_ATTEMPTS = 11;

/**
 * The one retry rule of every queue path (events, uploads, compaction steps): a failure that can
 * pass (a conflict, storage or the service itself: any 5xx, any error that is not Floe's) is retried
 * with exponential delay, up to `maxAttempts` deliveries; a failure of the data (a 4xx: a row that
 * does not fit, a file that cannot be read, a table that does not exist) is not, since it would fail
 * the same way every time.
 */
export function shouldRetry(e: unknown, attempts: number, maxAttempts = MAX_ATTEMPTS): boolean {
  const passing = !isFloeError(e) || e.retryable || e.status >= 500;
  return passing && attempts < maxAttempts;
}

/** 2, 4, 8 … seconds, at most a minute. */
export const retryDelay = (attempts: number) => ({ delaySeconds: Math.min(60, 2 ** attempts) });

/**
 * Settles a message whose work failed: retried under `shouldRetry`, otherwise quarantined with the
 * reason (nothing accepted is silently lost) and acknowledged. Answers whether it was retried.
 */
export async function retryOrQuarantine(env: Env, table: string, msg: Message<unknown>, e: unknown, what: string): Promise<boolean> {
  const retry = shouldRetry(e, msg.attempts);
  log("retry", { table, messageId: msg.id, what, attempts: msg.attempts, outcome: retry ? "retrying" : "quarantining", error: errorText(e) }, "warn");
  if (retry) {
    msg.retry(retryDelay(msg.attempts));
    return true;
  }
  await quarantine(env, table, msg, (e as Error).message, isFloeError(e) ? e.code : "error");
  msg.ack();
  return false;
}
