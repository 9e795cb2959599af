// SPEC §7 "Failed key checks are throttled per client address", under a storm: many forged keys
// at once from one address must not reach the key store more than the throttle's limit, because
// a failure is counted (reserved) before the look-up, not after it. Real HTTP, real databases,
// real Redis when TEST_REDIS_URL is set.
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import type { HttpResponse } from "../helpers/http.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

// The counter: every hash the verifier's one store look-up is asked for (it takes a turn's misses
// at once), the real function underneath (a wrapper that counts, not a mock: the query still
// runs against the database).
const lookUps = vi.hoisted(() => ({ count: 0 }));
vi.mock("../../src/keys/key-repository.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/keys/key-repository.ts")>();
  return {
    ...real,
    findCredentialsByHashes: (...args: Parameters<typeof real.findCredentialsByHashes>) => {
      lookUps.count += args[1].length;
      return real.findCredentialsByHashes(...args);
    },
  };
});

const LIMIT = 20;
const STORM = 400;
const redisUrl = process.env.TEST_REDIS_URL;
const stores = ["memory", ...(redisUrl ? ["redis"] : [])] as const;

describe.each(databaseKinds)("a storm of forged keys on %s", (kind) => {
  describe.each(stores)("failures counted in %s", (store) => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer(kind, {
        limits: { failedAuth: { limit: LIMIT, windowSeconds: 60 }, rateLimit: { limit: 100_000, windowSeconds: 60 } },
        trustProxyHops: 1,
        ...(store === "redis" ? { redisUrl } : {}),
      });
      if (store === "redis") await ready(server);
    });
    afterAll(() => server?.close());

    const from = (address: string): [string, string] => ["x-forwarded-for", address];

    it(`${STORM} simultaneous forged keys from one address: at most ${LIMIT} reach the store, the rest get 429 without a look-up`, async () => {
      const attacker = randomAddress();
      const before = lookUps.count;
      const answers = await Promise.all(
        Array.from({ length: STORM }, () => server.query("{ __typename }", [apiKey(generateKey("ks")), from(attacker)])),
      );
      const reached = lookUps.count - before;
      const statuses = tally(answers);
      console.info(`${kind}/${store}: ${reached} of ${STORM} forged keys reached the store; answers ${JSON.stringify(statuses)}`);
      expect(reached).toBeLessThanOrEqual(LIMIT);
      // Not vacuous: the limit's worth were looked up and refused as unknown, the rest throttled.
      expect(reached).toBe(LIMIT);
      expect(statuses).toEqual({ 401: LIMIT, 429: STORM - LIMIT });
      for (const res of answers) {
        if (res.status === 401) expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_INVALID" });
        else expect(res.json.errors[0].extensions).toEqual({ code: "RATE_LIMITED", reason: "TOO_MANY_FAILED_ATTEMPTS" });
      }
    });

    it("after the storm, a valid key from that address is refused as designed (429, no look-up); from elsewhere it works", async () => {
      const attacker = randomAddress();
      await Promise.all(Array.from({ length: LIMIT * 3 }, () => server.query("{ __typename }", [apiKey(generateKey("ks")), from(attacker)])));
      const cold = await issue(server);
      const before = lookUps.count;
      const refused = await server.query("{ __typename }", [apiKey(cold), from(attacker)]);
      expect(refused.status).toBe(429);
      expect(refused.json.errors[0].extensions).toEqual({ code: "RATE_LIMITED", reason: "TOO_MANY_FAILED_ATTEMPTS" });
      expect(lookUps.count).toBe(before);
      const elsewhere = await server.query("{ __typename }", [apiKey(cold), from(randomAddress())]);
      expect(elsewhere.json).toEqual({ data: { __typename: "Query" } });
      expect(lookUps.count).toBe(before + 1);
    });

    it("a valid key gives its reserved failure back: more valid cold keys than the limit, one after another, all pass", async () => {
      const address = randomAddress();
      const secrets = await Promise.all(Array.from({ length: LIMIT + 5 }, () => issue(server)));
      for (const secret of secrets) {
        const res = await server.query("{ __typename }", [apiKey(secret), from(address)]);
        expect(res.json).toEqual({ data: { __typename: "Query" } });
      }
      // And the address still has its whole allowance of failures: LIMIT forged keys are 401, the next is 429.
      for (let i = 0; i < LIMIT; i++) expect((await server.query("{ __typename }", [apiKey(generateKey("ks")), from(address)])).status).toBe(401);
      expect((await server.query("{ __typename }", [apiKey(generateKey("ks")), from(address)])).status).toBe(429);
    });

    it("valid keys in the storm's shadow: the limit's worth of simultaneous valid cold keys all pass", async () => {
      const address = randomAddress();
      const secrets = await Promise.all(Array.from({ length: LIMIT }, () => issue(server)));
      const answers = await Promise.all(secrets.map((secret) => server.query("{ __typename }", [apiKey(secret), from(address)])));
      expect(tally(answers)).toEqual({ 200: LIMIT });
    });
  });
});

let issued = 0;
async function issue(server: TestServer): Promise<string> {
  const user = await server.app.users.createUser(CLI_PRINCIPAL, { email: `storm-${++issued}-${randomInt(1e9)}@example.com`, clientTypes: ["mobile"] });
  return (await server.app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "valid", clientType: "mobile" })).secret;
}

function tally(answers: HttpResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of answers) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
}

async function ready(server: TestServer): Promise<void> {
  const redis = server.app.redis!;
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
}

/** Random, so that Redis counts left by an earlier run never meet this one's. */
function randomAddress(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}
