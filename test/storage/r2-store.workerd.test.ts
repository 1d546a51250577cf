import { env } from "cloudflare:workers";
import { R2Store } from "../../src/storage/r2-store.js";
import { storeContract } from "./contract.js";

// The LAKE binding from wrangler.toml, served by Miniflare's local R2 inside the workerd pool.
storeContract("R2Store (LAKE binding)", () => new R2Store((env as unknown as { LAKE: R2Bucket }).LAKE));
