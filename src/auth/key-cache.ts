import { LRUCache } from "lru-cache";
import type { Credential } from "./credential.ts";

export interface KeyCacheOptions {
  /** @default 30 */
  ttlSeconds: number;
  /** @default 10000 */
  maxEntries: number;
}

/**
 * Credentials by secret hash: bounded, with a lifetime. Stale entries are kept (not served) so
 * that a key known before the database went away still works while it is away.
 */
export class KeyCache {
  readonly #entries: LRUCache<string, Credential>;

  constructor(options: KeyCacheOptions) {
    this.#entries = new LRUCache({
      max: options.maxEntries,
      ttl: options.ttlSeconds * 1000,
      allowStale: false,
      noDeleteOnStaleGet: true,
    });
  }

  get(hash: string): Credential | undefined {
    return this.#entries.get(hash);
  }

  /** Fresh or stale: only for when the database cannot be asked. */
  getEvenIfStale(hash: string): Credential | undefined {
    return this.#entries.get(hash, { allowStale: true });
  }

  set(hash: string, credential: Credential): void {
    this.#entries.set(hash, credential);
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
    this.#entries.clear();
  }

  // Management actions are rare next to look-ups; a scan keeps the cache a plain LRU. Stale
  // entries go too, or an outage would bring them back: `keys()` skips stale entries (the cache
  // does not allow stale), `dump()` does not.
  #evictWhere(matches: (c: Credential) => boolean): void {
    for (const [hash, { value }] of this.#entries.dump()) {
      if (matches(value)) this.#entries.delete(hash);
    }
  }
}
