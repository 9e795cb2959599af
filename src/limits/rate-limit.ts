import type { Redis } from "ioredis";
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
}

export type KeyRateLimiter = ReturnType<typeof createKeyRateLimiter>;

/**
 * Per-key fixed-window limits (rate-limiter-flexible). With Redis, every instance shares one
 * count; if Redis fails, each instance falls back to its own in-memory count (insurance limiter)
 * instead of failing or hanging requests.
 */
export function createKeyRateLimiter(options: KeyRateLimiterOptions) {
  // One limiter per distinct policy: per-key overrides are few.
  const limiters = new Map<string, RateLimiterAbstract>();

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
