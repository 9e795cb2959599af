import { sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { keyUsage } from "../db/schema/index.ts";
import type { Logger } from "../logger.ts";
import { noopMetrics, type Metrics } from "../metrics.ts";

export interface UsageRecorderOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** @default 5 */
  flushSeconds: number;
  /** Told of each flush that had something to write. @default noopMetrics */
  metrics?: Pick<Metrics, "usageFlushed">;
}

const HOUR = 3_600_000;

interface Counts {
  requests: number;
  rejected: number;
  /** The latest request in this hour (ms). */
  lastUsedAt: number;
}

/** One hour's counts: hour start (ms) and key id → counts. */
interface HourCounts {
  start: number;
  keys: Map<string, Counts>;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;

/**
 * Counts requests per key and hour in memory and writes them in batches: one transaction per
 * flush, with atomic upserts so that instances add up. A failed write keeps its counts for the
 * next flush; `stop()` flushes what is left.
 */
export function createUsageRecorder(options: UsageRecorderOptions) {
  const { db, clock, logger, metrics = noopMetrics } = options;
  /** Hour start (ms) → that hour's counts: no string is built per request. */
  let pending = new Map<number, HourCounts>();
  // The hour being counted now: most requests find their counts with one look-up.
  let current: HourCounts | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  async function write(batch: typeof pending): Promise<void> {
    const rows = [...batch.values()].flatMap(({ start, keys }) =>
      [...keys].map(([keyId, { requests, rejected }]) => ({ keyId, hour: new Date(start), requests, rejected })),
    );
    const used = latestUse(batch);
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
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      current = undefined;
      const started = performance.now();
      const rows = rowCount(batch);
      try {
        await write(batch);
        metrics.usageFlushed({ seconds: (performance.now() - started) / 1000, rows, ok: true });
      } catch (error) {
        metrics.usageFlushed({ seconds: (performance.now() - started) / 1000, rows, ok: false });
        // Not one count is lost: put them back for the next flush.
        for (const { start, keys } of batch.values()) for (const [keyId, counts] of keys) add(hourCounts(start), keyId, counts);
        logger.warn({ err: error }, "usage flush failed; will retry");
      }
    });
    return flushing;
  }

  function hourCounts(start: number): HourCounts {
    let hour = pending.get(start);
    if (!hour) pending.set(start, (hour = { start, keys: new Map() }));
    return hour;
  }

  function add(hour: HourCounts, keyId: string, more: Counts): void {
    const counts = hour.keys.get(keyId);
    if (!counts) return void hour.keys.set(keyId, { ...more });
    counts.requests += more.requests;
    counts.rejected += more.rejected;
    counts.lastUsedAt = Math.max(counts.lastUsedAt, more.lastUsedAt);
  }

  return {
    /** One request by this key; `rejected` when refused by rate limit, scope or client type. */
    record(keyId: string, rejected: boolean): void {
      const now = clock.now();
      if (!current || now < current.start || now >= current.start + HOUR) current = hourCounts(now - (now % HOUR));
      const counts = current.keys.get(keyId);
      if (!counts) return void current.keys.set(keyId, { requests: 1, rejected: rejected ? 1 : 0, lastUsedAt: now });
      counts.requests++;
      if (rejected) counts.rejected++;
      if (now > counts.lastUsedAt) counts.lastUsedAt = now;
    },
    flush: flushNow,
    /** Requests counted and not yet written (read when metrics are scraped). */
    pendingRequests(): number {
      let total = 0;
      for (const { keys } of pending.values()) for (const counts of keys.values()) total += counts.requests;
      return total;
    },
    start(): void {
      timer ??= setInterval(() => void flushNow(), options.flushSeconds * 1000);
      timer.unref();
    },
    /** Stops the timer and writes what is left (retrying once if the first write fails). */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await flushNow();
      if (pending.size > 0) await flushNow();
    },
  };
}

function rowCount(batch: Map<number, HourCounts>): number {
  let rows = 0;
  for (const { keys } of batch.values()) rows += keys.size;
  return rows;
}

/** Each key's latest request in the batch, for api_keys.last_used_at. */
function latestUse(batch: Map<number, HourCounts>): Map<string, number> {
  const latest = new Map<string, number>();
  for (const { keys } of batch.values()) {
    for (const [keyId, { lastUsedAt }] of keys) latest.set(keyId, Math.max(lastUsedAt, latest.get(keyId) ?? 0));
  }
  return latest;
}
