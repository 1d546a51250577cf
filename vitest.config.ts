import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two tiers (STYLE.md 7): pure code and independent readers (DuckDB, avsc, python3-avro, icebird)
// run in Node; code that must also run at the edge is exercised inside workerd.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.workerd.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The pool serves no S3 API (TOOLCHAIN.md): the lake goes through the R2 binding here;
            // the S3 path is tested end to end against wrangler dev.
            miniflare: { bindings: { LAKE_ACCESS: "binding", FLOE_INGEST_TOKEN: "test-ingest-token", FLOE_ADMIN_TOKEN: "test-admin-token", MAX_BODY_BYTES: "1048576" } },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.workerd.test.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
