import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder of Keyscope's package.json, where schema/ and drizzle/ live: found by walking up
 * from this file, so that src/, dist/src/ or any other build folder finds the same one.
 */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`Keyscope cannot find its package.json above ${start}.`);
  }
}
