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
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workerd",
          include: ["test/**/*.workerd.test.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
