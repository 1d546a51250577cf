import { z } from "zod";
import { FloeError } from "../errors.js";
import { validateCommit, type TableCommit } from "../iceberg/commit.js";
import type { Snapshot } from "../iceberg/metadata.js";
import type { PartitionSpec, Schema } from "../iceberg/types.js";
import { parseWith } from "../http/json-body.js";

/**
 * Parses a request body keeping integers exact: snapshot ids chosen by engines are 64-bit (Java
 * picks them at random over the whole range), beyond what a JSON number holds in JavaScript. The
 * reviver sees each number's source text, so such integers become bigint.
 */
export function parseExactJson(text: string): unknown {
  if (!text.trim()) return {};
  try {
    return JSON.parse(text, function (this: unknown, _key: string, value: unknown, ctx?: { source?: string }) {
      if (typeof value === "number" && !Number.isSafeInteger(value) && ctx?.source && /^-?\d+$/.test(ctx.source)) return BigInt(ctx.source);
      return value;
    } as (this: unknown, key: string, value: unknown) => unknown);
  } catch (e) {
    throw new FloeError("invalid_input", `invalid JSON: ${(e as Error).message}`);
  }
}

const Id = z.union([z.number().int(), z.bigint()]).transform((v) => BigInt(v));
const Int = z.number().int();
const Props = z.record(z.string(), z.string());

/** Shapes only: the core validates the contents (field ids, types) when it applies them. */
const SchemaShape = z.looseObject({ type: z.literal("struct"), "schema-id": Int.optional(), fields: z.array(z.looseObject({ id: Int, name: z.string(), required: z.boolean(), type: z.unknown() })) });
const SpecShape = z.looseObject({ "spec-id": Int.optional(), fields: z.array(z.looseObject({ "source-id": Int, "field-id": Int.optional(), name: z.string(), transform: z.string() })) });
const OrderShape = z.looseObject({ "order-id": Int, fields: z.array(z.looseObject({ "source-id": Int, transform: z.string(), direction: z.enum(["asc", "desc"]), "null-order": z.enum(["nulls-first", "nulls-last"]) })) });
const SnapshotShape = z.looseObject({
  "snapshot-id": Id,
  "parent-snapshot-id": Id.nullish(),
  "sequence-number": Int.optional(),
  "timestamp-ms": Int,
  "manifest-list": z.string().min(1),
  summary: z.looseObject({ operation: z.enum(["append", "replace", "overwrite", "delete"]) }),
  "schema-id": Int.optional(),
});

const Requirement = z.discriminatedUnion("type", [
  z.object({ type: z.literal("assert-create") }),
  z.object({ type: z.literal("assert-table-uuid"), uuid: z.string() }),
  z.object({ type: z.literal("assert-ref-snapshot-id"), ref: z.string(), "snapshot-id": Id.nullable() }),
  z.object({ type: z.literal("assert-last-assigned-field-id"), "last-assigned-field-id": Int }),
  z.object({ type: z.literal("assert-current-schema-id"), "current-schema-id": Int }),
  z.object({ type: z.literal("assert-last-assigned-partition-id"), "last-assigned-partition-id": Int }),
  z.object({ type: z.literal("assert-default-spec-id"), "default-spec-id": Int }),
  z.object({ type: z.literal("assert-default-sort-order-id"), "default-sort-order-id": Int }),
]);

const Update = z.discriminatedUnion("action", [
  z.object({ action: z.literal("assign-uuid"), uuid: z.string() }),
  z.object({ action: z.literal("upgrade-format-version"), "format-version": Int }),
  z.object({ action: z.literal("add-schema"), schema: SchemaShape, "last-column-id": Int.optional() }),
  z.object({ action: z.literal("set-current-schema"), "schema-id": Int }),
  z.object({ action: z.literal("add-spec"), spec: SpecShape }),
  z.object({ action: z.literal("set-default-spec"), "spec-id": Int }),
  z.object({ action: z.literal("add-sort-order"), "sort-order": OrderShape }),
  z.object({ action: z.literal("set-default-sort-order"), "sort-order-id": Int }),
  z.object({ action: z.literal("add-snapshot"), snapshot: SnapshotShape }),
  z.object({ action: z.literal("set-snapshot-ref"), "ref-name": z.string().min(1), type: z.enum(["branch", "tag"]), "snapshot-id": Id, "min-snapshots-to-keep": Int.optional(), "max-snapshot-age-ms": Int.optional(), "max-ref-age-ms": Int.optional() }),
  z.object({ action: z.literal("remove-snapshots"), "snapshot-ids": z.array(Id) }),
  z.object({ action: z.literal("remove-snapshot-ref"), "ref-name": z.string() }),
  z.object({ action: z.literal("set-properties"), updates: Props }),
  z.object({ action: z.literal("remove-properties"), removals: z.array(z.string()) }),
  z.object({ action: z.literal("set-location"), location: z.string().min(1) }),
]);

const Identifier = z.object({ namespace: z.array(z.string()), name: z.string() });

const CommitShape = z.object({
  identifier: Identifier.optional(),
  requirements: z.array(z.looseObject({ type: z.unknown() })),
  updates: z.array(z.looseObject({ action: z.unknown() })),
});

/**
 * A `CommitTableRequest` as the core's `TableCommit`. Kinds of requirement or update this catalog
 * does not implement are refused whole (400), never applied in part, as the spec asks.
 */
export function parseCommit(body: unknown, where = "commit"): { identifier?: { namespace: string[]; name: string }; commit: TableCommit } {
  const shape = parseWith(CommitShape, body, where);
  validateCommit(shape);
  const requirements = shape.requirements.map((r, i) => parseWith(Requirement, r, `${where} requirement ${i} (${String(r.type)})`));
  const updates = shape.updates.map((u, i) => toUpdate(parseWith(Update, u, `${where} update ${i} (${String(u.action)})`)));
  return { identifier: shape.identifier, commit: { requirements, updates } as TableCommit };
}

function toUpdate(u: z.infer<typeof Update>): unknown {
  if (u.action !== "add-snapshot") return u;
  const s = u.snapshot;
  const snapshot = { ...s } as Record<string, unknown>;
  if (s["parent-snapshot-id"] === null || s["parent-snapshot-id"] === undefined) delete snapshot["parent-snapshot-id"];
  if (s["sequence-number"] === undefined) throw new FloeError("invalid_input", "add-snapshot: sequence-number is required for format version 2 tables");
  return { action: u.action, snapshot: snapshot as unknown as Snapshot };
}

export const CommitTransaction = z.object({ "table-changes": z.array(z.unknown()).min(1) });

export const CreateNamespace = z.object({ namespace: z.array(z.string()).min(1), properties: Props.optional() });

export const UpdateNamespaceProperties = z.object({ removals: z.array(z.string()).optional(), updates: Props.optional() });

export const RegisterTable = z.object({ name: z.string().min(1), "metadata-location": z.string().min(1), overwrite: z.boolean().optional() });

export const CreateTable = z.object({
  name: z.string().min(1),
  location: z.string().optional(),
  schema: SchemaShape,
  "partition-spec": SpecShape.optional(),
  "write-order": OrderShape.optional(),
  "stage-create": z.boolean().optional(),
  properties: Props.optional(),
});

export type CreateTableRequest = z.infer<typeof CreateTable>;

/** The request's schema and spec as the core's types (ids kept as the engine chose them). */
export function createParts(req: CreateTableRequest): { schema: Schema; spec: PartitionSpec } {
  const schema = { ...req.schema, "schema-id": req.schema["schema-id"] ?? 0 } as unknown as Schema;
  let next = 1000;
  const fields = (req["partition-spec"]?.fields ?? []).map((f) => ({ "source-id": f["source-id"], "field-id": f["field-id"] ?? next++, name: f.name, transform: f.transform }));
  return { schema, spec: { "spec-id": 0, fields } };
}
