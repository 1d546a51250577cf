// Floe's dashboard: plain DOM, no framework, nothing loaded from elsewhere. It reads the same API
// anyone can (every number shown is a field of an API answer) with the admin token, which is kept
// in this tab's session storage and sent as a bearer header, never put in a URL.

const TOKEN_KEY = "floe.adminToken";
const main = document.getElementById("main");
const nav = document.getElementById("nav");

/** An element with attributes (on* are listeners) and children (strings become text: never HTML). */
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const kid of kids.flat()) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Calls the API with the admin token; a 4xx or 5xx throws with the API's own message. */
async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${token()}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers ?? {}) };
  const r = await fetch(path, { ...init, headers });
  const text = await r.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (r.status === 401 && path !== "/v1/webhooks") {
    signOut("The token was refused: sign in again.");
    throw new ApiError(r.status, body);
  }
  if (r.status >= 400) throw new ApiError(r.status, body);
  return body;
}

const int = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86400).toFixed(1)} days ago`;
}
const when = (iso) => (iso ? h("span", { title: iso }, ago(iso)) : h("span", { class: "muted" }, "never"));
const num = (field, value, text = int(value)) => h("td", { class: "num", "data-field": field, "data-value": value ?? "" }, text);
const typeText = (t) => (typeof t === "string" ? t : t.type === "list" ? `list<${typeText(t.element)}>` : t.type === "map" ? `map<${typeText(t.key)}, ${typeText(t.value)}>` : `struct<${t.fields.map((f) => `${f.name}: ${typeText(f.type)}`).join(", ")}>`);

function maintenanceText(m) {
  if (!m) return "–";
  const c = m.compaction ?? {};
  const parts = [m.enabled ? "on" : "off"];
  if (c.running) parts.push(`${c.running} compaction running`);
  if (m.lastRun?.startedAt) parts.push(`last run ${ago(m.lastRun.startedAt)}${m.lastRun.dryRun ? " (dry run)" : ""}`);
  if (m.enabled && m.nextRunAt) parts.push(`next ${new Date(m.nextRunAt) < new Date() ? "due" : `at ${new Date(m.nextRunAt).toLocaleTimeString()}`}`);
  return parts.join(" · ");
}

function showError(where, e) {
  where.append(h("p", { class: "error", role: "alert" }, e instanceof ApiError ? `${e.status} ${e.body?.error?.code ?? ""}: ${e.message}` : String(e?.message ?? e)));
}

// ---------------------------------------------------------------------------------------------
// Sign in

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = "#/";
  render(message);
}

function signIn(message) {
  nav.hidden = true;
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", placeholder: "FLOE_ADMIN_TOKEN", required: true, "aria-label": "Admin token" });
  const error = h("div");
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (ev) => {
        ev.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        try {
          await api("/v1/webhooks"); // needs an admin of every table: proves the token is one
          render();
        } catch (e) {
          sessionStorage.removeItem(TOKEN_KEY);
          error.replaceChildren(h("p", { class: "error", role: "alert" }, e.status === 401 ? "That is not the admin token." : e.status === 403 ? "That token is not an admin token for every table." : `Could not sign in: ${e.message}`));
        }
      },
    },
    h("h1", {}, "Sign in to Floe"),
    h("p", { class: "muted" }, "With the admin token (FLOE_ADMIN_TOKEN). It stays in this tab only and is sent as a bearer header."),
    message ? h("p", { class: "notice" }, message) : null,
    input,
    h("button", { class: "primary", type: "submit" }, "Sign in"),
    error,
  );
  main.replaceChildren(form);
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// Tables

async function tablesPage() {
  const out = h("div", {}, h("h1", {}, "Tables"));
  main.replaceChildren(out);
  const { tables } = await api("/v1/tables");
  if (!tables.length) {
    out.append(h("p", { class: "muted" }, "No tables yet: send an event (", h("a", { href: "#/send" }, "Send a test event"), ") or upload a file."));
    return;
  }
  const infos = await Promise.all(tables.map((t) => api(`/v1/tables/${t.table}`).catch((e) => ({ table: t.table, error: e }))));
  const rows = infos.map((i) =>
    i.error
      ? h("tr", { "data-table": i.table }, h("td", {}, h("a", { href: `#/tables/${i.table}` }, i.table)), h("td", { colspan: 9, class: "bad" }, i.error.message))
      : h(
          "tr",
          { "data-table": i.table },
          h("td", {}, h("a", { href: `#/tables/${i.table}` }, i.table), i.externalCatalog ? h("span", { class: "pill", title: i.externalCatalog.uri }, " external catalog") : null),
          num("totalRecords", i.totalRecords),
          num("dataFiles", i.dataFiles),
          num("totalBytes", i.totalBytes, bytes(i.totalBytes)),
          num("snapshots", i.snapshots),
          h("td", { "data-field": "lastCommitAt", "data-value": i.lastCommitAt ?? "" }, when(i.lastCommitAt)),
          num("duplicatesDropped", i.duplicatesDropped),
          h("td", { class: "num", "data-field": "quarantine", "data-value": i.quarantine.quarantined }, i.quarantine.quarantined ? h("span", { class: "bad" }, int(i.quarantine.quarantined)) : "0"),
          h("td", { "data-field": "uploadsFailed", "data-value": i.uploads.failed, class: "num" }, i.uploads.failed ? h("span", { class: "bad" }, int(i.uploads.failed)) : "0"),
          h("td", { "data-field": "maintenance" }, maintenanceText(i.maintenance)),
        ),
  );
  out.append(
    h(
      "table",
      { id: "tables" },
      h("thead", {}, h("tr", {}, ...["Table", "Rows", "Data files", "Bytes", "Snapshots", "Last commit", "Duplicates dropped", "Quarantined", "Failed uploads", "Maintenance"].map((x, i) => h("th", { class: i >= 1 && i <= 4 ? "num" : i >= 6 && i <= 8 ? "num" : null }, x)))),
      h("tbody", {}, rows),
    ),
  );
}

/** Rows and files over time, from the snapshots' summaries: two lines, each on its own scale. */
function chart(snaps) {
  const pts = snaps
    .filter((x) => x.summary["total-records"] !== undefined)
    .map((x) => ({ t: x.timestampMs, rows: Number(x.summary["total-records"]), files: Number(x.summary["total-data-files"] ?? 0) }))
    .sort((a, b) => a.t - b.t);
  // As wide as the page, so the drawing is not letter-boxed (its text keeps its size).
  const W = Math.max(480, Math.round(main.clientWidth || 800)), H = 220, L = 60, R = 60, T = 14, B = 28;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Rows and data files over time" });
  if (!pts.length) {
    svg.append(s("text", { x: W / 2 - 60, y: H / 2 }, "No snapshots yet"));
    return svg;
  }
  const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
  const maxRows = Math.max(1, ...pts.map((p) => p.rows)), maxFiles = Math.max(1, ...pts.map((p) => p.files));
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v, max) => H - B - (v / max) * (H - T - B);
  const line = (key, max) => {
    // A step line: a value holds until the next snapshot.
    const p = [];
    pts.forEach((q, i) => {
      if (i) p.push(`${x(q.t).toFixed(1)},${y(pts[i - 1][key], max).toFixed(1)}`);
      p.push(`${x(q.t).toFixed(1)},${y(q[key], max).toFixed(1)}`);
    });
    if (pts.length === 1) p.push(`${(W - R).toFixed(1)},${y(pts[0][key], max).toFixed(1)}`);
    return p.join(" ");
  };
  svg.append(
    s("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#e1e4e8" }),
    s("polyline", { class: "rows", points: line("rows", maxRows) }),
    s("polyline", { class: "files", points: line("files", maxFiles) }),
    s("text", { x: 4, y: T + 8 }, int(maxRows)),
    s("text", { x: 4, y: H - B }, "0"),
    s("text", { x: W - R + 6, y: T + 8 }, int(maxFiles)),
    s("text", { x: L, y: H - 8 }, new Date(t0).toLocaleString()),
    s("text", { x: W - R - 140, y: H - 8 }, new Date(t1).toLocaleString()),
  );
  return svg;
}

function snippets(info) {
  const origin = location.origin;
  const [ns, name] = info.table.split(".");
  const meta = info.metadataLocation ?? "s3://…/metadata/v1.metadata.json";
  return h(
    "div",
    {},
    h("p", {}, "Metadata location: ", h("code", { id: "metadata-location" }, info.metadataLocation ?? "(not created yet)")),
    h("h3", {}, "DuckDB"),
    h("pre", {}, `INSTALL iceberg; LOAD iceberg;\nCREATE SECRET r2 (TYPE s3, KEY_ID '<R2 access key id>', SECRET '<R2 secret>', ENDPOINT '<account id>.r2.cloudflarestorage.com', URL_STYLE 'path', REGION 'auto');\nSELECT count(*) FROM iceberg_scan('${meta}');`),
    h("h3", {}, "PyIceberg (through Floe's REST catalog)"),
    h("pre", {}, `from pyiceberg.catalog.rest import RestCatalog\ncatalog = RestCatalog("floe", uri="${origin}/iceberg", warehouse="warehouse", token="<FLOE_CATALOG_TOKEN>")\nprint(catalog.load_table("${ns}.${name}").scan().to_arrow().num_rows)`),
    h("h3", {}, "Spark SQL"),
    h("pre", {}, `--conf spark.sql.catalog.floe=org.apache.iceberg.spark.SparkCatalog --conf spark.sql.catalog.floe.type=rest \\\n--conf spark.sql.catalog.floe.uri=${origin}/iceberg --conf spark.sql.catalog.floe.warehouse=warehouse --conf spark.sql.catalog.floe.token=<FLOE_CATALOG_TOKEN>\nSELECT count(*) FROM floe.${ns}.${name};`),
    h("h3", {}, "Trino"),
    h("pre", {}, `connector.name=iceberg\niceberg.catalog.type=rest\niceberg.rest-catalog.uri=${origin}/iceberg\niceberg.rest-catalog.warehouse=warehouse\niceberg.rest-catalog.security=OAUTH2\niceberg.rest-catalog.oauth2.token=<FLOE_CATALOG_TOKEN>\n-- SELECT count(*) FROM floe."${ns}"."${name}";`),
  );
}

let poller = null;
/** After a replay: re-reads the table page every second for a minute, so what lands shows. */
function pollTable(name) {
  clearInterval(poller);
  const until = Date.now() + 60_000;
  poller = setInterval(() => {
    if (Date.now() > until || location.hash !== `#/tables/${name}`) return clearInterval(poller);
    tablePage(name, { quiet: true }).catch(() => undefined);
  }, 1000);
}

async function tablePage(name, { quiet = false } = {}) {
  const [info, snaps, ups, quar] = await Promise.all([
    api(`/v1/tables/${name}`),
    api(`/v1/tables/${name}/snapshots`).catch(() => ({ snapshots: [] })),
    api(`/v1/tables/${name}/uploads?limit=200`),
    api(`/v1/tables/${name}/quarantine?limit=200`),
  ]);
  const out = h("div", { id: "table-page", "data-table": info.table });
  const card = (k, v, field, raw, small = false) => h("div", { class: "card" }, h("div", { class: small ? "v small" : "v", "data-field": field, "data-value": raw ?? "" }, v), h("div", { class: "k" }, k));
  out.append(
    h("h1", {}, info.table, " ", h("button", { type: "button", onclick: () => tablePage(name) }, "Refresh")),
    h(
      "div",
      { class: "grid" },
      card("rows", int(info.totalRecords), "totalRecords", info.totalRecords),
      card("data files", int(info.dataFiles), "dataFiles", info.dataFiles),
      card("bytes", bytes(info.totalBytes), "totalBytes", info.totalBytes),
      card("snapshots", int(info.snapshots), "snapshots", info.snapshots),
      card("last commit", info.lastCommitAt ? ago(info.lastCommitAt) : "never", "lastCommitAt", info.lastCommitAt),
      card("duplicates dropped", int(info.duplicatesDropped), "duplicatesDropped", info.duplicatesDropped),
      card("quarantined (waiting)", int(info.quarantine.quarantined), "quarantine", info.quarantine.quarantined),
      card("maintenance", maintenanceText(info.maintenance), "maintenance", undefined, true),
    ),
  );

  out.append(h("h2", {}, "Rows and files over time"), h("div", { class: "legend" }, h("span", { class: "rows-key" }, "— rows (left scale)"), h("span", { class: "warn" }, "- - data files (right scale)")), chart(snaps.snapshots));

  const idOf = new Map();
  const walk = (fields, prefix) => fields.forEach((f) => { idOf.set(f.id, prefix + f.name); if (f.type?.type === "struct") walk(f.type.fields, `${prefix}${f.name}.`); });
  if (info.schema) walk(info.schema.fields, "");
  out.append(
    h("h2", {}, "Schema ", h("span", { class: "pill" }, `mode ${info.mode}`), info.idField ? h("span", { class: "pill" }, `idField ${info.idField}`) : null),
    info.schema
      ? h("table", { id: "schema" }, h("thead", {}, h("tr", {}, h("th", {}, "id"), h("th", {}, "name"), h("th", {}, "type"), h("th", {}, "required"), h("th", {}, "doc"))), h("tbody", {}, info.schema.fields.map((f) => h("tr", {}, h("td", { class: "num" }, f.id), h("td", { class: "mono" }, f.name), h("td", { class: "mono" }, typeText(f.type)), h("td", {}, f.required ? "yes" : ""), h("td", {}, f.doc ?? "")))))
      : h("p", { class: "muted" }, "The table does not exist yet."),
    h("h2", {}, "Partition spec"),
    info.partitionSpec?.fields?.length ? h("ul", {}, info.partitionSpec.fields.map((f) => h("li", { class: "mono" }, `${f.name} = ${f.transform}(${idOf.get(f["source-id"]) ?? f["source-id"]})`))) : h("p", { class: "muted" }, "Unpartitioned"),
    h("h2", {}, "Properties"),
    Object.keys(info.properties ?? {}).length ? h("table", {}, h("tbody", {}, Object.entries(info.properties).map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", { class: "mono" }, v))))) : h("p", { class: "muted" }, "None"),
  );

  const recent = snaps.snapshots.slice(0, 20);
  out.append(
    h("h2", {}, "Recent snapshots"),
    recent.length
      ? h("table", { id: "snapshots" }, h("thead", {}, h("tr", {}, ...["Snapshot", "Seq", "When", "Operation", "Source", "Added rows", "Total rows", "Batches"].map((x) => h("th", {}, x)))), h("tbody", {}, recent.map((x) => h("tr", {}, h("td", { class: "mono" }, x.snapshotId), h("td", { class: "num" }, x.sequenceNumber), h("td", {}, when(x.committedAt)), h("td", {}, x.operation), h("td", {}, x.summary["floe.sources"] ?? (x.summary["floe.batch-ids"] ? "floe" : "engine")), h("td", { class: "num" }, int(x.summary["added-records"] ?? 0)), h("td", { class: "num" }, int(x.summary["total-records"])), h("td", { class: "mono", title: x.summary["floe.batch-ids"] ?? "" }, (x.summary["floe.batch-ids"] ?? "").split(",").filter(Boolean).map((b) => b.slice(0, 8)).join(" "))))))
      : h("p", { class: "muted" }, "No snapshots yet."),
  );

  // Uploads ledger
  const failed = ups.uploads.filter((u) => u.state === "failed");
  const upMsg = h("div");
  out.append(
    h("h2", {}, "Uploads ", failed.length ? h("button", { type: "button", id: "replay-uploads", onclick: async (ev) => { ev.target.disabled = true; try { const r = await api(`/v1/tables/${name}/uploads/replay`, { method: "POST" }); upMsg.replaceChildren(h("p", { class: "notice" }, `${r.replayed} upload(s) queued again.`)); pollTable(name); } catch (e) { showError(upMsg, e); } } }, `Replay ${failed.length} failed`) : null),
    upMsg,
    ups.uploads.length
      ? h("table", { id: "uploads" }, h("thead", {}, h("tr", {}, ...["Key", "State", "Rows", "Size", "Reason", "Updated"].map((x) => h("th", {}, x)))), h("tbody", {}, ups.uploads.map((u) => h("tr", { "data-state": u.state }, h("td", { class: "mono" }, u.key), h("td", { class: u.state === "failed" ? "bad" : u.state === "ingested" ? "ok" : "" }, u.state), h("td", { class: "num" }, int(u.rows)), h("td", { class: "num" }, u.size === null ? "–" : bytes(u.size)), h("td", {}, u.reason ?? ""), h("td", {}, when(u.updatedAt))))))
      : h("p", { class: "muted" }, "No uploads."),
  );

  // Quarantine
  const waiting = quar.entries.filter((q) => q.state === "quarantined");
  const qMsg = h("div");
  const replay = async (body, button) => {
    button.disabled = true;
    try {
      const r = await api(`/v1/tables/${name}/quarantine/replay`, { method: "POST", body: JSON.stringify(body) });
      qMsg.replaceChildren(h("p", { class: "notice" }, `${r.replayed.length} sent again${r.skipped.length ? `, ${r.skipped.length} skipped (${r.skipped.map((x) => x.reason).join("; ")})` : ""}.`));
      pollTable(name);
    } catch (e) {
      showError(qMsg, e);
    }
  };
  out.append(
    h("h2", {}, "Quarantine ", waiting.length ? h("button", { type: "button", id: "replay-all", onclick: (ev) => replay({ all: true }, ev.target) }, `Replay all ${waiting.length} waiting`) : null),
    qMsg,
    quar.entries.length
      ? h("table", { id: "quarantine" }, h("thead", {}, h("tr", {}, ...["When", "State", "Reason", "Code", "Rows", "Attempts", "Preview", ""].map((x) => h("th", {}, x)))), h("tbody", {}, quar.entries.map((q) => h("tr", { "data-entry": q.id, "data-state": q.state }, h("td", {}, when(q.quarantinedAt)), h("td", { class: q.state === "landed" ? "ok" : q.state === "quarantined" ? "bad" : "warn", "data-field": "state" }, q.state), h("td", {}, q.reason), h("td", { class: "mono" }, q.code), h("td", { class: "num" }, int(q.rows)), h("td", { class: "num" }, q.attempts), h("td", {}, h("pre", {}, q.preview)), h("td", {}, q.state !== "landed" ? h("button", { type: "button", class: "replay", onclick: (ev) => replay({ ids: [q.id] }, ev.target) }, "Replay") : null)))))
      : h("p", { class: "muted" }, "Nothing quarantined."),
  );

  out.append(h("h2", {}, "Query it"), snippets(info));
  if (!quiet || location.hash === `#/tables/${name}`) main.replaceChildren(out);
}

// ---------------------------------------------------------------------------------------------
// Webhooks and the test event

async function webhooksPage() {
  const out = h("div", {}, h("h1", {}, "Webhook sources"));
  main.replaceChildren(out);
  const { sources } = await api("/v1/webhooks");
  if (!sources.length) {
    out.append(h("p", { class: "muted" }, "No sources: configure FLOE_SOURCES (see the README)."));
    return;
  }
  out.append(
    h(
      "table",
      { id: "webhooks" },
      h("thead", {}, h("tr", {}, ...["Source", "Provider", "Table", "URL", "Received", "Duplicates", "Refused", "Last delivery"].map((x) => h("th", {}, x)))),
      h(
        "tbody",
        {},
        sources.map((x) =>
          h(
            "tr",
            { "data-source": x.source },
            h("td", {}, x.source),
            h("td", {}, x.provider),
            h("td", {}, h("a", { href: `#/tables/${x.table}` }, x.table)),
            h("td", { class: "mono" }, location.origin + x.url),
            num("received", x.received),
            num("duplicates", x.duplicates),
            h("td", { "data-field": "refused" }, Object.keys(x.refused).length ? Object.entries(x.refused).map(([k, n]) => h("div", {}, `${k}: ${int(n)}`)) : "none"),
            h("td", {}, x.lastDeliveryAt ? [when(x.lastDeliveryAt), h("div", { class: "muted mono" }, x.lastDeliveryId ?? "")] : "never"),
          ),
        ),
      ),
    ),
  );
}

function sendPage() {
  const table = h("input", { name: "table", value: "default.test_events", required: true, pattern: "([a-z_][a-z0-9_]{0,127}\\.)?[a-z_][a-z0-9_]{0,127}", "aria-label": "Table" });
  const body = h("textarea", { name: "body", "aria-label": "Event JSON" }, JSON.stringify({ event: "test", at: new Date().toISOString(), value: 1 }, null, 2));
  const wait = h("input", { type: "checkbox", name: "wait", checked: true });
  const result = h("div", { id: "send-result" });
  const form = h(
    "form",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        result.replaceChildren(h("p", { class: "muted" }, wait.checked ? "Waiting for the commit…" : "Sending…"));
        try {
          JSON.parse(body.value);
        } catch (e) {
          result.replaceChildren(h("p", { class: "error", role: "alert" }, `Not JSON: ${e.message}`));
          return;
        }
        try {
          const r = await api(`/v1/tables/${table.value}/events${wait.checked ? "?wait=true" : ""}`, { method: "POST", body: body.value });
          result.replaceChildren(h("p", { class: r.snapshotId ? "notice" : "muted" }, r.snapshotId ? `Committed in snapshot ${r.snapshotId}. ` : "Queued. ", h("a", { href: `#/tables/${table.value.includes(".") ? table.value : `default.${table.value}`}` }, "Open the table")), h("pre", {}, JSON.stringify(r, null, 2)));
        } catch (e) {
          result.replaceChildren();
          showError(result, e);
          if (e.body) result.append(h("pre", {}, JSON.stringify(e.body, null, 2)));
        }
      },
    },
    h("p", {}, h("label", {}, "Table ", table)),
    h("p", {}, body),
    h("p", {}, h("label", {}, wait, " Wait for the commit (wait=true)")),
    h("button", { class: "primary", type: "submit" }, "Send"),
  );
  main.replaceChildren(h("h1", {}, "Send a test event"), h("p", { class: "muted" }, "A JSON object or an array of objects, sent to POST /v1/tables/{table}/events as the admin."), form, result);
}

// ---------------------------------------------------------------------------------------------
// Routing

async function render(message) {
  clearInterval(poller);
  if (!token()) return signIn(message);
  nav.hidden = false;
  const hash = location.hash || "#/";
  try {
    const m = /^#\/tables\/(.+)$/.exec(hash);
    if (m) await tablePage(decodeURIComponent(m[1]));
    else if (hash === "#/webhooks") await webhooksPage();
    else if (hash === "#/send") sendPage();
    else await tablesPage();
  } catch (e) {
    if (!token()) return;
    const out = h("div");
    showError(out, e);
    main.replaceChildren(out);
  }
}

document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", () => render());
render();
