import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { until } from "../support/until.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ADMIN_TOKEN, INGEST_TOKEN, startFloe, type FloeDev } from "../support/floe-dev.js";

/** Screenshots of each page, kept as test artifacts (not committed: test-artifacts/ is ignored). */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../test-artifacts");
const GH_SECRET = "dashboard-gh-secret";

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against `wrangler
 * dev`: sign in, the tables with the numbers the API gives, a table's page with its chart, a failed
 * upload and a quarantined event replayed from their buttons until they land, the webhook counts,
 * the test event, the docs page; no console errors, nothing loaded from anywhere but Floe.
 */
describe("the dashboard", () => {
  let dev: FloeDev;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const foreign: string[] = [];

  const api = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const r = await dev.call(path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
  const text = async (selector: string) => (await page.locator(selector).first().innerText()).trim();
  const en = (n: number) => n.toLocaleString("en-US");

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dev = await startFloe({ FLOE_SOURCES: JSON.stringify([{ name: "gh", provider: "github", secrets: [GH_SECRET], table: "gh_events" }]) }, { batchTimeoutS: 3 });

    // A table with a few snapshots (the chart), and a webhook source with a delivery and a refusal.
    for (let i = 0; i < 3; i++) await api("POST", "/v1/tables/clicks/events?wait=true", Array.from({ length: 10 * (i + 1) }, (_, j) => ({ page: `/p${j}`, n: i })), INGEST_TOKEN);
    const payload = JSON.stringify({ action: "opened", number: 7 });
    const sign = (secret: string) => `sha256=${createHmac("sha256", secret).update(payload).digest("hex")}`;
    for (const secret of [GH_SECRET, "wrong"]) {
      await dev.call("/v1/webhooks/gh", { method: "POST", headers: { "content-type": "application/json", "x-github-delivery": randomUUID(), "x-github-event": "pull_request", "x-hub-signature-256": sign(secret) }, body: payload });
    }

    // A failed upload: a strict table meets a file with a field it does not have.
    await api("PUT", "/v1/tables/orders", { mode: "strict", schema: { fields: [{ name: "id", type: "long" }] } });
    const up = await dev.call("/v1/tables/orders/uploads/batch-1.ndjson", { method: "PUT", headers: { authorization: `Bearer ${INGEST_TOKEN}`, "content-type": "application/x-ndjson" }, body: '{"id":1,"coupon":"A"}\n{"id":2,"coupon":"B"}\n' });
    expect(up.status).toBe(202);
    await until("upload failed", () => api("GET", "/v1/tables/orders"), (s) => s.uploads.failed === 1);

    // A quarantined event: accepted while the table evolves, written after it turned strict.
    await api("PUT", "/v1/tables/audit", { schema: { fields: [{ name: "id", type: "long" }] } });
    await api("POST", "/v1/tables/audit/events", [{ id: 1, note: "late" }], INGEST_TOKEN);
    await api("PUT", "/v1/tables/audit", { mode: "strict" });
    await until("quarantined", () => api("GET", "/v1/tables/audit"), (s) => s.quarantine.quarantined === 1);

    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on("request", (r) => !r.url().startsWith(dev.url) && !r.url().startsWith("data:") && foreign.push(r.url()));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  });

  test("signs in with the admin token, kept in session storage and never in a URL", async () => {
    await page.goto(`${dev.url}/`);
    await page.getByLabel("Admin token").fill(INGEST_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => text("[role=alert]")).toMatch(/not an admin token for every table/);
    // The refused try's 403 is reported by the browser as a failed resource load: expected, so not counted.
    consoleErrors.length = 0;
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector("#tables");
    expect(await page.evaluate(() => sessionStorage.getItem("floe.adminToken"))).toBe(ADMIN_TOKEN);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    await shot("tables");
  });

  test("lists the tables with the numbers the API gives", async () => {
    const { tables } = await api("GET", "/v1/tables");
    expect(tables.map((t: any) => t.table)).toEqual(expect.arrayContaining(["default.clicks", "default.orders", "default.audit", "default.gh_events"]));
    for (const { table } of tables) {
      const s = await api("GET", `/v1/tables/${table}`);
      const row = `#tables tr[data-table="${table}"]`;
      expect(await text(`${row} [data-field=totalRecords]`), table).toBe(en(s.totalRecords));
      expect(await text(`${row} [data-field=dataFiles]`), table).toBe(en(s.dataFiles));
      expect(Number(await page.locator(`${row} [data-field=totalBytes]`).getAttribute("data-value")), table).toBe(s.totalBytes);
      expect(await text(`${row} [data-field=snapshots]`), table).toBe(en(s.snapshots));
      expect(await text(`${row} [data-field=duplicatesDropped]`), table).toBe(en(s.duplicatesDropped));
      expect(await text(`${row} [data-field=quarantine]`), table).toBe(en(s.quarantine.quarantined));
      expect(await page.locator(`${row} [data-field=lastCommitAt]`).getAttribute("data-value"), table).toBe(s.lastCommitAt ?? "");
    }
    expect(await text('#tables tr[data-table="default.clicks"] [data-field=totalRecords]')).toBe("60");
  });

  test("opens a table: schema, snapshots with their batches, and the chart of rows and files drawn", async () => {
    await page.click('a[href="#/tables/default.clicks"]');
    await page.waitForSelector("#table-page #schema");
    const s = await api("GET", "/v1/tables/default.clicks");
    expect(await text("#table-page [data-field=totalRecords]")).toBe(en(s.totalRecords));
    expect(await page.locator("#schema tbody tr").count()).toBe(s.schema.fields.length);
    const { snapshots } = await api("GET", "/v1/tables/default.clicks/snapshots");
    expect(await page.locator("#snapshots tbody tr").count()).toBe(snapshots.length);
    expect(await text("#snapshots tbody tr td")).toBe(snapshots[0].snapshotId);
    const points = (await page.locator("svg.chart polyline.rows").getAttribute("points"))!.trim().split(/\s+/);
    expect(points.length).toBeGreaterThanOrEqual(snapshots.length);
    expect(await page.locator("svg.chart polyline.files").getAttribute("points")).toMatch(/\d/);
    expect(await text("#metadata-location")).toBe(s.metadataLocation);
    await shot("table");
  });

  test("replays a failed upload from its button and shows it land", async () => {
    // The fix: the table takes the field now.
    await api("PUT", "/v1/tables/orders", { schema: { fields: [{ name: "coupon", type: "string" }] } });
    await page.goto(`${dev.url}/#/tables/default.orders`);
    await page.waitForSelector('#uploads tr[data-state="failed"]');
    expect(await text('#uploads tr[data-state="failed"]')).toMatch(/coupon/);
    await page.click("#replay-uploads");
    await page.waitForSelector('#uploads tr[data-state="ingested"]', { timeout: 60_000 });
    await expect.poll(() => text("#table-page [data-field=totalRecords]"), { timeout: 20_000 }).toBe("2");
    expect((await api("GET", "/v1/tables/orders")).totalRecords).toBe(2);
    await shot("upload-replayed");
  });

  test("replays a quarantined event from its button and shows it land", async () => {
    await api("PUT", "/v1/tables/audit", { schema: { fields: [{ name: "note", type: "string" }] } });
    await page.goto(`${dev.url}/#/tables/default.audit`);
    await page.waitForSelector('#quarantine tr[data-state="quarantined"]');
    expect(await text('#quarantine tr[data-state="quarantined"]')).toMatch(/note/);
    expect(await text("#quarantine pre")).toContain('"note":"late"');
    await page.click("#quarantine button.replay");
    await page.waitForSelector('#quarantine tr[data-state="landed"]', { timeout: 60_000 });
    await expect.poll(() => text("#table-page [data-field=totalRecords]"), { timeout: 20_000 }).toBe("1");
    const s = await api("GET", "/v1/tables/audit");
    expect(s).toMatchObject({ totalRecords: 1, quarantine: { quarantined: 0, landed: 1 } });
    await shot("quarantine-replayed");
  });

  test("shows the webhook sources' counts", async () => {
    await page.click('a[href="#/webhooks"]');
    await page.waitForSelector("#webhooks");
    const { sources } = await api("GET", "/v1/webhooks");
    const gh = sources.find((x: any) => x.source === "gh");
    expect(await text('#webhooks tr[data-source="gh"] [data-field=received]')).toBe(en(gh.received));
    expect(gh.received).toBe(1);
    expect(await text('#webhooks tr[data-source="gh"] [data-field=refused]')).toMatch(/bad_signature: 1/);
    await shot("webhooks");
  });

  test("sends a test event and says which snapshot committed it", async () => {
    await page.click('a[href="#/send"]');
    await page.getByLabel("Table").fill("default.from_dashboard");
    await page.getByLabel("Event JSON").fill('{"hello": "floe", "n": 1}');
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => text("#send-result"), { timeout: 30_000 }).toMatch(/Committed in snapshot \d+/);
    const s = await api("GET", "/v1/tables/from_dashboard");
    expect(await text("#send-result")).toContain(s.currentSnapshotId);
    await page.getByLabel("Event JSON").fill("{not json");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => text("#send-result")).toMatch(/Not JSON/);
    await shot("send");
  });

  test("renders the API's docs page from /openapi.json", async () => {
    await page.goto(`${dev.url}/docs/`);
    await page.waitForSelector("details.op");
    expect(await text("h1")).toMatch(/Floe API/);
    const doc = await api("GET", "/openapi.json");
    const operations = Object.values<any>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(await page.locator("details.op").count()).toBe(operations);
    const events = page.locator('details.op:has(.path:text-is("/v1/tables/{table}/events"))');
    await events.locator("summary").click();
    expect(await events.innerText()).toMatch(/wait/);
    await shot("docs");
  });

  test("logged no console errors and loaded nothing from elsewhere", () => {
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
