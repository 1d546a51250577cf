import { createRoute, z } from "@hono/zod-openapi";
import { rpc } from "../errors.js";
import { ACTIONS } from "../iceberg/maintenance/maintain.js";
import { parseTableName } from "../names.js";
import { allow } from "./auth.js";
import { api, needs, jsonLimit, jsonRequest, jsonResponse, refusals, serve, TableParam } from "./openapi.js";
import { forgetTable } from "./table-cache.js";

export const maintenance = api();

const MaintenanceRequest = z
  .object({
    actions: z.array(z.enum(ACTIONS)).min(1).optional().openapi({ description: "Which actions (all table-local ones when absent)" }),
    dryRun: z.boolean().optional().openapi({ description: "Plan and report without changing anything" }),
    olderThanMs: z.number().int().min(0).optional().openapi({ description: "Overrides the snapshot age of expire-snapshots and the orphan age of remove-orphans" }),
  })
  .strict()
  .openapi("MaintenanceRequest");

const run = createRoute({
  method: "post",
  path: "/v1/tables/{table}/maintenance",
  tags: ["Tables"],
  summary: "Run maintenance now",
  description: "Runs maintenance actions now and answers their report. An empty body runs every table-local action.",
  security: needs("admin"),
  middleware: [allow("admin"), jsonLimit] as const,
  request: { params: TableParam, ...jsonRequest(MaintenanceRequest, "The actions to run (optional)", false) },
  responses: { 200: jsonResponse(z.object({}).passthrough().openapi("MaintenanceReport"), "The report: per action what was done, with counts and timings"), ...refusals(400, 401, 413, 415) },
});

serve(maintenance, run, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const report = await rpc(c.env.TABLES.get(c.env.TABLES.idFromName(name.full)).maintain(name.full, c.req.valid("json")));
  forgetTable(name.full);
  return c.json(report);
});
