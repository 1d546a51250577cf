import { OpenAPIHono, z, type Hook, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import { zValidator } from "@hono/zod-validator";
import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import type { Env } from "../config.js";
import { FloeError, type FloeErrorCode } from "../errors.js";

/**
 * The API is described where it is validated: each route is declared with the zod schemas of its
 * path, query and body (`@hono/zod-openapi`), which both check requests and generate
 * `/openapi.json`. One hook turns any schema's issues into the usual `invalid_input` refusal.
 */
export type Api = OpenAPIHono<{ Bindings: Env }>;

const MAX_LISTED_ISSUES = 20;

const invalid: Hook<unknown, { Bindings: Env }, string, unknown> = (result) => {
  if (result.success) return;
  const issues = result.error.issues;
  const where = { json: "body", query: "query", param: "path", header: "header", form: "form", cookie: "cookie" }[result.target] ?? result.target;
  throw new FloeError("invalid_input", `invalid ${where}: ${issues.slice(0, 10).map((i) => `${i.path.join(".") || "(whole)"}: ${i.message}`).join("; ")}`, {
    details: { in: where, issues: issues.slice(0, MAX_LISTED_ISSUES).map((i) => ({ path: i.path.join("."), message: i.message })) },
  });
};

/** A router whose routes validate with their declared schemas (refusing with `invalid_input`). */
export function api(): Api {
  return new OpenAPIHono<{ Bindings: Env }>({ defaultHook: invalid });
}

const limit = bodyLimit({
  maxSize: 1024 * 1024,
  onError: () => {
    throw new FloeError("too_large", "the body is over the limit of 1048576 bytes", { details: { limit: 1024 * 1024 } });
  },
});

/**
 * JSON bodies of the admin routes: small, read whole, so bounded before they are read. An empty
 * body sent as JSON reads as `{}` (clients that always send the header; `curl -d ''`).
 */
export const jsonLimit: MiddlewareHandler = async (c, next) => {
  if (/json/i.test(c.req.header("content-type") ?? "") && c.req.header("content-length") === "0") {
    const headers = new Headers(c.req.raw.headers);
    headers.delete("content-length");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers, body: "{}" });
  }
  return limit(c, next);
};

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: "A word a program can switch on (src/errors.ts)", example: "invalid_input" }),
      message: z.string().openapi({ description: "What is wrong and where, for a person" }),
      details: z.record(z.string(), z.unknown()).optional().openapi({ description: "Where: the row, field, header or limit" }),
    }),
  })
  .openapi("Error");

const REFUSAL: Partial<Record<number, string>> = {
  400: "Malformed or invalid input: the message names what and where (`invalid_input`, `schema_conflict`)",
  401: "Missing, wrong or revoked token, or a webhook signature that does not verify (`unauthorized`)",
  403: "The token lacks the scope, the table or the origin (`forbidden`): the message says which",
  404: "No such table, source, entry or request (`not_found`)",
  406: "Not supported (`unsupported`)",
  409: "A conflict (`commit_conflict`, `already_exists`)",
  413: "The body is over the limit (`too_large`)",
  415: "A Content-Type or Content-Encoding that is not accepted (`unsupported_media_type`)",
  429: "Slow down: the token is over its rate limit, or the queue or a catalog pushes back (`rate_limited`); see Retry-After",
  500: "Floe is misconfigured (`misconfigured`), or its own fault (`internal`)",
  503: "Storage or the queue is unavailable (`storage_unavailable`); see Retry-After. Nothing was accepted",
};

/**
 * The refusals a route may answer, each with the one error body. A route that takes a token (401)
 * may also refuse its scope, table or origin (403) and its rate limit (429).
 */
export function refusals(...statuses: number[]) {
  const out: Record<number, { description: string; content: { "application/json": { schema: typeof ErrorBody } } }> = {};
  const all = statuses.includes(401) ? [...statuses, 403, 429] : statuses;
  for (const s of [...all, 500]) out[s] = { description: REFUSAL[s] ?? "Refused", content: { "application/json": { schema: ErrorBody } } };
  return out;
}

/** A JSON response of `schema`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A JSON request body of `schema` (validated). */
export function jsonRequest<T extends z.ZodType>(schema: T, description: string, required = true) {
  return { body: { required, description, content: { "application/json": { schema } } } };
}

const PART = "[a-z_][a-z0-9_]{0,127}";
/** `table` or `namespace.table`, as `parseTableName` takes it. */
export const TableParam = z.object({
  table: z
    .string()
    .regex(new RegExp(`^(${PART}\\.)?${PART}$`), "use [a-z_][a-z0-9_]{0,127}, optionally as namespace.table")
    .openapi({ param: { name: "table", in: "path" }, description: "`table` (namespace `default`) or `namespace.table`", example: "default.events" }),
});

/** A bearer token holding one of `scopes` (admin holds all; src/access/scopes.ts). */
export function needs(...scopes: string[]): Record<string, string[]>[] {
  return [{ token: scopes }];
}

/** Maps a status to the code Floe answers with, for refusals raised outside Floe's code (hono's own). */
export function codeFor(status: number): FloeErrorCode {
  if (status === 413) return "too_large";
  if (status === 415) return "unsupported_media_type";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  return status < 500 ? "invalid_input" : "internal";
}

/**
 * Serves a declared route. Handlers answer a plain `Response`: hono's typed responses would tie
 * every `c.json` to a status literal of the declaration; instead the tests check the answers
 * against the generated document (test/http/openapi.workerd.test.ts).
 */
export function serve<R extends RouteConfig>(app: Api, route: R, handler: (c: Parameters<RouteHandler<R, { Bindings: Env }>>[0]) => Promise<Response>): void {
  app.openapi(route, handler as unknown as RouteHandler<R, { Bindings: Env }>);
}

/**
 * `serve` for a route whose hono path says more than an OpenAPI path can (a parameter holding
 * `/`): documented as declared, matched at `honoPath`, validated by the same schemas and hook.
 */
export function serveAt<R extends RouteConfig>(app: Api, route: R, honoPath: string, handler: (c: Parameters<RouteHandler<R, { Bindings: Env }>>[0]) => Promise<Response>): void {
  const { middleware, ...doc } = route;
  app.openAPIRegistry.registerPath(doc);
  const checks: MiddlewareHandler[] = [];
  const r = route.request;
  if (r?.params) checks.push(zValidator("param", r.params as z.ZodType, invalid as never));
  if (r?.query) checks.push(zValidator("query", r.query as z.ZodType, invalid as never));
  if (r?.headers) checks.push(zValidator("header", r.headers as z.ZodType, invalid as never));
  const before = (middleware ? (Array.isArray(middleware) ? middleware : [middleware]) : []) as MiddlewareHandler[];
  app.on([route.method.toUpperCase()], [honoPath], ...before, ...checks, handler as never);
}
