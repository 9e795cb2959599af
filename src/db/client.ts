import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { migrationsFolder } from "./migrations-folder.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** Throws when the database cannot answer (for /readyz). */
  ping(): Promise<void>;
  /** Applies the drizzle-kit migrations in drizzle/; safe from several instances at once. */
  migrate(): Promise<void>;
  /** LISTEN on a channel; resolves to a function that stops listening. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… — when set, PostgreSQL through postgres.js; otherwise embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps everything in memory (tests). @default "./data" */
  dataDir?: string | undefined;
}

/** Opens PostgreSQL when a URL is given, else embedded PGlite. Call `migrate()` before use. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  return openPglite(options.dataDir ?? "./data");
}

async function openPglite(dataDir: string): Promise<Database> {
  const client = await PGlite.create(dataDir === "memory://" ? undefined : dataDir);
  const driverDb = drizzlePglite(client, { schema });
  const db = driverDb as unknown as Db;
  return {
    db,
    kind: "pglite",
    ping: async () => void (await db.execute(sql`select 1`)),
    migrate: () => migratePglite(driverDb, { migrationsFolder }),
    listen: async (channel, onMessage) => {
      const stop = await client.listen(channel, onMessage);
      return async () => stop();
    },
    close: () => client.close(),
  };
}

const MIGRATION_LOCK_ID = 7428001;

async function openPostgres(url: string): Promise<Database> {
  const client = postgres(url, {
    max: 10,
    onnotice: () => {},
    // Fail fast when the server is gone, so requests get 503 instead of hanging.
    connect_timeout: 5,
  });
  const driverDb = drizzlePostgres(client, { schema });
  const db = driverDb as unknown as Db;
  return {
    db,
    kind: "postgres",
    ping: async () => void (await db.execute(sql`select 1`)),
    migrate: async () => {
      // A session-level advisory lock on one reserved connection: one migrator at a time.
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migratePostgres(driverDb, { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
        lock.release();
      }
    },
    listen: async (channel, onMessage) => {
      // postgres.js keeps one dedicated connection for notifications and re-listens after reconnects.
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}
