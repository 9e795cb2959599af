import { and, asc, eq, gte, lt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { keyUsage } from "../db/schema/index.ts";
import { InputError } from "../errors.ts";

const HOUR = 3_600_000;
/** @default the last 24 hours */
const DEFAULT_SPAN = 24 * HOUR;
const MAX_BUCKETS = 31 * 24;

export interface UsageBucket {
  start: Date;
  requests: number;
  rejected: number;
}

/**
 * Hourly buckets from the hour holding `since` up to the one holding `until`, oldest first,
 * hours without traffic included as zeros. Counts reach the database every few seconds.
 */
export async function usageBuckets(db: Db, keyId: string, since: Date | null | undefined, until: Date | null | undefined, now: number): Promise<UsageBucket[]> {
  const { start, end } = bucketRange(since, until, now);
  const rows = await db
    .select()
    .from(keyUsage)
    .where(and(eq(keyUsage.keyId, keyId), gte(keyUsage.hour, new Date(start)), lt(keyUsage.hour, new Date(end + HOUR))))
    .orderBy(asc(keyUsage.hour));
  const byHour = new Map(rows.map((r) => [r.hour.getTime(), r]));
  const buckets: UsageBucket[] = [];
  for (let hour = start; hour <= end; hour += HOUR) {
    const row = byHour.get(hour);
    buckets.push({ start: new Date(hour), requests: row?.requests ?? 0, rejected: row?.rejected ?? 0 });
  }
  return buckets;
}

/**
 * How many buckets usageBuckets answers for this range: what the query cost limit counts for
 * ApiKey.usage. A range it would refuse counts as the most it may answer.
 */
export function usageBucketCount(since: Date | null | undefined, until: Date | null | undefined, now: number): number {
  try {
    const { start, end } = bucketRange(since, until, now);
    return (end - start) / HOUR + 1;
  } catch {
    return MAX_BUCKETS;
  }
}

/** The first and last hour of a range; the last 24 hours by default, at most 31 days. */
function bucketRange(since: Date | null | undefined, until: Date | null | undefined, now: number): { start: number; end: number } {
  const end = floorHour((until ?? new Date(now)).getTime());
  const start = floorHour((since ?? new Date(end - DEFAULT_SPAN + HOUR)).getTime());
  if (start > end) throw new InputError("since", "since must not be after until.");
  if ((end - start) / HOUR + 1 > MAX_BUCKETS) throw new InputError("since", `At most ${MAX_BUCKETS} hours (31 days) at a time.`);
  return { start, end };
}

const floorHour = (ms: number) => ms - (((ms % HOUR) + HOUR) % HOUR);
