import type { z } from "zod";
import { FloeError } from "../errors.js";

/** A request's JSON body (an empty body is `{}`), or a 400 naming what is wrong with it. */
export async function jsonBody(req: { text(): Promise<string> }): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FloeError("invalid_input", `invalid JSON: ${(e as Error).message}`);
  }
}

/** Parses a request shape with zod; a mismatch is a 400 listing each problem with its path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues;
  throw new FloeError("invalid_input", `invalid ${what}: ${issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).slice(0, 10).join("; ")}`, {
    details: { issues: issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message })) },
  });
}
