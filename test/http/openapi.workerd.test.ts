import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { app } from "../../src/http/app.js";

const E = env as unknown as Env;
const ADMIN = { authorization: "Bearer test-admin-token" };

async function document(): Promise<any> {
  const r = await app.request("/openapi.json", {}, E);
  expect(r.status).toBe(200);
  return r.json();
}

/** hono's path (`/v1/tables/:table/uploads/:name{.+}`) as an OpenAPI path (`/v1/tables/{table}/uploads/{name}`). */
const asOpenApi = (p: string) => p.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

describe("/openapi.json", () => {
  it("is OpenAPI 3.1 with every route the app serves, and serves every route it lists", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) for (const m of Object.keys(item)) documented.add(`${m.toUpperCase()} ${path}`);
    // What hono routes: every handler, less middleware (`ALL`, `*`), the document itself, and the
    // catalog's catch-all (its 404 in the Iceberg error shape).
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !r.path.endsWith("*") && r.path !== "/openapi.json")
        .map((r) => `${r.method} ${asOpenApi(r.path)}`),
    );
    // The catalog answers HEAD inside its GET handlers (hono dispatches HEAD as GET); the document lists both.
    const heads = [...documented].filter((x) => x.startsWith("HEAD "));
    expect(heads.length).toBeGreaterThan(0);
    for (const h of heads) expect(served).toContain(h.replace(/^HEAD/, "GET"));
    expect([...served].filter((x) => !documented.has(x)).sort()).toEqual([]);
    expect([...documented].filter((x) => !x.startsWith("HEAD ") && !served.has(x)).sort()).toEqual([]);
  });

  it("describes each operation's refusals with the one error body, and its security", async () => {
    const doc = await document();
    expect(doc.components.schemas.Error.properties.error.required).toEqual(expect.arrayContaining(["code", "message"]));
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["token", "publicKey"]);
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (path.startsWith("/iceberg") || path === "/healthz") continue;
      for (const [method, op] of Object.entries<any>(item)) {
        expect(op.responses["500"]?.content["application/json"].schema.$ref, `${method} ${path}`).toBe("#/components/schemas/Error");
        if (path !== "/v1/webhooks/{source}") expect(op.security?.length, `${method} ${path}: security`).toBeGreaterThan(0);
        if (op.security) expect(op.responses["401"], `${method} ${path}: 401`).toBeDefined();
        if (op.security) expect(op.responses["403"], `${method} ${path}: 403`).toBeDefined();
        // Each names the scopes a token needs for it.
        if (op.security && path !== "/v1/beacon/{table}") for (const s of op.security) expect(s.token?.length, `${method} ${path}: scopes`).toBeGreaterThan(0);
      }
    }
  });

  it("holds the schemas that validate: a query the document bounds is refused past its bound, naming it", async () => {
    const doc = await document();
    const limit = doc.paths["/v1/tables/{table}/quarantine"].get.parameters.find((p: any) => p.name === "limit");
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 1000, default: 100 });
    const over = await app.request("/v1/tables/t/quarantine?limit=1001", { headers: ADMIN }, E);
    expect(over.status).toBe(400);
    const body = (await over.json()) as any;
    expect(body.error).toMatchObject({ code: "invalid_input", details: { in: "query", issues: [{ path: "limit" }] } });
    // A bad `limit` of the uploads ledger no longer reaches SQL as NaN.
    const nan = await app.request("/v1/tables/t/uploads?limit=abc", { headers: ADMIN }, E);
    expect(nan.status).toBe(400);
    const table = doc.paths["/v1/tables/{table}"].get.parameters.find((p: any) => p.name === "table");
    expect(table.schema.pattern).toBeDefined();
    const bad = await app.request("/v1/tables/Bad.Name.x", { headers: ADMIN }, E);
    expect(((await bad.json()) as any).error).toMatchObject({ code: "invalid_input", details: { in: "path" } });
    const body2 = doc.paths["/v1/tables/{table}/quarantine/replay"].post.requestBody.content["application/json"].schema;
    expect(body2.$ref).toBe("#/components/schemas/ReplayRequest");
  });
});
