import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

// One folder per test file (Vitest gives each file its own copy of this module), made on first use
// and removed after the file's tests, so readers that want a file (DuckDB, avsc, python3-avro) leave
// nothing behind. Not process.on("exit"): Vitest's workers are torn down without running it.
let dir: string | undefined;
let fileNo = 0;
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A fresh path (never handed out before) in this process's temporary folder, for a writer that takes a file name. */
export function tempPath(name: string): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), "floe-"));
  }
  return join(dir, `${fileNo++}-${name}`);
}

/** Writes bytes to a fresh temporary file and returns its path (for readers that take files). */
export function tempFile(name: string, bytes: Uint8Array): string {
  const path = tempPath(name);
  writeFileSync(path, bytes);
  return path;
}
