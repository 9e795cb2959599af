import { Redis } from "ioredis";
import type { Logger } from "../logger.ts";

/**
 * Redis for shared rate limits. Commands fail fast while it is down (no offline queue), and the
 * limiters then fall back to per-instance memory, so requests neither fail nor hang.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported) logger.warn({ err: { message: error.message } }, "Redis unreachable: rate limits fall back to this instance's memory");
    reported = true;
  });
  redis.on("ready", () => {
    if (reported) logger.info("Redis reachable again: rate limits are shared");
    reported = false;
  });
  return redis;
}

/** Closes politely, or at once when Redis is not there to say goodbye to. */
export async function disconnectRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
