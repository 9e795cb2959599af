import { readFileSync } from "node:fs";

/** Reads an SDL file from schema/ at the package root (from src/ or dist/src/ alike). */
export function readSchemaFile(name: string): string {
  const up = import.meta.url.includes("/dist/src/") ? "../../../schema/" : "../../schema/";
  return readFileSync(new URL(up + name, import.meta.url), "utf8");
}
