import { z } from "zod";
import type { Env } from "../config.js";
import { FloeError } from "../errors.js";
import { parseSourceConfig, type SourceConfig } from "./config.js";

let cached: { raw: string; sources: Map<string, SourceConfig> } | undefined;

/**
 * The webhook sources, from the `FLOE_SOURCES` secret: a JSON array of source configs (it holds
 * the signing secrets, so it is a secret, set with `wrangler secret put FLOE_SOURCES`; locally it
 * is a line of `.dev.vars`). Parsed once per isolate and refused whole, naming every problem,
 * if any source is invalid.
 */
export function webhookSources(env: Env): Map<string, SourceConfig> {
  const raw = env.FLOE_SOURCES ?? "[]";
  if (cached?.raw === raw) return cached.sources;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // Not the parser's message: it quotes the text, and this secret holds signing secrets.
    throw new FloeError("misconfigured", "configuration: FLOE_SOURCES is not JSON");
  }
  const list = z.array(z.unknown()).safeParse(json);
  if (!list.success) throw new FloeError("misconfigured", "configuration: FLOE_SOURCES must be a JSON array of sources");
  const sources = new Map<string, SourceConfig>();
  list.data.forEach((item, i) => {
    let s: SourceConfig;
    try {
      s = parseSourceConfig(item);
    } catch (e) {
      throw new FloeError("misconfigured", `configuration: FLOE_SOURCES[${i}]: ${(e as Error).message}`);
    }
    if (sources.has(s.name)) throw new FloeError("misconfigured", `configuration: FLOE_SOURCES: source "${s.name}" is defined twice`);
    sources.set(s.name, s);
  });
  cached = { raw, sources };
  return sources;
}
