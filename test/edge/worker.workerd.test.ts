import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("worker", () => {
  it("answers GET /healthz", async () => {
    const worker = exports as unknown as { default: Fetcher };
    const res = await worker.default.fetch("http://floe.local/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, service: "floe" });
  });
});
