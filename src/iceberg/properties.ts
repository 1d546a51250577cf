/**
 * A numeric table property: its value when set to a finite number of at least `min` (an integer
 * when `integer`), else the default. Table properties are strings (spec "Table Metadata"), set by
 * users and other engines: a malformed one falls back to the default rather than break commits.
 */
export function numberProperty(props: Record<string, string>, key: string, fallback: number, opts: { min?: number; integer?: boolean } = {}): number {
  const raw = props[key];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  const ok = (opts.integer ? Number.isInteger(n) : Number.isFinite(n)) && n >= (opts.min ?? Number.NEGATIVE_INFINITY);
  return ok ? n : fallback;
}
