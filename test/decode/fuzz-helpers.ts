import fc from "fast-check";
import { expect } from "vitest";
import { streamOf } from "../../src/decode/bytes.js";
import { decodeRows, type DecodeOptions } from "../../src/decode/decode-rows.js";
import { FloeError } from "../../src/errors.js";

/**
 * Shared pieces of the decoders' property tests (*.fuzz.test.ts): what a clean refusal is, and a
 * decode that records its outcome instead of throwing.
 */

/** The statuses a refusal of bad input may carry: the client's fault, never the server's. */
export const CLIENT_STATUSES = [400, 413, 415];

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: FloeError };

/** Asserts that `e` is a FloeError a client can act on: a 4xx status and a message saying what. */
export function expectFloeRefusal(e: unknown): FloeError {
  if (!(e instanceof FloeError)) {
    // Rethrown with the original so a shrunk counterexample shows the stack of the real bug.
    throw new Error(`expected a FloeError, got ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`, { cause: e });
  }
  expect(CLIENT_STATUSES).toContain(e.status);
  expect(typeof e.message).toBe("string");
  expect(e.message.length).toBeGreaterThan(0);
  return e;
}

/**
 * Runs `fn` and returns its outcome: success with its value, or a refusal that is a FloeError with
 * a 4xx status and a non-empty message. Anything else thrown (TypeError, RangeError, a 500-class
 * FloeError) fails the property.
 */
export async function expectCleanRefusal<T>(fn: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: expectFloeRefusal(e) };
  }
}

/** Every row of decoding `bytes` fed in chunks of `chunk` bytes (batches numbered contiguously). */
export async function decodeAll(bytes: Uint8Array, opts: DecodeOptions, chunk = 1024): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for await (const b of decodeRows(streamOf(bytes, chunk), opts)) {
    if (b.first !== all.length) throw new Error(`batch numbered ${b.first}, expected ${all.length}`);
    for (const row of b.rows) {
      // Rows are plain objects whatever the input: never null, an array or a primitive.
      if (row === null || typeof row !== "object" || Array.isArray(row)) throw new Error(`a row that is not an object: ${String(row)}`);
      all.push(row);
    }
  }
  return all;
}

/** Decodes and returns the clean outcome (see `expectCleanRefusal`). */
export function decodeOutcome(bytes: Uint8Array, opts: DecodeOptions, chunk = 1024): Promise<Outcome<Record<string, unknown>[]>> {
  return expectCleanRefusal(() => decodeAll(bytes, opts, chunk));
}

/** A byte-level mutation of a valid sample. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number };


/** Mutations placed by a fraction of the sample's length (so one arbitrary fits any sample). */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x22, 0x5b, 0x7b, 0x0a, 0x2c) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

/** Applies mutations in order; positions wrap around the current length. */
export function mutate(sample: Uint8Array, mutations: readonly Mutation[]): Uint8Array<ArrayBuffer> {
  let out: Uint8Array<ArrayBuffer> = new Uint8Array(sample);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.kind) {
      case "flip":
        out[at] ^= 1 << m.bit;
        break;
      case "set":
        out[at] = m.value;
        break;
      case "truncate":
        out = out.slice(0, at);
        break;
      case "insert":
        out = concat(out.subarray(0, at), m.bytes, out.subarray(at));
        break;
      case "delete":
        out = concat(out.subarray(0, at), out.subarray(at + m.length));
        break;
      case "duplicate":
        out = concat(out.subarray(0, at + m.length), out.subarray(at, at + m.length), out.subarray(at + m.length));
        break;
    }
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * Options for every property here: a deadline per run (an asynchronous hang fails it), a seed
 * printed on failure. Under CI the seed is fixed (`FUZZ_SEED`, default 20261129): a synchronous
 * loop in a decoder cannot be interrupted, and CI must not hang on a new random input; locally
 * each run draws new inputs (set FUZZ_SEED to replay one).
 */
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.CI ? 20261129 : undefined;
export const RUN = { timeout: 5_000, ...(seed === undefined ? {} : { seed }) } as const;
