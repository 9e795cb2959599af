#!/usr/bin/env node
// Runs the built CLI when there is one (an installed package), else the TypeScript source via tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/src/cli/main.js", import.meta.url);
let runCli;
if (existsSync(fileURLToPath(built))) {
  ({ runCli } = await import(built.href));
} else {
  const { tsImport } = await import("tsx/esm/api");
  ({ runCli } = await tsImport("../src/cli/main.ts", import.meta.url));
}
runCli(process.argv.slice(2), process.env, process.stdout, process.stderr, process.stdin).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`keyscope: unexpected failure: ${error?.message ?? error}\n`);
    process.exit(1);
  },
);
