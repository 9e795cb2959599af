import { LRUCache } from "lru-cache";
import { systemClock, type Clock } from "../clock.ts";
import { defaultConfig, withDefaults } from "../config.ts";
import { noopMetrics, type Metrics } from "../metrics.ts";
import type { Credential } from "./credential.ts";

export interface KeyCacheOptions {
  /** @default 30 */
  ttlSeconds?: number;
  /** @default 10000 */
  maxEntries?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Told of entries leaving the cache. @default noopMetrics */
  metrics?: Pick<Metrics, "cacheEvicted">;
}

/** A cached credential and the moment it stops being served (until an outage). */
export interface CacheEntry {
  readonly credential: Credential;
  readonly freshUntil: number;
}

/**
 * Credentials by secret hash: bounded (LRU), with a lifetime. Stale entries are kept (not
 * served) so that a key known before the database went away still works while it is away.
 *
 * The lifetime is judged here, with the clock, rather than by lru-cache's `ttl`: that one
 * costs a timer and a `performance.now()` per read, on every request that carries a key.
 */
export class KeyCache {
  readonly #entries: LRUCache<string, CacheEntry>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #metrics: Pick<Metrics, "cacheEvicted">;
  #generation = 0;

  constructor(options: KeyCacheOptions = {}) {
    const { ttlSeconds, maxEntries } = withDefaults(defaultConfig.cache, options);
    const metrics = (this.#metrics = options.metrics ?? noopMetrics);
    // Called only when an entry leaves: never on a read.
    this.#entries = new LRUCache({ max: maxEntries, disposeAfter: (_entry, _hash, reason) => {
        if (reason === "evict") metrics.cacheEvicted("size", 1);
      },
    });
    this.#ttlMs = ttlSeconds * 1000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Entries held, fresh or stale. */
  get size(): number {
    return this.#entries.size;
  }

  /** How long an entry is served after it was read from the database. */
  get ttlSeconds(): number {
    return this.#ttlMs / 1000;
  }

  get(hash: string): Credential | undefined {
    return this.getEntry(hash)?.credential;
  }

  /** The fresh entry for `hash`, to be checked later with `isCurrent`. */
  getEntry(hash: string, now = this.#clock.now()): CacheEntry | undefined {
    const entry = this.#entries.get(hash);
    return entry && now <= entry.freshUntil ? entry : undefined;
  }

  /** Fresh or stale: only for when the database cannot be asked. */
  getEvenIfStale(hash: string): Credential | undefined {
    return this.#entries.get(hash)?.credential;
  }

  set(hash: string, credential: Credential): void {
    this.#entries.set(hash, { credential, freshUntil: this.#clock.now() + this.#ttlMs });
  }

  /** Changes whenever anything is evicted: an entry read before still holds if it has not. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether an entry read at `generation` may still be served: nothing evicted since, still fresh. */
  isCurrent(entry: CacheEntry, generation: number, now: number): boolean {
    return generation === this.#generation && now <= entry.freshUntil;
  }

  /** Drops every secret of one key (after a revoke, rotate, update…). */
  evictKey(keyId: string): void {
    this.#evictWhere((c) => c.keyId === keyId);
  }

  /** Drops every key of one user (after disabling or demoting them). */
  evictUser(userId: string): void {
    this.#evictWhere((c) => c.userId === userId);
  }

  clear(): void {
    this.#generation++;
    this.#metrics.cacheEvicted("change", this.#entries.size);
    this.#entries.clear();
  }

  // Management actions are rare next to look-ups; a scan keeps the cache a plain LRU. Stale
  // entries go too, or an outage would bring them back.
  #evictWhere(matches: (c: Credential) => boolean): void {
    this.#generation++;
    const doomed = [...this.#entries.entries()].filter(([, entry]) => matches(entry.credential));
    for (const [hash] of doomed) this.#entries.delete(hash);
    if (doomed.length > 0) this.#metrics.cacheEvicted("change", doomed.length);
  }
}
