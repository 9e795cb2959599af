import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to index.js for the libraries; vite would pick index.mjs for our
    // code, and graphql refuses to mix the two. One module for everyone.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The browser suite has its own config and command (npm run test:e2e).
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
