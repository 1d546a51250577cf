import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { app } from "../../src/http/app.js";

const E = env as unknown as Env;
const ADMIN = { authorization: "Bearer test-admin-token" };

describe("/openapi.json", () => {
  it("is generated", async () => {
    const r = await app.request("/openapi.json", {}, E);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as any;
    console.log(JSON.stringify(doc).length, Object.keys(doc.paths));
    expect(doc.openapi).toBe("3.1.0");
  });
});
