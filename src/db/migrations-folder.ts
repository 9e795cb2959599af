import { join } from "node:path";
import { packageRoot } from "../package-root.ts";

/** drizzle/ at the package root. */
export const migrationsFolder = join(packageRoot, "drizzle");
