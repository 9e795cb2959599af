import { beforeEach, describe, expect, it } from "vitest";
import type { Credential } from "../../src/auth/credential.ts";
import { KeyCache } from "../../src/auth/key-cache.ts";
import { judge, type Verification } from "../../src/auth/verify-key.ts";

function credential(overrides: Partial<Credential> = {}): Credential {
  return {
    keyId: "key-1",
    secretId: "secret-1",
    userId: "user-1",
    clientType: "mobile",
    scopes: ["orders:read"],
    active: true,
    expiresAt: null,
    revokedAt: null,
    secretExpiresAt: null,
    ownerRole: "MEMBER",
    ownerDisabled: false,
    rateLimit: null,
    ...overrides,
  };
}

/** The cache judges lifetimes with its clock: this one moves only when told. */
let now: number;
const clock = { now: () => now };
function advance(ms: number): void {
  now += ms;
}

describe("KeyCache", () => {
  beforeEach(() => {
    now = 1_000_000;
  });

  it("misses an unknown hash and returns what was set", () => {
    const cache = new KeyCache({ ttlSeconds: 30, maxEntries: 10, clock });
    const one = credential();
    const two = credential({ keyId: "key-2" });
    expect(cache.get("hash-1")).toBeUndefined();
    expect(cache.getEvenIfStale("hash-1")).toBeUndefined();
    cache.set("hash-1", one);
    cache.set("hash-2", two);
    expect(cache.get("hash-1")).toBe(one);
    expect(cache.get("hash-2")).toBe(two);
    expect(cache.getEvenIfStale("hash-1")).toBe(one);
    expect(cache.get("hash-3")).toBeUndefined();
  });

  it("replaces the credential of a hash that is set again", () => {
    const cache = new KeyCache({ ttlSeconds: 30, maxEntries: 10, clock });
    cache.set("hash-1", credential());
    const updated = credential({ active: false });
    cache.set("hash-1", updated);
    expect(cache.get("hash-1")).toBe(updated);
  });

  it("serves an entry for its lifetime, then only to getEvenIfStale", () => {
    const cache = new KeyCache({ ttlSeconds: 30, maxEntries: 10, clock });
    const one = credential();
    cache.set("hash-1", one);

    advance(30_000);
    expect(cache.get("hash-1")).toBe(one);

    advance(1);
    expect(cache.get("hash-1")).toBeUndefined();
    expect(cache.getEvenIfStale("hash-1")).toBe(one);
    // Neither look-up dropped or refreshed it.
    expect(cache.get("hash-1")).toBeUndefined();
    expect(cache.getEvenIfStale("hash-1")).toBe(one);

    advance(3_600_000);
    expect(cache.getEvenIfStale("hash-1")).toBe(one);
  });

  it("starts a new lifetime when an entry is set again", () => {
    const cache = new KeyCache({ ttlSeconds: 1, maxEntries: 10, clock });
    const one = credential();
    cache.set("hash-1", one);
    advance(1_500);
    expect(cache.get("hash-1")).toBeUndefined();
    cache.set("hash-1", one);
    expect(cache.get("hash-1")).toBe(one);
    advance(999);
    expect(cache.get("hash-1")).toBe(one);
  });

  it("does not extend a lifetime on reading", () => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 10, clock });
    cache.set("hash-1", credential());
    for (let i = 0; i < 5; i++) {
      advance(2_000);
      expect(cache.get("hash-1")).toBeDefined();
    }
    advance(1);
    expect(cache.get("hash-1")).toBeUndefined();
  });

  it("evictKey drops every secret of that key, fresh and stale, and nothing else", () => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 100, clock });
    const oldSecret = credential({ keyId: "key-1", secretExpiresAt: now + 60_000 });
    cache.set("old-secret", oldSecret);
    const otherKeyStale = credential({ keyId: "key-2" });
    cache.set("key-2-stale", otherKeyStale);
    advance(10_001); // both stale now
    const newSecret = credential({ keyId: "key-1" });
    const otherKey = credential({ keyId: "key-2" });
    const otherUser = credential({ keyId: "key-3", userId: "user-2" });
    cache.set("new-secret", newSecret);
    cache.set("key-2", otherKey);
    cache.set("key-3", otherUser);
    expect(cache.getEvenIfStale("old-secret")).toBe(oldSecret);

    cache.evictKey("key-1");

    expect(cache.get("new-secret")).toBeUndefined();
    expect(cache.getEvenIfStale("new-secret")).toBeUndefined();
    // A stale entry must go too, or an outage would bring the revoked key back.
    expect(cache.getEvenIfStale("old-secret")).toBeUndefined();
    expect(cache.get("key-2")).toBe(otherKey);
    expect(cache.get("key-3")).toBe(otherUser);
    expect(cache.getEvenIfStale("key-2-stale")).toBe(otherKeyStale);
  });

  it("evictUser drops every key of that user, fresh and stale, and nothing else", () => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 100, clock });
    const staleOfUser = credential({ keyId: "key-1", userId: "user-1" });
    const staleOfOther = credential({ keyId: "key-9", userId: "user-2" });
    cache.set("stale-1", staleOfUser);
    cache.set("stale-9", staleOfOther);
    advance(10_001);
    const fresh = [credential({ keyId: "key-1" }), credential({ keyId: "key-2" }), credential({ keyId: "key-3" })];
    fresh.forEach((c, i) => cache.set(`fresh-${i}`, c));
    const other = credential({ keyId: "key-4", userId: "user-2" });
    cache.set("other", other);

    cache.evictUser("user-1");

    for (const hash of ["stale-1", "fresh-0", "fresh-1", "fresh-2"]) {
      expect(cache.getEvenIfStale(hash), hash).toBeUndefined();
    }
    expect(cache.get("other")).toBe(other);
    expect(cache.getEvenIfStale("stale-9")).toBe(staleOfOther);
  });

  it("evicting an unknown key or user changes nothing", () => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 10, clock });
    const one = credential();
    cache.set("hash-1", one);
    cache.evictKey("key-unknown");
    cache.evictUser("user-unknown");
    // A user id that happens to equal a key id is not confused with it.
    cache.evictUser("key-1");
    cache.evictKey("user-1");
    expect(cache.get("hash-1")).toBe(one);
  });

  it("holds at most maxEntries, dropping the least recently used", () => {
    const cache = new KeyCache({ ttlSeconds: 30, maxEntries: 3, clock });
    const entries = ["a", "b", "c", "d"].map((id) => credential({ keyId: id }));
    cache.set("a", entries[0]!);
    cache.set("b", entries[1]!);
    cache.set("c", entries[2]!);
    expect(cache.get("a")).toBe(entries[0]); // a is now the most recently used
    cache.set("d", entries[3]!);
    expect(cache.getEvenIfStale("b")).toBeUndefined();
    expect(cache.get("a")).toBe(entries[0]);
    expect(cache.get("c")).toBe(entries[2]);
    expect(cache.get("d")).toBe(entries[3]);
  });

  it("clear drops everything, stale entries included", () => {
    const cache = new KeyCache({ ttlSeconds: 1, maxEntries: 10, clock });
    cache.set("stale", credential());
    advance(1_001);
    cache.set("fresh", credential({ keyId: "key-2" }));
    cache.clear();
    expect(cache.getEvenIfStale("stale")).toBeUndefined();
    expect(cache.getEvenIfStale("fresh")).toBeUndefined();
  });
});

describe("KeyCache entries read earlier (isCurrent)", () => {
  beforeEach(() => {
    now = 1_000_000;
  });

  it("holds while nothing is evicted and the entry is fresh", () => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 10, clock });
    cache.set("hash-1", credential());
    const generation = cache.generation;
    const entry = cache.getEntry("hash-1")!;
    expect(entry.credential.keyId).toBe("key-1");
    expect(cache.isCurrent(entry, generation, now)).toBe(true);
    // Adding other entries evicts nothing.
    cache.set("hash-2", credential({ keyId: "key-2" }));
    expect(cache.isCurrent(entry, generation, now + 10_000)).toBe(true);
    expect(cache.isCurrent(entry, generation, now + 10_001)).toBe(false);
  });

  it.each([
    ["evictKey of that key", (c: KeyCache) => c.evictKey("key-1")],
    ["evictKey of another key", (c: KeyCache) => c.evictKey("key-2")],
    ["evictKey of an unknown key", (c: KeyCache) => c.evictKey("key-unknown")],
    ["evictUser", (c: KeyCache) => c.evictUser("user-2")],
    ["clear", (c: KeyCache) => c.clear()],
  ])("no longer holds after %s", (_name, evict) => {
    const cache = new KeyCache({ ttlSeconds: 10, maxEntries: 10, clock });
    cache.set("hash-1", credential());
    cache.set("hash-2", credential({ keyId: "key-2", userId: "user-2" }));
    const generation = cache.generation;
    const entry = cache.getEntry("hash-1")!;
    evict(cache);
    expect(cache.isCurrent(entry, generation, now)).toBe(false);
  });

  it("getEntry returns no stale entry", () => {
    const cache = new KeyCache({ ttlSeconds: 1, maxEntries: 10, clock });
    cache.set("hash-1", credential());
    expect(cache.getEntry("hash-1", now + 1_000)).toBeDefined();
    expect(cache.getEntry("hash-1", now + 1_001)).toBeUndefined();
    expect(cache.getEntry("hash-unknown")).toBeUndefined();
  });
});

describe("judge", () => {
  const NOW = Date.UTC(2030, 0, 1);
  const ok = (overrides: Partial<Credential> = {}): Verification => judge(credential(overrides), NOW);
  const failure = (reason: string) => ({ ok: false, reason });

  it("accepts a working credential and says who is calling", () => {
    const rateLimit = { limit: 10, windowSeconds: 60 };
    expect(judge(credential({ keyId: "key-7", userId: "user-7", clientType: "partner", scopes: ["a", "b"], rateLimit }), NOW)).toEqual({
      ok: true,
      key: { id: "key-7", secretId: "secret-1", userId: "user-7", clientType: "partner", scopes: new Set(["a", "b"]), ownerRole: "MEMBER", rateLimit },
    });
  });

  it("refuses a revoked key from the moment of revocation", () => {
    expect(ok({ revokedAt: NOW })).toEqual(failure("KEY_REVOKED"));
    expect(ok({ revokedAt: NOW - 86_400_000 })).toEqual(failure("KEY_REVOKED"));
    expect(ok({ revokedAt: NOW + 1 })).toMatchObject({ ok: true });
  });

  it("refuses an old secret once its rotation's grace period is over, as revoked", () => {
    expect(ok({ secretExpiresAt: NOW })).toEqual(failure("KEY_REVOKED"));
    expect(ok({ secretExpiresAt: NOW - 1 })).toEqual(failure("KEY_REVOKED"));
    expect(ok({ secretExpiresAt: NOW + 1 })).toMatchObject({ ok: true });
  });

  it("refuses a key from the moment it expires, and not a millisecond before", () => {
    expect(ok({ expiresAt: NOW })).toEqual(failure("KEY_EXPIRED"));
    expect(ok({ expiresAt: NOW - 1 })).toEqual(failure("KEY_EXPIRED"));
    expect(ok({ expiresAt: NOW + 1 })).toMatchObject({ ok: true, key: { id: "key-1" } });
  });

  it("refuses an inactive key and a key whose owner is disabled", () => {
    expect(ok({ active: false })).toEqual(failure("KEY_DISABLED"));
    expect(ok({ ownerDisabled: true })).toEqual(failure("KEY_DISABLED"));
    expect(ok({ ownerDisabled: true, ownerRole: "ADMIN" })).toEqual(failure("KEY_DISABLED"));
  });

  it("reports revocation first, then expiry, then the switch", () => {
    const everything = { revokedAt: NOW - 1, secretExpiresAt: NOW - 1, expiresAt: NOW - 1, active: false, ownerDisabled: true };
    expect(ok(everything)).toEqual(failure("KEY_REVOKED"));
    expect(ok({ ...everything, revokedAt: null })).toEqual(failure("KEY_REVOKED"));
    expect(ok({ ...everything, revokedAt: null, secretExpiresAt: null })).toEqual(failure("KEY_EXPIRED"));
    expect(ok({ ...everything, revokedAt: null, secretExpiresAt: null, expiresAt: null })).toEqual(failure("KEY_DISABLED"));
  });

  it("drops keys:admin while the owner is a MEMBER", () => {
    const result = ok({ ownerRole: "MEMBER", scopes: ["keys:admin", "keys:self", "orders:read"] });
    expect(result).toEqual({
      ok: true,
      key: expect.objectContaining({ ownerRole: "MEMBER", scopes: new Set(["keys:self", "orders:read"]) }),
    });
  });

  it("keeps keys:admin while the owner is an ADMIN", () => {
    const result = ok({ ownerRole: "ADMIN", scopes: ["keys:admin", "keys:self"] });
    expect(result).toEqual({
      ok: true,
      key: expect.objectContaining({ ownerRole: "ADMIN", scopes: new Set(["keys:admin", "keys:self"]) }),
    });
  });

  it("leaves the cached credential as it was", () => {
    const cached = credential({ scopes: ["keys:admin", "keys:self"] });
    const snapshot = structuredClone(cached);
    judge(cached, NOW);
    judge(cached, NOW);
    expect(cached).toEqual(snapshot);
    const first = judge(cached, NOW);
    const second = judge(cached, NOW);
    // Built once per cached credential (the hot path), and the same answer each time.
    expect(first.ok && second.ok && first.key === second.key).toBe(true);
    expect(first.ok && [...first.key.scopes]).toEqual(["keys:self"]);
  });
});
