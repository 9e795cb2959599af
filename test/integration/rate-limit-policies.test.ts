// SPEC §7 per-key rate limits over time: each distinct policy (limit / window) needs a limiter,
// and users choose policies (updateApiKey), so the limiters held are bounded (an LRU). What
// dropping one costs depends on the store; both behaviours are the documented ones.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyRateLimiter, type KeyRateLimiter } from "../../src/limits/rate-limit.ts";

const redisUrl = process.env.TEST_REDIS_URL;
const stores = ["memory", ...(redisUrl ? ["redis"] : [])] as const;
const MAX = 50;
const DEFAULT = { limit: 1000, windowSeconds: 60 };

describe.each(stores)("rate-limit policies counted in %s", (store) => {
  let redis: Redis | undefined;
  beforeAll(async () => {
    if (store !== "redis") return;
    redis = new Redis(redisUrl!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => redis!.once("ready", resolve));
  });
  afterAll(async () => {
    await redis?.quit();
  });
  const limiter = (): KeyRateLimiter => createKeyRateLimiter({ redis, defaultPolicy: DEFAULT, maxPolicies: MAX });

  /** Requests on keys of `count` other policies, each once (windows of an hour: nothing expires). */
  async function useOtherPolicies(rl: KeyRateLimiter, count: number): Promise<void> {
    const base = 10_000 + Math.floor(Math.random() * 100_000);
    for (let i = 0; i < count; i++) await rl.consume(randomUUID(), { limit: base + i, windowSeconds: 3600 });
  }

  it(`holds at most ${MAX} limiters, however many distinct policies are used`, async () => {
    const rl = limiter();
    await useOtherPolicies(rl, MAX * 20);
    expect(rl.policiesHeld).toBe(MAX);
    await rl.consume(randomUUID(), null); // the server default is one more policy like any other
    expect(rl.policiesHeld).toBe(MAX);
  });

  it("a policy in use keeps its count while fewer than the bound of other policies are used since", async () => {
    const rl = limiter();
    const key = randomUUID();
    const policy = { limit: 3, windowSeconds: 3600 };
    for (let i = 0; i < 3; i++) expect((await rl.consume(key, policy)).allowed).toBe(true);
    await useOtherPolicies(rl, MAX - 1);
    expect(await rl.consume(key, policy)).toMatchObject({ allowed: false, remaining: 0 });
  });

  // The trade-off, as documented in rate-limit.ts and the README.
  it(store === "redis"
    ? "a policy pushed out by more than the bound of others keeps its count: it lives in Redis"
    : "a policy pushed out by more than the bound of others starts its keys on a fresh window: the count lived in the dropped limiter", async () => {
    const rl = limiter();
    const key = randomUUID();
    const policy = { limit: 3, windowSeconds: 3600 };
    for (let i = 0; i < 3; i++) await rl.consume(key, policy);
    await useOtherPolicies(rl, MAX + 1);
    expect((await rl.consume(key, policy)).allowed).toBe(store === "memory");
  });
});
