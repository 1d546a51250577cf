import type { MiddlewareHandler } from "hono";
import { requiredToken, type Env } from "../config.js";
import { FloeError } from "../errors.js";

const enc = new TextEncoder();

/**
 * Compares two secrets in time independent of where they differ and of their lengths: both are
 * hashed first, then every byte of the digests is compared.
 */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i] ^ v[i];
  return diff === 0;
}

/** `Authorization: Bearer <token>` must carry one of the named tokens (FLOE_INGEST_TOKEN, FLOE_ADMIN_TOKEN). */
export function bearer(...names: ("FLOE_INGEST_TOKEN" | "FLOE_ADMIN_TOKEN")[]): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const tokens = names.map((n) => requiredToken(c.env, n));
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) throw new FloeError("unauthorized", "missing bearer token: send Authorization: Bearer <token>");
    let ok = false;
    for (const t of tokens) ok = (await sameSecret(m[1], t)) || ok;
    if (!ok) throw new FloeError("unauthorized", "wrong token");
    await next();
  };
}
