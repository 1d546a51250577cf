import type { z } from "zod";
import { FloeError } from "../errors.js";

/** Parses a request shape with zod; a mismatch is a 400 listing each problem with its path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues;
  throw new FloeError("invalid_input", `invalid ${what}: ${issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).slice(0, 10).join("; ")}`, {
    details: { issues: issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message })) },
  });
}
