// Emails are normalised (NFKC, lower case, trimmed) before they are stored, compared for
// uniqueness and looked up, over GraphQL and in the CLI; migration 0004 normalises older rows.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { asc } from "drizzle-orm";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { runCli } from "../../src/cli/main.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrationsFolder } from "../../src/db/migrations-folder.ts";
import { users } from "../../src/db/schema/index.ts";
import { checkEmail, normalizeEmail } from "../../src/users/user-service.ts";
import { databaseKinds, freshDatabase, type DatabaseKind } from "../helpers/databases.ts";
import { ADMIN_SCOPES, expectBadInput } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

describe("normalizeEmail", () => {
  it.each([
    ["ｄｅｖ@example.com", "dev@example.com"],
    ["ＤＥＶ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "dev@example.com"],
    ["  Dev@Example.COM\u3000", "dev@example.com"],
    ["ﬁnance@example.com", "finance@example.com"],
    ["Émile@example.com", "émile@example.com"],
    ["E\u0301mile@example.com", "émile@example.com"],
    ["ℌilbert@example.com", "hilbert@example.com"],
  ])("%j is %j", (typed, stored) => {
    expect(normalizeEmail(typed)).toBe(stored);
    expect(checkEmail(typed)).toBe(stored);
  });

  it("is idempotent, and what it gives is its own normal form for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
        const once = normalizeEmail(text);
        expect(normalizeEmail(once)).toBe(once);
        expect(once).toBe(once.normalize("NFKC"));
        expect(once).toBe(once.toLowerCase());
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses what normalisation would turn into another address shape, and bad text, naming email", () => {
    for (const bad of ["a b@example.com", "a＠b＠example.com", "dev\u0000@example.com", "dev\u202e@example.com", "x".repeat(65) + "@example.com"]) {
      expect(() => checkEmail(bad), bad).toThrow(expect.objectContaining({ field: "email" }));
    }
  });
});

describe.each(databaseKinds)("one user per normalised email on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string };
  const CREATE = "mutation ($input: CreateUserInput!) { createUser(input: $input) { id email } }";

  beforeAll(async () => {
    server = await startServer(kind);
    admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  it("ｄｅｖ@example.com is the same user as dev@example.com", async () => {
    const first = await server.query(CREATE, [apiKey(admin.secret)], { input: { email: "Dev@Example.com" } });
    expect(first.json.data.createUser.email).toBe("dev@example.com");
    for (const email of ["ｄｅｖ@example.com", "DEV@EXAMPLE.COM", " dev@example.com ", "ＤＥＶ＠example.com"]) {
      expectBadInput(await server.query(CREATE, [apiKey(admin.secret)], { input: { email } }), "createUser", "email");
    }
    const rows = await server.app.database.db.select().from(users).orderBy(asc(users.email));
    expect(rows.filter((r) => r.email.includes("dev@"))).toHaveLength(1);
  });

  it("lookups by email normalise too", async () => {
    const found = await server.app.users.getUserByEmail(CLI_PRINCIPAL, "ＤＥＶ＠ＥＸＡＭＰＬＥ．ＣＯＭ");
    expect(found.email).toBe("dev@example.com");
  });
});

describe.each(databaseKinds)("the CLI looks users up by normalised email on %s", (kind) => {
  let dir: string | undefined;
  let env: Record<string, string>;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    if (kind === "pglite") {
      dir = await mkdtemp(join(tmpdir(), "keyscope-email-"));
      env = { KEYSCOPE_DATA_DIR: dir };
      dispose = () => rm(dir!, { recursive: true, force: true });
    } else {
      const database = await freshDatabase(kind);
      env = { DATABASE_URL: database.options.databaseUrl! };
      dispose = () => database.drop();
    }
  });
  afterAll(() => dispose?.());

  async function cli(argv: string[]) {
    let stdout = "";
    let stderr = "";
    const out = new Writable({ write: (c, _e, done) => void ((stdout += String(c)), done()) });
    const err = new Writable({ write: (c, _e, done) => void ((stderr += String(c)), done()) });
    return { code: await runCli(argv, env, out, err), stdout: () => stdout, stderr: () => stderr };
  }

  it("bootstrap stores and prints the normalised address; keys list and users disable find it however typed", async () => {
    const boot = await cli(["bootstrap", "--email", "Ｏｐｓ@Example.com", "--json"]);
    expect(boot.code).toBe(0);
    expect(JSON.parse(boot.stdout()).email).toBe("ops@example.com");
    const list = await cli(["keys", "list", "--email", " OPS@EXAMPLE.COM", "--json"]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout())).toHaveLength(1);
    const disable = await cli(["users", "disable", "ｏｐｓ@example.com"]);
    expect(disable.stderr()).toBe("");
    expect(disable.stdout()).toBe("Disabled ops@example.com; their keys no longer work.\n");
  });
});

describe.each(databaseKinds)("migration 0004 (normalise emails) on %s", (kind: DatabaseKind) => {
  it("normalises older rows, and leaves alone a row whose normal form another row has", async () => {
    const test = await freshDatabase(kind);
    const folder = await mkdtemp(join(tmpdir(), "keyscope-migrations-"));
    const database = await openDatabase(test.options.dataDir ? { dataDir: "memory://" } : test.options);
    try {
      // The migrations before it, as a database that predates it was migrated.
      await cp(migrationsFolder, folder, { recursive: true });
      const journal = JSON.parse(await readFile(join(folder, "meta/_journal.json"), "utf8"));
      const index = journal.entries.findIndex((e: { tag: string }) => e.tag.endsWith("_normalise_emails"));
      expect(index).toBeGreaterThan(0);
      journal.entries = journal.entries.slice(0, index);
      await writeFile(join(folder, "meta/_journal.json"), JSON.stringify(journal));
      const migrateTo = (migrationsFolder: string) =>
        kind === "pglite" ? migratePglite(database.db as never, { migrationsFolder }) : migratePostgres(database.db as never, { migrationsFolder });
      await migrateTo(folder);

      const before = ["Ada@Example.com", "ｇｒａｃｅ@example.com", "dev@example.com", "ＤＥＶ@example.com", "plain@example.com"];
      await database.db.insert(users).values(before.map((email) => ({ email, role: "MEMBER" as const, clientTypes: [] })));
      await database.migrate();

      const after = (await database.db.select({ email: users.email }).from(users)).map((r) => r.email).sort();
      expect(after).toEqual(["ada@example.com", "dev@example.com", "grace@example.com", "plain@example.com", "ＤＥＶ@example.com"].sort());
    } finally {
      await database.close();
      await test.drop();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
