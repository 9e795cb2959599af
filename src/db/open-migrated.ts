import { defaultConfig } from "../config.ts";
import { openDatabase, type Database, type DatabaseOptions } from "./client.ts";
import { lockDataDir } from "./data-dir-lock.ts";

/**
 * The database the configuration names, migrated and ready. An embedded data directory on disk
 * is locked for `holder` (PGlite must not be opened twice) until the database is closed.
 */
export async function openMigratedDatabase(options: DatabaseOptions, holder: string): Promise<Database> {
  const config = { databaseUrl: options.databaseUrl, dataDir: options.dataDir ?? defaultConfig.dataDir, databaseTimeouts: options.databaseTimeouts };
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
