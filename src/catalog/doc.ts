import type { OpenAPIHono } from "@hono/zod-openapi";
import { ENDPOINTS } from "./settings.js";

type OpenAPIRegistry = OpenAPIHono["openAPIRegistry"];

const SPEC = "https://github.com/apache/iceberg/blob/main/open-api/rest-catalog-open-api.yaml";

/**
 * The catalog's routes in Floe's document: the Iceberg REST catalog's own OpenAPI document defines
 * their requests and answers (and the catalog's tests check every answer against it), so here each
 * is listed with its parameters and a pointer to that document, not described twice.
 */
export function describeCatalog(registry: OpenAPIRegistry, base: string): void {
  const routes = ["GET /v1/config", "POST /v1/oauth/tokens", ...ENDPOINTS, "POST /v1/{prefix}/tables/rename"];
  for (const r of routes) {
    const [method, path] = r.split(" ");
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path" as const, required: true, schema: { type: "string" as const } }));
    const unsupported = path.endsWith("/rename") || path.endsWith("/oauth/tokens");
    registry.registerPath({
      method: method.toLowerCase() as "get",
      path: `${base}${path}`,
      tags: ["Iceberg REST catalog"],
      summary: `${r}${unsupported ? " (refused: see the answer)" : ""}`,
      description: `As the Iceberg REST catalog specification defines it (${SPEC}). Bearer token with the catalog scope (read) or admin (write), for the tables it names: FLOE_CATALOG_TOKEN and FLOE_ADMIN_TOKEN are the bootstrap ones.`,
      externalDocs: { url: SPEC },
      security: [{ token: ["catalog"] }, { token: ["admin"] }],
      parameters: params,
      responses: { default: { description: "See the Iceberg REST catalog document" } },
    } as Parameters<OpenAPIRegistry["registerPath"]>[0]);
  }
}
