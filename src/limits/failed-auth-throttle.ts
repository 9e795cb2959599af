import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { RateLimitPolicy } from "./rate-limit.ts";
import { createLimiter } from "./rate-limit.ts";

export interface FailedAuthThrottleOptions {
  redis?: Redis | undefined;
  /** Failed key checks one address may make per window. @default 20 per 60 s */
  policy: RateLimitPolicy;
}

export type FailedAuthThrottle = ReturnType<typeof createFailedAuthThrottle>;

/**
 * Counts failed key checks per client address. Past the threshold, that address's key-bearing
 * requests get 429 until the window ends: guessing keys stops paying.
 */
export function createFailedAuthThrottle(options: FailedAuthThrottleOptions) {
  const limiter = createLimiter(options.redis, "ks:fail", options.policy.limit, options.policy.windowSeconds);
  // Addresses that failed here lately. Only they are looked up, so a good key costs no store
  // round trip; with Redis, guesses spread over N instances gain at most N more before 429.
  const suspects = new LRUCache<string, true>({ max: 100_000, ttl: options.policy.windowSeconds * 1000 });
  return {
    /** Whether the address must be looked up at all (it failed on this instance in the window). */
    isSuspect(address: string): boolean {
      return suspects.has(address);
    },
    /** Seconds to wait when the address is blocked, else 0. */
    async retryAfter(address: string): Promise<number> {
      if (!suspects.has(address)) return 0;
      const res = await limiter.get(address);
      if (!res || res.consumedPoints < options.policy.limit) return 0;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    },
    async recordFailure(address: string): Promise<void> {
      suspects.set(address, true);
      await limiter.penalty(address, 1);
    },
  };
}
