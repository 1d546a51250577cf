import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";

/**
 * Validates the catalog's responses against the Iceberg REST spec's own OpenAPI document
 * (apache/iceberg `open-api/rest-catalog-open-api.yaml`, copied into test/fixtures/) with ajv.
 * The document is OpenAPI 3.1 but still marks optional values with 3.0's `nullable: true`; ajv
 * knows no such keyword, so those schemas are rewritten to JSON Schema's `type: [T, "null"]`.
 */
const DOC = parse(readFileSync(new URL("../fixtures/rest-catalog-open-api.yaml", import.meta.url), "utf8")) as any;

function nullable(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(nullable);
  if (!s || typeof s !== "object") return s;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) o[k] = nullable(v);
  if (o.nullable === true) {
    delete o.nullable;
    if (typeof o.type === "string") o.type = [o.type, "null"];
    else if (o.$ref || o.allOf || o.oneOf || o.anyOf) return { anyOf: [o, { type: "null" }] };
  }
  return o;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: "iceberg-rest", components: nullable(DOC.components) } as object);

const compiled = new Map<string, ValidateFunction>();
function validator(ref: string): ValidateFunction {
  let v = compiled.get(ref);
  if (!v) compiled.set(ref, (v = ajv.compile({ $ref: `iceberg-rest${ref}` })));
  return v;
}

/** The spec's path template a request path matches (`/v1/{prefix}/namespaces/{namespace}` …), with the catalog's mount point removed. */
export function operationOf(method: string, path: string): { template: string; operation: any } | undefined {
  for (const [template, item] of Object.entries<any>(DOC.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (re.test(path) && item[method.toLowerCase()]) return { template, operation: item[method.toLowerCase()] };
  }
  return undefined;
}

function deref(o: any): any {
  while (o?.$ref) o = o.$ref.slice(2).split("/").reduce((x: any, k: string) => x[k], DOC);
  return o;
}

/**
 * Checks one response against the operation's declared responses: the status must be declared
 * (or covered by `5XX`), and a JSON body must match its schema. Answers the problems found.
 */
export function checkResponse(method: string, path: string, status: number, bodyText: string): string[] {
  const op = operationOf(method, path);
  if (!op) return [`${method} ${path}: no such operation in the spec`];
  const responses = op.operation.responses;
  const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (!declared) return [`${method} ${op.template}: status ${status} is not a declared response (${Object.keys(responses).join(", ")})`];
  const r = deref(declared);
  if (method === "HEAD") return bodyText.trim() ? [`HEAD ${op.template} ${status}: a body`] : [];
  let schema = r.content?.["application/json"]?.schema;
  // The document's one inconsistency met here: UnsupportedOperationResponse declares a bare
  // ErrorModel while its own example (and every other error response, and the clients' parsers)
  // wrap it as {"error": ErrorModel}. The wrapped form is what clients read.
  if (schema?.$ref === "#/components/schemas/ErrorModel") schema = { $ref: "#/components/schemas/IcebergErrorResponse" };
  if (!schema) return bodyText.trim() ? [`${method} ${op.template} ${status}: a body where the spec declares none: ${bodyText.slice(0, 200)}`] : [];
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return [`${method} ${op.template} ${status}: body is not JSON: ${bodyText.slice(0, 200)}`];
  }
  const ref = schema.$ref ?? `#/paths/${op.template.replace(/\//g, "~1")}`;
  if (!schema.$ref) return [`${method} ${op.template} ${status}: inline schema not supported by this checker`];
  const v = validator(ref);
  return v(body) ? [] : [`${method} ${op.template} ${status}: ${ajv.errorsText(v.errors, { separator: "; " })}`];
}

/** Every operation of the spec, as `METHOD template`, for checking which a test exercised. */
export function allOperations(): string[] {
  const out: string[] = [];
  for (const [template, item] of Object.entries<any>(DOC.paths)) for (const m of ["get", "post", "put", "delete", "head"]) if (item[m]) out.push(`${m.toUpperCase()} ${template}`);
  return out;
}
