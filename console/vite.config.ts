import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The key console: served by Keyscope at /console from dist/console (src/http/console-route.ts). */
export default defineConfig({
  root: here,
  base: "/console/",
  // Preact's automatic JSX runtime; no framework plugin needed.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    // Hashed names under assets/ (cached for good by the route); no inline script for the CSP.
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});
