// Renders Floe's /openapi.json as a page: operations by tag, with their parameters, bodies,
// answers and schemas. Written here rather than bundling Swagger UI or Redoc (megabytes, with a
// build step to copy them out of node_modules): the page must load nothing from the internet, and
// this reads the one document Floe generates, in some 150 lines.

const root = document.getElementById("docs");

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

/** Inline markdown of the descriptions: `code` only (everything else stays text). */
function md(text) {
  if (!text) return [];
  return String(text).split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") ? h("code", {}, part.slice(1, -1)) : part));
}

const refName = (ref) => ref.split("/").pop();

/** A schema in one line: its type, with links to named components. */
function typeOf(schema) {
  if (!schema) return "–";
  if (schema.$ref) return h("a", { href: `#schema-${refName(schema.$ref)}` }, refName(schema.$ref));
  for (const k of ["oneOf", "anyOf", "allOf"]) if (schema[k]) return h("span", {}, schema[k].map((x, i) => [i ? (k === "allOf" ? " & " : " | ") : "", typeOf(x)]));
  const t = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (t === "array") return h("span", {}, "array of ", typeOf(schema.items));
  const extra = [];
  if (schema.enum) extra.push(schema.enum.map((x) => JSON.stringify(x)).join(" | "));
  if (schema.const !== undefined) extra.push(JSON.stringify(schema.const));
  if (schema.pattern) extra.push(`pattern ${schema.pattern}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) extra.push(`${schema.minimum ?? "…"}–${schema.maximum ?? "…"}`);
  if (schema.default !== undefined) extra.push(`default ${JSON.stringify(schema.default)}`);
  return h("span", {}, h("code", {}, t ?? "any"), extra.length ? h("span", { class: "muted" }, ` (${extra.join("; ")})`) : null);
}

/** An object schema's properties as a table; other schemas as their one-line type. */
function schemaView(schema) {
  if (!schema?.properties) return h("p", {}, typeOf(schema));
  const required = new Set(schema.required ?? []);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, "type"), h("th", {}, "required"), h("th", {}, "description"))),
    h("tbody", {}, Object.entries(schema.properties).map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", {}, typeOf(v)), h("td", {}, required.has(k) ? "yes" : ""), h("td", {}, md(v.description))))),
  );
}

function operation(method, path, op) {
  const body = h("div", { class: "body" });
  if (op.description) body.append(h("p", {}, md(op.description)));
  if (op.security?.length) body.append(h("p", {}, "Bearer token: ", op.security.map((x, i) => [i ? " or " : "", h("code", {}, Object.keys(x)[0])])));
  if (op.parameters?.length) {
    body.append(
      h("h4", {}, "Parameters"),
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "in"), h("th", {}, "type"), h("th", {}, "required"), h("th", {}, "description"))),
        h("tbody", {}, op.parameters.map((p) => h("tr", {}, h("td", { class: "mono" }, p.name), h("td", {}, p.in), h("td", {}, typeOf(p.schema)), h("td", {}, p.required ? "yes" : ""), h("td", {}, md(p.description ?? p.schema?.description))))),
      ),
    );
  }
  if (op.requestBody) {
    body.append(h("h4", {}, "Body", op.requestBody.required ? "" : " (optional)"));
    if (op.requestBody.description) body.append(h("p", {}, md(op.requestBody.description)));
    for (const [type, c] of Object.entries(op.requestBody.content ?? {})) body.append(h("p", {}, h("code", {}, type)), schemaView(c.schema));
  }
  body.append(h("h4", {}, "Answers"));
  body.append(
    h(
      "table",
      {},
      h("tbody", {}, Object.entries(op.responses ?? {}).map(([status, r]) => h("tr", {}, h("td", { class: "status" }, status), h("td", {}, md(r.description)), h("td", {}, Object.values(r.content ?? {}).map((c) => typeOf(c.schema)))))),
    ),
  );
  return h("details", { class: "op", id: `op-${method}-${path}` }, h("summary", {}, h("span", { class: `method m-${method}` }, method), h("span", { class: "path" }, path), h("span", { class: "muted" }, op.summary ?? "")), body);
}

async function main() {
  const doc = await (await fetch("/openapi.json")).json();
  const byTag = new Map((doc.tags ?? []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== "object" || !op.responses) continue;
      const tag = op.tags?.[0] ?? "Other";
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push(operation(method, path, op));
    }
  }
  const out = [h("h1", {}, doc.info.title, " API ", h("span", { class: "pill" }, doc.info.version), " ", h("span", { class: "pill" }, `OpenAPI ${doc.openapi}`)), h("p", {}, md(doc.info.description))];
  out.push(h("ul", { class: "toc" }, [...byTag.values()].map(({ tag, ops }) => h("li", {}, h("a", { href: `#tag-${tag.name}` }, tag.name), h("span", { class: "muted" }, ` (${ops.length})`)))));
  for (const { tag, ops } of byTag.values()) if (ops.length) out.push(h("h2", { id: `tag-${tag.name}` }, tag.name), tag.description ? h("p", { class: "muted" }, md(tag.description)) : null, ops);
  const schemas = Object.entries(doc.components?.schemas ?? {});
  if (schemas.length) {
    out.push(h("h2", { id: "schemas" }, "Schemas"));
    for (const [name, schema] of schemas) out.push(h("h3", { id: `schema-${name}` }, name), schema.description ? h("p", {}, md(schema.description)) : null, schemaView(schema));
  }
  root.replaceChildren(...out.flat());
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

main().catch((e) => root.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not load /openapi.json: ${e.message}`)));
