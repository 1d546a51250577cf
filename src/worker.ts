import { Hono } from "hono";

/** The Worker's HTTP surface. Only `GET /healthz` exists until the edge pipeline lands. */
export const app = new Hono();

app.get("/healthz", (c) => c.json({ ok: true, service: "floe" }));

export default {
  fetch: app.fetch,
} satisfies ExportedHandler;
