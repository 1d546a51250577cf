import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * Floe's own OpenAPI document (`/openapi.json`): checked against the OpenAPI 3.1 schema by
 * @seriousme/openapi-schema-validator, then used to check the answers Floe gives (ajv, JSON
 * Schema 2020-12, which OpenAPI 3.1 schemas are).
 */
export class FloeDoc {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor(readonly doc: any) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema({ $id: "floe", components: doc.components } as object);
  }

  /** Validates the document; throws with the validator's errors when it is not a valid OpenAPI document. */
  static async load(doc: unknown): Promise<FloeDoc> {
    const v = new Validator();
    const r = await v.validate(structuredClone(doc) as Parameters<Validator["validate"]>[0]);
    if (!r.valid) throw new Error(`not a valid OpenAPI ${String((doc as any)?.openapi)} document: ${JSON.stringify(r.errors).slice(0, 3000)}`);
    return new FloeDoc(doc);
  }

  operation(method: string, path: string): { template: string; op: any } | undefined {
    for (const [template, item] of Object.entries<any>(this.doc.paths)) {
      if (new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path) && item[method.toLowerCase()]) return { template, op: item[method.toLowerCase()] };
    }
    return undefined;
  }

  /** Problems of one answer: its status must be declared and its JSON body must match the declared schema. */
  check(method: string, path: string, status: number, body: unknown): string[] {
    const found = this.operation(method, path.split("?")[0]);
    if (!found) return [`${method} ${path}: not in the document`];
    const declared = found.op.responses[String(status)] ?? found.op.responses.default;
    if (!declared) return [`${method} ${found.template}: status ${status} is not declared (${Object.keys(found.op.responses).join(", ")})`];
    const schema = declared.content?.["application/json"]?.schema;
    if (!schema) return [];
    const key = `${method} ${found.template} ${status}`;
    let v = this.compiled.get(key);
    if (!v) this.compiled.set(key, (v = this.ajv.compile(rebase(schema) as object)));
    return v(body) ? [] : [`${key}: ${this.ajv.errorsText(v.errors, { separator: "; " })} in ${JSON.stringify(body).slice(0, 300)}`];
  }
}

/** Local `#/components/…` references point into the document added as `floe`. */
function rebase(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(rebase);
  if (!s || typeof s !== "object") return s;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) o[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `floe${v}` : rebase(v);
  return o;
}
