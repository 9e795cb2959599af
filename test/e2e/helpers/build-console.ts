// Builds the console before the browser suite when its sources are newer than dist/console.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";
import { packageRoot } from "../../../src/package-root.ts";

const source = join(packageRoot, "console");
const built = join(packageRoot, "dist", "console", "index.html");

export default async function setup(): Promise<void> {
  if (builtAt() >= newest(source)) return;
  await build({ configFile: join(source, "vite.config.ts"), logLevel: "warn" });
}

function builtAt(): number {
  try {
    return statSync(built).mtimeMs;
  } catch {
    return 0;
  }
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
