import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

export interface RateLimitPolicy {
  limit: number;
  windowSeconds: number;
}

/** One request's standing against its key's limit; becomes the RateLimit-* headers. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (and, when refused, until a retry can succeed). */
  resetSeconds: number;
}

export interface KeyRateLimiterOptions {
  /** Shared counts across instances; without it, counts are per instance. */
  redis?: Redis | undefined;
  defaultPolicy: RateLimitPolicy;
  /** Distinct policies (limit / window) held at once; the least recently used goes first. @default 1000 */
  maxPolicies?: number;
}

/** A limiter holds some 0.4 KB (memory) to 1 KB (Redis, with its insurance): a thousand, about 1 MB. */
export const DEFAULT_MAX_POLICIES = 1000;

export type KeyRateLimiter = ReturnType<typeof createKeyRateLimiter>;

/**
 * Per-key fixed-window limits (rate-limiter-flexible). With Redis, every instance shares one
 * count; if Redis fails, each instance falls back to its own in-memory count (insurance limiter)
 * instead of failing or hanging requests.
 *
 * One limiter per distinct policy, at most `maxPolicies` of them (an LRU): policies are set by
 * updateApiKey, so their number is the users' to choose, and each limiter holds memory. What
 * dropping one means depends on the store. With Redis the counts live in Redis under the
 * policy's prefix: a limiter made again finds them, nothing is lost (only the insurance counts
 * kept while Redis is down). In memory the counts live in the limiter: dropping a policy unused
 * for longer than its window loses nothing (its counts have expired), but dropping one still in
 * use gives its keys a fresh window — which needs more than `maxPolicies` policies used more
 * recently, i.e. at least that many requests on keys with other policies.
 */
export function createKeyRateLimiter(options: KeyRateLimiterOptions) {
  const limiters = new LRUCache<string, RateLimiterAbstract>({ max: options.maxPolicies ?? DEFAULT_MAX_POLICIES });

  function limiterFor(policy: RateLimitPolicy): RateLimiterAbstract {
    const id = `${policy.limit}/${policy.windowSeconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = createLimiter(options.redis, `ks:rl:${id}`, policy.limit, policy.windowSeconds);
      limiters.set(id, limiter);
    }
    return limiter;
  }

  return {
    /** How many policies have a limiter now (at most `maxPolicies`). */
    get policiesHeld(): number {
      return limiters.size;
    },

    consume(keyId: string, policy: RateLimitPolicy | null): Promise<RateDecision> {
      const chosen = policy ?? options.defaultPolicy;
      const { limit } = chosen;
      return limiterFor(chosen)
        .consume(keyId)
        .then(
          (res): RateDecision => ({ allowed: true, limit, remaining: res.remainingPoints, resetSeconds: seconds(res.msBeforeNext) }),
          (refusal: unknown): RateDecision => {
            if (!(refusal instanceof RateLimiterRes)) throw refusal;
            return { allowed: false, limit, remaining: 0, resetSeconds: seconds(refusal.msBeforeNext) };
          },
        );
    },
  };
}

/** A memory limiter, or a Redis one insured by a memory limiter of the same policy. */
export function createLimiter(redis: Redis | undefined, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  // Each memory limiter has its own store, so it needs no prefix; without one, the key id is
  // looked up as it is instead of as a new string built per request.
  const memory = new RateLimiterMemory({ keyPrefix: "", points, duration });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
