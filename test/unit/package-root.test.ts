import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.ts";
import { migrationsFolder } from "../../src/db/migrations-folder.ts";

describe("packageRoot", () => {
  it("is the folder of Keyscope's package.json, with schema/ and drizzle/ in it", () => {
    expect(JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).name).toBe("keyscope");
    expect(existsSync(join(packageRoot, "schema", "management.graphql"))).toBe(true);
    expect(existsSync(join(migrationsFolder, "meta", "_journal.json"))).toBe(true);
  });
});
