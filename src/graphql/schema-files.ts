import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../package-root.ts";

/** Reads an SDL file from schema/ at the package root. */
export function readSchemaFile(name: string): string {
  return readFileSync(join(packageRoot, "schema", name), "utf8");
}
