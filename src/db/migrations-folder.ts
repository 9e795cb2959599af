import { fileURLToPath } from "node:url";

/** drizzle/ at the package root, whether running from src/db or from dist/src/db. */
export const migrationsFolder = fileURLToPath(
  new URL(import.meta.url.includes("/dist/src/") ? "../../../drizzle" : "../../drizzle", import.meta.url),
);
