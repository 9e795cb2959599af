import { defineConfig } from "vitest/config";

/** The browser suite: real Chromium against a real server (npm run test:e2e). */
export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/helpers/build-console.ts"],
    // One browser per file, one file at a time: the machines have two cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
