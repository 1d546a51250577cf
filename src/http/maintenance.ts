import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../config.js";
import { rpc } from "../errors.js";
import { ACTIONS } from "../iceberg/maintenance/maintain.js";
import { parseTableName } from "../names.js";
import { bearer } from "./auth.js";
import { jsonBody, parseWith } from "./json-body.js";
import { forgetTable } from "./table-cache.js";

export const maintenance = new Hono<{ Bindings: Env }>();

const MaintenanceRequest = z
  .object({
    actions: z.array(z.enum(ACTIONS)).min(1).optional(),
    dryRun: z.boolean().optional(),
    olderThanMs: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * `POST /v1/tables/{table}/maintenance` (admin): runs maintenance actions now and answers their
 * report. An empty body runs every table-local action. `olderThanMs` overrides the snapshot age of
 * `expire-snapshots` and the orphan age of `remove-orphans`.
 */
maintenance.post("/v1/tables/:table/maintenance", bearer("FLOE_ADMIN_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const req = parseWith(MaintenanceRequest, await jsonBody(c.req), "maintenance request");
  const report = await rpc(c.env.TABLES.get(c.env.TABLES.idFromName(name.full)).maintain(name.full, req));
  forgetTable(name.full);
  return c.json(report);
});
