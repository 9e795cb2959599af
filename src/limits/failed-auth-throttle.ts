import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { RateLimiterRes } from "rate-limiter-flexible";
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
 *
 * A check that must ask the key store counts as a failure *before* it asks (`reserve`), and gives
 * the failure back when the key turns out valid (`settle`): so however many forged keys arrive
 * at once, at most `policy.limit` of them per window reach the store.
 */
export function createFailedAuthThrottle(options: FailedAuthThrottleOptions) {
  const { limit } = options.policy;
  const limiter = createLimiter(options.redis, "ks:fail", limit, options.policy.windowSeconds);
  // Addresses that failed here lately. Only they are looked up, so a good key known to the cache
  // costs no store round trip; with Redis, guesses spread over N instances are still bounded by
  // the shared count, since every guess that needs the key store reserves there first.
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
      if (!res || res.consumedPoints < limit) return 0;
      return waitOf(res);
    },
    /**
     * Before a key-store look-up: counts one failure in advance. Resolves to 0 (go ahead, then
     * `settle`), or to the seconds to wait when the address has no failures left (do not look up).
     */
    async reserve(address: string): Promise<number> {
      try {
        await limiter.consume(address, 1);
        return 0;
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        suspects.set(address, true);
        return waitOf(refusal);
      }
    },
    /** After the look-up a reservation allowed: a valid key gives its failure back; an invalid one keeps it. */
    async settle(address: string, failed: boolean): Promise<void> {
      if (failed) suspects.set(address, true);
      else await limiter.reward(address, 1);
    },
    /** A failure found without asking the store (malformed, ambiguous, cached as revoked…). */
    async recordFailure(address: string): Promise<void> {
      suspects.set(address, true);
      await limiter.penalty(address, 1);
    },
  };
}

const waitOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));
