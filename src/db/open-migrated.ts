import type { KeyscopeConfig } from "../config.ts";
import { openDatabase, type Database } from "./client.ts";
import { lockDataDir } from "./data-dir-lock.ts";

/**
 * The database the configuration names, migrated and ready. An embedded data directory on disk
 * is locked for `holder` (PGlite must not be opened twice) until the database is closed.
 */
export async function openMigratedDatabase(config: Pick<KeyscopeConfig, "databaseUrl" | "dataDir">, holder: string): Promise<Database> {
  const embeddedOnDisk = !config.databaseUrl && config.dataDir !== "memory://";
  const releaseLock = embeddedOnDisk ? lockDataDir(config.dataDir, holder) : () => {};
  let database: Database | undefined;
  try {
    database = await openDatabase(config);
    await database.migrate();
  } catch (error) {
    await database?.close().catch(() => {});
    releaseLock();
    throw error;
  }
  const close = database.close;
  return {
    ...database,
    close: async () => {
      try {
        await close();
      } finally {
        releaseLock();
      }
    },
  };
}
