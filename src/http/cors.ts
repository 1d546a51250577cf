import type { MiddlewareHandler } from "hono";
import type { Env } from "../config.js";
import { rpc } from "../errors.js";
import { admittedPrincipal, crossOrigin, registry } from "./auth.js";

const ALLOW_HEADERS = "authorization, content-type, content-encoding, idempotency-key";

/**
 * CORS for browser producers. Origins are configured per token (`origins`), but a preflight
 * carries no token: it is answered for an origin that some token lists (the registry says), and
 * the request that follows is admitted only if its own token lists the origin (`admit`, auth.ts).
 * An answer carries `Access-Control-Allow-Origin` only when the request's token allowed its origin,
 * so a page can read only what its own token may. Same-origin requests (the dashboard) pass as they are.
 */
export const cors: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const origin = crossOrigin(c);
  if (!origin) return next();
  if (c.req.method === "OPTIONS") {
    if (!(await rpc(registry(c.env).knowsOrigin(origin)))) {
      return c.json({ error: { code: "forbidden", message: `origin ${origin} is not allowed: no token lists it` } }, 403, { Vary: "Origin" });
    }
    return new Response(null, {
      status: 204,
      headers: {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": "600",
        Vary: "Origin",
      },
    });
  }
  await next();
  // Admitted means its token allowed this origin (admit, auth.ts, refuses any other).
  if (admittedPrincipal(c.req.raw)) {
    c.res.headers.set("Access-Control-Allow-Origin", origin);
    c.res.headers.set("Access-Control-Expose-Headers", "Floe-Request-Id, Retry-After");
    c.res.headers.append("Vary", "Origin");
  }
};
