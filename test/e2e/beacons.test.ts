import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ADMIN_TOKEN, icebirdRows, startFloe, waitForRecords, type FloeDev } from "../support/floe-dev.js";
import { until } from "../support/until.js";

/**
 * Browser producers in a real browser (Debian's chromium driven by playwright-core) against `wrangler
 * dev`: two pages on two origins send `navigator.sendBeacon` with the same public key, which lists
 * only the first origin. The first page's beacons land; the second's are refused (403, in Floe's
 * request log) and none of its rows is in the table. The first page also sends with a scoped secret
 * token through fetch (a CORS preflight, then the answer read by the page).
 */
describe("browser producers", () => {
  let dev: FloeDev;
  let browser: Browser;
  const servers: Server[] = [];

  /** A page server: the page sends three beacons and one fetch per visit, and writes what it saw. */
  const pageServer = async (): Promise<string> => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><meta charset="utf-8"><title>page</title><pre id="out"></pre><script>
        const q = new URLSearchParams(location.search);
        const floe = q.get("floe"), key = q.get("key"), token = q.get("token");
        const out = {};
        out.beacons = [1, 2, 3].map((n) => navigator.sendBeacon(floe + "/v1/beacon/site_events?key=" + encodeURIComponent(key), JSON.stringify({ origin: location.origin, n, via: "beacon" })));
        (async () => {
          try {
            const r = await fetch(floe + "/v1/tables/site_events/events", { method: "POST", headers: { authorization: "Bearer " + token, "content-type": "application/json" }, body: JSON.stringify({ origin: location.origin, n: 4, via: "fetch" }) });
            out.fetch = r.status;
            out.body = await r.json();
          } catch (e) {
            out.fetch = "blocked: " + e.message;
          }
          document.getElementById("out").textContent = JSON.stringify(out);
        })();
      </script>`);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    dev = await startFloe();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    await dev?.stop();
  });

  test("beacons from the key's origin land; from another origin they are refused and nothing of them lands", async () => {
    const allowed = await pageServer();
    const other = await pageServer();
    const mint = async (spec: Record<string, unknown>) => {
      const r = await dev.call("/v1/admin/tokens", { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(spec) });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return (r.body as { token: string }).token;
    };
    const key = await mint({ name: "site", kind: "public", scopes: ["ingest"], tables: ["site_events"], origins: [allowed] });
    const token = await mint({ name: "site-backend", scopes: ["ingest"], tables: ["site_events"], origins: [allowed] });

    const visit = async (origin: string) => {
      const page = await browser.newPage();
      await page.goto(`${origin}/?${new URLSearchParams({ floe: dev.url, key, token })}`);
      const out = await until("the page to report", async () => page.locator("#out").innerText(), (t) => t.length > 0, { ms: 20_000 });
      await page.close();
      return JSON.parse(out) as { beacons: boolean[]; fetch: number | string; body?: { accepted: number } };
    };

    const good = await visit(allowed);
    expect(good.beacons).toEqual([true, true, true]);
    expect(good.fetch).toBe(202); // the preflight passed and the answer was readable: CORS for this origin
    expect(good.body?.accepted).toBe(1);
    const bad = await visit(other);
    expect(bad.beacons).toEqual([true, true, true]); // the browser sent them; Floe refuses them
    expect(String(bad.fetch)).toMatch(/^blocked/); // the preflight is answered 403: the page reads nothing

    // The refusals are in Floe's request log: three beacons from the other origin, 403 each.
    const refused = () =>
      dev
        .logs()
        .split("\n")
        .filter((l) => l.includes('"event":"request"') && l.includes('"path":"/v1/beacon/site_events"') && l.includes('"status":403'));
    await until("the other origin's beacons to be refused", async () => refused().length, (n) => n >= 3, { ms: 20_000 });
    const accepted = dev.logs().split("\n").filter((l) => l.includes('"event":"request"') && l.includes('"path":"/v1/beacon/site_events"') && l.includes('"status":202'));
    expect(accepted).toHaveLength(3);

    // The table holds the allowed page's three beacons and its fetch, nothing from the other.
    const s = await waitForRecords(dev, "site_events", 4, 30_000);
    expect(s.totalRecords).toBe(4);
    const rows = await icebirdRows(dev, s.metadataLocation);
    expect(rows.map((r) => `${r.origin} ${r.via} ${r.n}`).sort()).toEqual([`${allowed} beacon 1`, `${allowed} beacon 2`, `${allowed} beacon 3`, `${allowed} fetch 4`]);
  }, 120_000);
});
