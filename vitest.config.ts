import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to index.js for the libraries; vite would pick index.mjs for our
    // code, and graphql refuses to mix the two. One module for everyone.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
