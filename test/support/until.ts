/**
 * Polls `fn` until `ok` holds or `ms` runs out (then throws with the last value and `context()`):
 * the tests wait on a deadline, never for a fixed time.
 */
export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, opts: { ms?: number; every?: number; context?: () => string } = {}): Promise<T> {
  const ms = opts.ms ?? 45_000;
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms; last ${JSON.stringify(v).slice(0, 500)}${opts.context ? `\n${opts.context()}` : ""}`);
    await new Promise((r) => setTimeout(r, opts.every ?? 250));
  }
}
