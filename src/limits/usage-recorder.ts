import { sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { keyUsage } from "../db/schema/index.ts";
import type { Logger } from "../logger.ts";

export interface UsageRecorderOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** @default 5 */
  flushSeconds: number;
}

const HOUR = 3_600_000;

interface Counts {
  requests: number;
  rejected: number;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;

/**
 * Counts requests per key and hour in memory and writes them in batches: one transaction per
 * flush, with atomic upserts so that instances add up. A failed write keeps its counts for the
 * next flush; `stop()` flushes what is left.
 */
export function createUsageRecorder(options: UsageRecorderOptions) {
  const { db, clock, logger } = options;
  /** hour start (ms) → key id → counts: no string is built per request. */
  let pending = new Map<number, Map<string, Counts>>();
  let lastUsed = new Map<string, number>();
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  async function write(batch: typeof pending, used: Map<string, number>): Promise<void> {
    const rows = [...batch].flatMap(([hour, keys]) => [...keys].map(([keyId, counts]) => ({ keyId, hour: new Date(hour), ...counts })));
    await db.transaction(async (tx) => {
      if (rows.length > 0) {
        await tx
          .insert(keyUsage)
          .values(rows)
          .onConflictDoUpdate({
            target: [keyUsage.keyId, keyUsage.hour],
            set: {
              requests: sql`${keyUsage.requests} + excluded.requests`,
              rejected: sql`${keyUsage.rejected} + excluded.rejected`,
            },
          });
      }
      if (used.size > 0) {
        const values = sql.join([...used].map(([keyId, at]) => sql`(${keyId}::uuid, ${new Date(at).toISOString()}::timestamptz)`), sql`, `);
        await tx.execute(sql`
          update api_keys set last_used_at = v.at
          from (values ${values}) as v(id, at)
          where api_keys.id = v.id and (api_keys.last_used_at is null or api_keys.last_used_at < v.at)`);
      }
    });
  }

  function flushNow(): Promise<void> {
    flushing = flushing.then(async () => {
      if (pending.size === 0 && lastUsed.size === 0) return;
      const batch = pending;
      const used = lastUsed;
      pending = new Map();
      lastUsed = new Map();
      try {
        await write(batch, used);
      } catch (error) {
        // Not one count is lost: put them back for the next flush.
        for (const [hour, keys] of batch) for (const [keyId, counts] of keys) add(hour, keyId, counts.requests, counts.rejected);
        for (const [keyId, at] of used) lastUsed.set(keyId, Math.max(at, lastUsed.get(keyId) ?? 0));
        logger.warn({ err: error }, "usage flush failed; will retry");
      }
    });
    return flushing;
  }

  function add(hour: number, keyId: string, requests: number, rejected: number): void {
    let keys = pending.get(hour);
    if (!keys) pending.set(hour, (keys = new Map()));
    const counts = keys.get(keyId);
    if (counts) {
      counts.requests += requests;
      counts.rejected += rejected;
    } else {
      keys.set(keyId, { requests, rejected });
    }
  }

  return {
    /** One request by this key; `rejected` when refused by rate limit, scope or client type. */
    record(keyId: string, rejected: boolean): void {
      const now = clock.now();
      add(now - (now % HOUR), keyId, 1, rejected ? 1 : 0);
      if ((lastUsed.get(keyId) ?? 0) < now) lastUsed.set(keyId, now);
    },
    flush: flushNow,
    start(): void {
      timer ??= setInterval(() => void flushNow(), options.flushSeconds * 1000);
      timer.unref();
    },
    /** Stops the timer and writes what is left (retrying once if the first write fails). */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await flushNow();
      if (pending.size > 0 || lastUsed.size > 0) await flushNow();
    },
  };
}
