import type { Redis } from "ioredis";
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
  return {
    /** Seconds to wait when the address is blocked, else 0. */
    async retryAfter(address: string): Promise<number> {
      const res = await limiter.get(address);
      if (!res || res.consumedPoints < options.policy.limit) return 0;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    },
    async recordFailure(address: string): Promise<void> {
      await limiter.penalty(address, 1);
    },
  };
}
