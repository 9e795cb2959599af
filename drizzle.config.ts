import { defineConfig } from "drizzle-kit";

// Migrations are generated from src/db/schema (npm run db:generate) into ./drizzle. They are applied
// at start by `migrate()` in src/db/client.ts, which the server and the CLI both reach through
// openMigratedDatabase (src/db/open-migrated.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./drizzle",
});
