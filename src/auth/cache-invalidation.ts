import { sql } from "drizzle-orm";
import type { Database, Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { noopMetrics, type Metrics } from "../metrics.ts";
import type { KeyCache } from "./key-cache.ts";
import type { KeyVerifier } from "./verify-key.ts";

/** What changed, for every instance's key cache. */
export type CacheChange = { keyId: string; imported?: boolean } | { userId: string };

const CHANNEL = "keyscope_cache";

/**
 * Tells every instance sharing the database to drop a key or a user's keys from its cache.
 * Call inside the change's transaction: PostgreSQL delivers a NOTIFY only when it commits.
 */
export async function announceChange(tx: Db, change: CacheChange): Promise<void> {
  await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify(change)})`);
}

/**
 * Listens for changes made by any instance (this one included) and evicts them. A lost
 * notification costs at most the cache lifetime: entries expire anyway.
 */
export async function followCacheChanges(
  database: Database,
  cache: KeyCache,
  verifier: Pick<KeyVerifier, "forgetImportedKeys">,
  logger: Logger,
  metrics: Pick<Metrics, "cacheChangeHeard"> = noopMetrics,
) {
  return database.listen(CHANNEL, (payload) => {
    try {
      const change = JSON.parse(payload) as CacheChange;
      metrics.cacheChangeHeard("userId" in change ? "user" : "key");
      if ("userId" in change) cache.evictUser(change.userId);
      else {
        cache.evictKey(change.keyId);
        if (change.imported) verifier.forgetImportedKeys();
      }
    } catch (error) {
      logger.warn({ err: error }, "ignored a malformed cache notification");
    }
  });
}
