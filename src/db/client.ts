import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { randomInt } from "node:crypto";
import postgres from "postgres";
import { defaultConfig, withDefaults } from "../config.ts";
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
  /** PostgreSQL only. @default defaultConfig.databaseTimeouts (3000 ms to connect, 5000 ms per statement) */
  databaseTimeouts?: { connectMs?: number; statementMs?: number } | undefined;
}

/** Opens PostgreSQL when a URL is given, else embedded PGlite. Call `migrate()` before use. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, withDefaults(defaultConfig.databaseTimeouts, options.databaseTimeouts));
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

interface Timeouts {
  connectMs: number;
  statementMs: number;
}

/**
 * A pool whose every round trip is bounded, so that a database that is gone, unreachable or
 * stuck gives requests a prompt 503 instead of a hang: connecting (TCP and handshake) within
 * `connectMs`, each statement (lock waits included) and each idle moment inside a transaction
 * within `statementMs`, and reconnection attempts at most a second apart (postgres.js's own
 * back-off grows to 20 s, which a request would wait out before its first attempt).
 */
function poolOptions(timeouts: Timeouts): postgres.Options<Record<string, never>> {
  return {
    max: 10,
    onnotice: () => {},
    connect_timeout: timeouts.connectMs / 1000,
    // Jitter drawn from node:crypto, as every random number in src/ is.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + randomInt(1000) / 2000),
    connection: {
      statement_timeout: timeouts.statementMs,
      idle_in_transaction_session_timeout: timeouts.statementMs,
    },
  };
}

async function openPostgres(url: string, timeouts: Timeouts): Promise<Database> {
  const client = postgres(url, poolOptions(timeouts));
  const driverDb = drizzlePostgres(client, { schema });
  const db = driverDb as unknown as Db;
  return {
    db,
    kind: "postgres",
    ping: async () => void (await db.execute(sql`select 1`)),
    migrate: async () => {
      // Connections of its own without the statement timeout: a migration, and the wait for
      // another instance's, may rightly take longer than any request.
      const migrator = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: timeouts.connectMs / 1000 });
      // A session-level advisory lock on one reserved connection: one migrator at a time.
      const lock = await migrator.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migratePostgres(drizzlePostgres(migrator, { schema }), { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
        lock.release();
        await migrator.end({ timeout: 5 });
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
