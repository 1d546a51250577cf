import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { streamOf } from "../../src/decode/bytes.js";
import { decodeRows, type DecodeOptions, type RowBatch } from "../../src/decode/decode-rows.js";
import { FloeError } from "../../src/errors.js";

const DIR = new URL("../fixtures/uploads/", import.meta.url);

/** A fixture file's bytes (test/fixtures/uploads, made by make.mjs). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, DIR)));
}

export interface SourceRow {
  id: number;
  name: string | null;
  score: number | null;
  active: boolean | null;
  born: string | null;
  seen: string | null;
  price: string | null;
  zip: string | null;
  tags: (string | null)[] | null;
  address: { city: string | null; zip: string | null } | null;
}

/** The rows every writer was given (source.json). */
export const SOURCE: SourceRow[] = JSON.parse(readFileSync(new URL("source.json", DIR), "utf8"));

/** All batches of decoding `bytes` fed in chunks of `chunk` bytes. */
export async function batches(bytes: Uint8Array, opts: DecodeOptions, chunk = 1024): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of decodeRows(streamOf(bytes, chunk), opts)) out.push(b);
  return out;
}

/** All rows of decoding `bytes`, checking that batches are numbered contiguously. */
export async function rows(bytes: Uint8Array, opts: DecodeOptions, chunk = 1024): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (const b of await batches(bytes, opts, chunk)) {
    expect(b.first).toBe(all.length);
    all.push(...b.rows);
  }
  return all;
}

/** The FloeError that decoding `bytes` fails with (the test fails if it does not fail). */
export async function failure(bytes: Uint8Array, opts: DecodeOptions, chunk = 1024): Promise<FloeError> {
  try {
    await rows(bytes, opts, chunk);
  } catch (e) {
    expect(e).toBeInstanceOf(FloeError);
    return e as FloeError;
  }
  throw new Error("expected decoding to fail");
}

export const utf8 = (s: string) => new TextEncoder().encode(s);

/** Source rows with only the given keys. */
export function pick<K extends keyof SourceRow>(keys: readonly K[]): Record<K, unknown>[] {
  return SOURCE.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])) as Record<K, unknown>);
}
