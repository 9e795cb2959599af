import type { RateLimitPolicy } from "../limits/rate-limit.ts";

/**
 * What a key holds, in each dimension in which one key can hold more than another (SPEC §6 "No
 * escalation"), and whether one key's holding is within another's. Pure: the permissions
 * (key-permissions.ts) decide with these who may give or manage what.
 */

/** Scopes of `candidate` that `held` lacks, in order. */
export function scopesBeyond(candidate: readonly string[], held: ReadonlySet<string>): string[] {
  return candidate.filter((scope) => !held.has(scope));
}

/** Whether a key expiring at `candidate` (epoch ms; null: never) dies no later than `bound`. */
export function expiresWithin(candidate: number | null, bound: number | null): boolean {
  return bound === null || (candidate !== null && candidate <= bound);
}

/**
 * Whether a rate limit allows no more than `bound` over every span of time: a limit no higher
 * and a window no shorter. Limits are fixed windows (a window opens at a key's first request),
 * so over any span of T seconds a policy allows up to limit × (⌈T / window⌉ + 1) requests.
 *
 * Comparing requests per second (limit / window) alone can be gamed: 10 / 60 s → 1000 / 6000 s
 * has the same rate, but allows 1000 requests in a burst (2000 across a window boundary) where
 * the calling key allows 20. Even "rate no higher and limit no higher" can: 9 / 54 s allows 27
 * requests in a 60-second span, 10 / 60 s only 20. Limit ≤ and window ≥ is the simple rule that
 * bounds every span; it refuses some harmless policies with shorter windows (10 / 1 s under
 * 1000 / 60 s), which an admin can still set.
 */
export function rateLimitWithin(candidate: RateLimitPolicy, bound: RateLimitPolicy): boolean {
  return candidate.limit <= bound.limit && candidate.windowSeconds >= bound.windowSeconds;
}

/** A key's effective limit: its own, or the server default. */
export function effectiveRateLimit(own: RateLimitPolicy | null, serverDefault: RateLimitPolicy): RateLimitPolicy {
  return own ?? serverDefault;
}

/** The row's rate-limit columns as a policy (both null: the server default). */
export function rateLimitOfRow(row: { rateLimitLimit: number | null; rateLimitWindowSeconds: number | null }): RateLimitPolicy | null {
  return row.rateLimitLimit !== null && row.rateLimitWindowSeconds !== null ? { limit: row.rateLimitLimit, windowSeconds: row.rateLimitWindowSeconds } : null;
}

/** "10 requests per 60 s", for messages. */
export function describeRateLimit(policy: RateLimitPolicy): string {
  return `${policy.limit} request${policy.limit === 1 ? "" : "s"} per ${policy.windowSeconds} s`;
}
