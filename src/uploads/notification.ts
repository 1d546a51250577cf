import { z } from "zod";

/**
 * An R2 event notification as R2 puts it on the queue (Cloudflare docs, "Event notifications"):
 * no event id; delivered at least once, unordered, and sometimes not at all, which is why the
 * reconciler exists.
 */
export const R2Notification = z.object({
  account: z.string(),
  action: z.enum(["PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "LifecycleDeletion"]),
  bucket: z.string(),
  object: z.object({ key: z.string(), size: z.number().int().nonnegative().optional(), eTag: z.string().optional() }),
  eventTime: z.string(),
  copySource: z.object({ bucket: z.string(), object: z.string() }).optional(),
});
export type R2Notification = z.infer<typeof R2Notification>;

/** Whether a queue message is an R2 notification (rather than one of Floe's own messages). */
export function isR2Notification(body: unknown): boolean {
  return typeof body === "object" && body !== null && "action" in body && "bucket" in body && "object" in body && !("v" in body);
}

export const CREATE_ACTIONS = new Set(["PutObject", "CopyObject", "CompleteMultipartUpload"]);
