import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two tiers (STYLE.md 7): pure code and independent readers (DuckDB, avsc, python3-avro, icebird)
// run in Node; code that must also run at the edge is exercised inside workerd.
/** Webhook sources of the workerd tests (test/http/webhooks.workerd.test.ts signs with these secrets). */
const TEST_SOURCES = [
  { name: "gh", provider: "github", secrets: ["It's a Secret to Everybody"], table: "gh_events" },
  { name: "stripe", provider: "stripe", secrets: ["whsec_old", "whsec_new"], table: "stripe_events" },
  { name: "slack", provider: "slack", secrets: ["slack-signing-secret"], table: "slack_events" },
  { name: "std", provider: "standard", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], table: "std_events", extract: [{ pointer: "/test", column: "test_value", type: "long" }] },
];

export default defineConfig({
  test: {
    // Floe logs a JSON line per request and batch: shown for failing tests only.
    silent: "passed-only",
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
            miniflare: {
              bindings: {
                LAKE_ACCESS: "binding",
                FLOE_INGEST_TOKEN: "test-ingest-token",
                FLOE_ADMIN_TOKEN: "test-admin-token",
                MAX_BODY_BYTES: "1048576",
                FLOE_SOURCES: JSON.stringify(TEST_SOURCES),
                RECONCILE_GRACE_SECONDS: "0",
                FLOE_UPLOAD_RULES: JSON.stringify([{ prefix: "partners/acme/", table: "acme_orders", format: "csv", after: "archive" }]),
              },
            },
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
