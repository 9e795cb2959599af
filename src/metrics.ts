import type { GuardReason, KeyFailureReason } from "./errors.ts";

/**
 * How a request's key check ended: `OK`, or the reason of SPEC §4. `KEY_MISSING`: the request
 * carried no key at all (the fields refused for it are counted by `fieldRefused`).
 */
export type KeyCheckOutcome = "OK" | "KEY_MISSING" | KeyFailureReason | "KEY_STORE_UNAVAILABLE";

export const KEY_CHECK_OUTCOMES: readonly KeyCheckOutcome[] = [
  "OK", "KEY_MISSING", "KEY_MALFORMED", "KEY_INVALID", "KEY_EXPIRED", "KEY_REVOKED", "KEY_DISABLED", "AMBIGUOUS_KEY", "KEY_STORE_UNAVAILABLE",
];

/**
 * What decided a key check: the request alone (no key, a malformed or ambiguous one), the key
 * the same connection sent last, the key cache, the database, or a stale cache entry while the
 * database could not be reached.
 */
export type KeyCheckSource = "none" | "connection" | "cache" | "database" | "stale_cache";

export const KEY_CHECK_SOURCES: readonly KeyCheckSource[] = ["none", "connection", "cache", "database", "stale_cache"];

/** Why entries left the key cache: pushed out by newer ones, or evicted after a change. */
export type CacheEvictionCause = "size" | "change";

/** One usage flush that had something to write. */
export interface UsageFlush {
  seconds: number;
  /** Key-hour rows written (or, on failure, kept for the next flush). */
  rows: number;
  ok: boolean;
}

/** Values read when metrics are scraped; the core hands them over once. */
export interface ObservedGauges {
  /** Credentials in the key cache. */
  cacheEntries(): number;
  /** Requests counted for usage and not yet written. */
  usagePending(): number;
}

/**
 * What Keyscope tells its metrics as requests pass. Every part that counts something takes a
 * `Metrics`; `noopMetrics` is the default, so a part works the same with metrics off. Labels are
 * bounded: never a key, a key id or a client address. Calls on the request path must stay cheap.
 */
export interface Metrics {
  /** The directive refused a field. */
  fieldRefused(reason: GuardReason): void;
  /** A request's key was checked (once per request that reached the check). */
  keyChecked(outcome: KeyCheckOutcome, source: KeyCheckSource): void;
  /** One credential look-up in the database took `seconds`. */
  keyLookedUp(seconds: number): void;
  cacheEvicted(cause: CacheEvictionCause, entries: number): void;
  /** A cache invalidation arrived over LISTEN/NOTIFY (from any instance, this one included). */
  cacheChangeHeard(kind: "key" | "user"): void;
  /** A key over its rate limit was refused (429). */
  rateLimited(): void;
  /** An address past its failed key checks was refused (429). */
  throttled(): void;
  usageFlushed(flush: UsageFlush): void;
  /** An HTTP request on the public port was answered. */
  httpRequest(status: number, seconds: number): void;
  /** Gauges to read at scrape time; a later call replaces an earlier one. */
  observe(gauges: ObservedGauges): void;
  /** The Prometheus text for `GET /metrics`; absent: there is nothing to serve. */
  readonly exposition?: () => Promise<{ contentType: string; body: string }>;
}

const nothing = () => {};

/** Counts nothing. */
export const noopMetrics: Metrics = Object.freeze({
  fieldRefused: nothing,
  keyChecked: nothing,
  keyLookedUp: nothing,
  cacheEvicted: nothing,
  cacheChangeHeard: nothing,
  rateLimited: nothing,
  throttled: nothing,
  usageFlushed: nothing,
  httpRequest: nothing,
  observe: nothing,
});
