// drizzle/0003: keys switched off and imported before switched_off_by and key_secrets.imported
// existed. A database at 0001 with such rows, migrated to the latest: who switched each key off
// comes from the audit trail (ADMIN unless the owner did it without an admin key), and an
// imported key's first secret is its imported value, also after a rotation.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { migrationsFolder } from "../../src/db/migrations-folder.ts";
import { databaseKinds, freshDatabase, type DatabaseKind } from "../helpers/databases.ts";

/** The migrations up to 0001_key_usage: the schema before issue 10. */
const before = mkdtempSync(join(tmpdir(), "keyscope-migrations-"));
cpSync(migrationsFolder, before, { recursive: true });
const journalPath = join(before, "meta", "_journal.json");
const journal = JSON.parse(readFileSync(journalPath, "utf8"));
journal.entries = journal.entries.filter((e: { tag: string }) => e.tag <= "0001_key_usage");
writeFileSync(journalPath, JSON.stringify(journal));
afterAll(() => rmSync(before, { recursive: true, force: true }));

interface Opened {
  migrate(folder: string): Promise<void>;
  rows<T>(query: ReturnType<typeof sql>): Promise<T[]>;
  close(): Promise<void>;
}

async function open(kind: DatabaseKind): Promise<Opened> {
  if (kind === "pglite") {
    const client = await PGlite.create();
    const db = drizzlePglite(client);
    return {
      migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
      rows: async <T,>(q: ReturnType<typeof sql>) => (await db.execute(q)).rows as T[],
      close: () => client.close(),
    };
  }
  const database = await freshDatabase(kind);
  const client = postgres(database.options.databaseUrl!, { max: 1, onnotice: () => {} });
  const db = drizzlePostgres(client);
  return {
    migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
    rows: async <T,>(q: ReturnType<typeof sql>) => [...(await db.execute(q))] as T[],
    close: async () => {
      await client.end();
      await database.drop();
    },
  };
}

describe.each(databaseKinds)("the issue-10 backfill on %s", (kind) => {
  it("records who switched keys off from the audit trail, failing closed to ADMIN, and marks imported values", async () => {
    const db = await open(kind);
    try {
      await db.migrate(before);
      for (const statement of LEGACY_ROWS.split(";\n").filter((s) => s.trim())) await db.rows(sql.raw(statement));
      await db.migrate(migrationsFolder);

      const keys = await db.rows<{ name: string; switched_off_by: string | null }>(sql`select name, switched_off_by from api_keys order by name`);
      expect(Object.fromEntries(keys.map((k) => [k.name, k.switched_off_by]))).toEqual({
        "active": null,
        "admin key": null,
        "off by an admin": "ADMIN",
        "off by its owner": "OWNER",
        "off by its owner with an admin key": "ADMIN",
        "off without a trace": "ADMIN",
        "off by its owner, then by an admin": "ADMIN",
        "off by an admin, on again, then off by its owner": "OWNER",
        "generated": null,
        "imported": null,
        "imported, then rotated": null,
      });
      const secrets = await db.rows<{ hash: string; imported: boolean }>(sql`select hash, imported from key_secrets order by hash`);
      expect(secrets).toEqual([
        { hash: "h-generated", imported: false },
        { hash: "h-imported", imported: true },
        { hash: "h-rotated-new", imported: false },
        { hash: "h-rotated-old", imported: true },
      ]);
    } finally {
      await db.close();
    }
  });
});

const OWNER = "00000000-0000-4000-8000-000000000001";
const ADMIN = "00000000-0000-4000-8000-000000000002";
const MEMBER_KEY = "10000000-0000-4000-8000-000000000000";
const OWNER_ADMIN_KEY = "10000000-0000-4000-8000-00000000000a";
const ADMIN_KEY = "10000000-0000-4000-8000-00000000000b";
const key = (n: number) => `20000000-0000-4000-8000-00000000000${n}`;
const off = (n: number, actorUser: string, actorKey: string) =>
  `('key.updated', '${actorUser}', '${actorKey}', '${key(n)}', '${OWNER}', '{"active": {"from": true, "to": false}}')`;
const on = (n: number, actorUser: string, actorKey: string) =>
  `('key.updated', '${actorUser}', '${actorKey}', '${key(n)}', '${OWNER}', '{"active": {"from": false, "to": true}}')`;

/** Rows as the code before issue 10 wrote them. */
const LEGACY_ROWS = `
insert into users (id, email, role) values ('${OWNER}', 'owner@example.com', 'MEMBER'), ('${ADMIN}', 'admin@example.com', 'ADMIN');
insert into api_keys (id, user_id, name, client_type, scopes, start, active, imported) values
  ('${MEMBER_KEY}', '${OWNER}', 'active', 'mobile', '{keys:self}', 'ks_aaaa', true, false),
  ('${OWNER_ADMIN_KEY}', '${OWNER}', 'off by its owner with an admin key', 'mobile', '{keys:admin,keys:self}', 'ks_bbbb', false, false),
  ('${ADMIN_KEY}', '${ADMIN}', 'admin key', 'mobile', '{keys:admin,keys:self}', 'ks_cccc', true, false),
  ('${key(1)}', '${OWNER}', 'off by an admin', 'mobile', '{}', 'ks_1111', false, false),
  ('${key(2)}', '${OWNER}', 'off by its owner', 'mobile', '{}', 'ks_2222', false, false),
  ('${key(3)}', '${OWNER}', 'off without a trace', 'mobile', '{}', 'ks_3333', false, false),
  ('${key(4)}', '${OWNER}', 'off by its owner, then by an admin', 'mobile', '{}', 'ks_4444', false, false),
  ('${key(5)}', '${OWNER}', 'off by an admin, on again, then off by its owner', 'mobile', '{}', 'ks_5555', false, false),
  ('${key(6)}', '${OWNER}', 'generated', 'mobile', '{}', 'ks_6666', true, false),
  ('${key(7)}', '${OWNER}', 'imported', 'mobile', '{}', 'lega', true, true),
  ('${key(8)}', '${OWNER}', 'imported, then rotated', 'mobile', '{}', 'ks_8888', true, false);
insert into audit_events (action, actor_user_id, actor_key_id, target_key_id, target_user_id, changes) values
  ${off(1, ADMIN, ADMIN_KEY)},
  ${off(2, OWNER, MEMBER_KEY)},
  ('key.updated', '${OWNER}', '${OWNER_ADMIN_KEY}', '${OWNER_ADMIN_KEY}', '${OWNER}', '{"active": {"from": true, "to": false}}'),
  ${off(4, OWNER, MEMBER_KEY)},
  ${off(4, ADMIN, ADMIN_KEY)},
  ${off(5, ADMIN, ADMIN_KEY)},
  ${on(5, ADMIN, ADMIN_KEY)},
  ${off(5, OWNER, MEMBER_KEY)},
  ('key.imported', '${ADMIN}', '${ADMIN_KEY}', '${key(7)}', '${OWNER}', '{}'),
  ('key.imported', '${ADMIN}', '${ADMIN_KEY}', '${key(8)}', '${OWNER}', '{}'),
  ('key.rotated', '${ADMIN}', '${ADMIN_KEY}', '${key(8)}', '${OWNER}', '{}');
insert into key_secrets (key_id, hash, created_at, expires_at) values
  ('${key(6)}', 'h-generated', now(), null),
  ('${key(7)}', 'h-imported', now(), null),
  ('${key(8)}', 'h-rotated-old', now() - interval '1 minute', now() + interval '1 hour'),
  ('${key(8)}', 'h-rotated-new', now(), null);
`;
