// SPEC §7 (with §4's 429 row): per-key rate limits, in memory and in Redis, and the throttle on
// failed key checks per client address. Real HTTP, real database, and real Redis when
// TEST_REDIS_URL is set.
import { once } from "node:events";
import { randomInt } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, keySecrets, users } from "../../src/db/schema/index.ts";
import { createKeyscopeServer, type KeyscopeServer, type KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds, type DatabaseKind } from "../helpers/databases.ts";
import { postGraphQL, type HttpResponse } from "../helpers/http.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Store = "memory" | "redis";
const redisUrl = process.env.TEST_REDIS_URL;
const stores: Store[] = ["memory", ...(redisUrl ? (["redis"] as const) : [])];
/** Nothing listens here: Keyscope must carry on without Redis. */
const DEAD_REDIS = "redis://127.0.0.1:6390";
const GENEROUS = { limit: 100_000, windowSeconds: 60 };

describe.each(databaseKinds)("limits on %s", (kind) => {
  describe.each(stores)("counted in %s", (store) => {
    const counter = countingSchema();
    const limits = { rateLimit: { limit: 3, windowSeconds: 60 }, failedAuth: { limit: 3, windowSeconds: 60 } };
    let server: TestServer;
    /** The rate-limit tests' client: an address of its own, so that no failure elsewhere throttles it. */
    let api: Client;
    beforeAll(async () => {
      server = await startLimited(kind, store, counter, { limits, trustProxyHops: 1 });
      api = fromAddress(server, randomAddress());
    });
    afterAll(() => server?.close());

    describe("per-key rate limits", () => {
      it("requests 1-3 pass with RateLimit-* headers; the 4th gets 429, Retry-After, RATE_LIMITED, and no resolver runs", async () => {
        const { secret } = await server.issueKey();
        for (const remaining of [2, 1, 0]) {
          const res = await api.query("{ hits }", [apiKey(secret)]);
          expect(res.status).toBe(200);
          expect(res.json).toEqual({ data: { hits: expect.any(Number) } });
          expectRateHeaders(res, 3, remaining);
        }
        const before = counter.hits();
        const refused = await api.query("{ hello hits }", [apiKey(secret)]);
        expectRateLimited(refused, 3);
        expect(counter.hits()).toBe(before);
        // Still refused, and still nothing runs.
        expectRateLimited(await api.query("{ hits }", [apiKey(secret)]), 3);
        expect(counter.hits()).toBe(before);
      });

      it("a key's own limit, set at creation, takes precedence over the server default", async () => {
        const { secret } = await issueWithLimit(server, { limit: 5, windowSeconds: 60 });
        for (const remaining of [4, 3, 2, 1, 0]) expectRateHeaders(await passes(api, secret), 5, remaining);
        expectRateLimited(await api.query("{ hits }", [apiKey(secret)]), 5);
      });

      it("updateApiKey sets a key's own limit, and explicit rateLimit: null returns it to the server default", async () => {
        const admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES, email: `admin-${randomInt(1e9)}@example.com` });
        const { secret, keyId } = await server.issueKey();
        const update = (rateLimit: unknown) =>
          api.query(
            "mutation($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { rateLimit { limit windowSeconds } } }",
            [apiKey(admin.secret)],
            { id: keyId, input: { rateLimit } },
          );

        const raised = await update({ limit: 5, windowSeconds: 60 });
        expect(raised.json).toEqual({ data: { updateApiKey: { rateLimit: { limit: 5, windowSeconds: 60 } } } });
        expectRateHeaders(await passes(api, secret), 5, 4);
        expectRateHeaders(await passes(api, secret), 5, 3);

        const reset = await update(null);
        expect(reset.json).toEqual({ data: { updateApiKey: { rateLimit: null } } });
        // Back under the default of 3: refused at the latest on the 4th request from here.
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await api.query("{ hits }", [apiKey(secret)]);
          statuses.push(res.status);
          expect(res.headers["ratelimit-limit"]).toBe("3");
        }
        expect(statuses.at(-1)).toBe(429);
        expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
      });

      it("keys are limited independently", async () => {
        const spent = await server.issueKey();
        const fresh = await server.issueKey();
        for (let i = 0; i < 3; i++) await passes(api, spent.secret);
        expectRateLimited(await api.query("{ hits }", [apiKey(spent.secret)]), 3);
        expectRateHeaders(await passes(api, fresh.secret), 3, 2);
        // Another key of the same user has its own count too.
        const sibling = await server.app.keys.createKey(CLI_PRINCIPAL, { userId: spent.userId, name: "second", clientType: "mobile" });
        expectRateHeaders(await passes(api, sibling.secret), 3, 2);
      });

      it("requests without a key carry no RateLimit-* headers and are not limited", async () => {
        for (let i = 0; i < 8; i++) {
          const res = await api.query("{ hello hits }");
          expect(res.status).toBe(200);
          expect(res.json.data).toEqual({ hello: "world", hits: null });
          expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_MISSING" });
          expect(Object.keys(res.headers).filter((h) => h.startsWith("ratelimit") || h === "retry-after")).toEqual([]);
        }
      });

      it("a key asking only public fields still counts and gets the headers", async () => {
        const { secret } = await server.issueKey();
        const res = await api.query("{ hello }", [apiKey(secret)]);
        expect(res.json).toEqual({ data: { hello: "world" } });
        expectRateHeaders(res, 3, 2);
      });

      it("with a 1-second window the key works again once the window has passed", async () => {
        const { secret } = await issueWithLimit(server, { limit: 1, windowSeconds: 1 });
        expectRateHeaders(await passes(api, secret), 1, 0);
        const refused = await api.query("{ hits }", [apiKey(secret)]);
        expectRateLimited(refused, 1);
        expect(refused.headers["retry-after"]).toBe("1");
        // The limiter keeps its windows on its own clock, not the injected one: ask until the
        // window has reset, each answer until then a proper refusal.
        const reopened = await waitFor("the 1-second window to reset", async () => {
          const res = await api.query("{ hits }", [apiKey(secret)]);
          if (res.status === 200) return res;
          expectRateLimited(res, 1);
          return undefined;
        }, 10_000, 100);
        expect(reopened.json).toEqual({ data: { hits: expect.any(Number) } });
        expectRateHeaders(reopened, 1, 0);
      });

      if (store === "redis") {
        it("two instances sharing Redis and the database share each key's count", async () => {
          const b = await startSibling(server, kind, { ...counter.options, redisUrl, limits, trustProxyHops: 1 });
          try {
            const { secret, keyId } = await issueWithLimit(server, { limit: 4, windowSeconds: 60 });
            await b.adopt(server, keyId);
            const onB = fromAddress(b, randomAddress());
            expectRateHeaders(await passes(api, secret), 4, 3);
            expectRateHeaders(await passes(api, secret), 4, 2);
            expectRateHeaders(await passes(onB, secret), 4, 1);
            expectRateHeaders(await passes(onB, secret), 4, 0);
            expectRateLimited(await onB.query("{ hits }", [apiKey(secret)]), 4);
            expectRateLimited(await api.query("{ hits }", [apiKey(secret)]), 4);
          } finally {
            await b.close();
          }
        });
      }
    });

    describe("failed key checks per client address (behind one trusted proxy)", () => {
      const from = (address: string): [string, string] => ["x-forwarded-for", address];

      it("past 3 failures an address gets 429 TOO_MANY_FAILED_ATTEMPTS, even with a valid key; keyless requests and other addresses are unaffected", async () => {
        const { secret } = await server.issueKey();
        const attacker = randomAddress();
        expectUnauthenticated(await server.query("{ hello }", [apiKey(generateKey("ks")), from(attacker)]), "KEY_INVALID");
        expectUnauthenticated(await server.query("{ hello }", [apiKey("not a key"), from(attacker)]), "KEY_MALFORMED");
        expectUnauthenticated(await server.query("{ hello }", [apiKey(generateKey("ks")), from(attacker)]), "KEY_INVALID");

        const before = counter.hits();
        expectThrottled(await server.query("{ hello hits }", [apiKey(secret), from(attacker)]));
        expectThrottled(await server.query("{ hello }", [apiKey(generateKey("ks")), from(attacker)]));
        expect(counter.hits()).toBe(before);

        const keyless = await server.query("{ hello hits }", [from(attacker)]);
        expect(keyless.status).toBe(200);
        expect(keyless.json.data).toEqual({ hello: "world", hits: null });
        expect(keyless.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_MISSING" });

        const other = await server.query("{ hits }", [apiKey(secret), from(randomAddress())]);
        expect(other.status).toBe(200);
        expect(other.json).toEqual({ data: { hits: expect.any(Number) } });
      });

      it("up to the limit nothing is blocked: after 2 failures a valid key from that address still works", async () => {
        const { secret } = await server.issueKey();
        const address = randomAddress();
        for (let i = 0; i < 2; i++) expectUnauthenticated(await server.query("{ hello }", [apiKey(generateKey("ks")), from(address)]), "KEY_INVALID");
        expect((await server.query("{ hits }", [apiKey(secret), from(address)])).status).toBe(200);
        expectUnauthenticated(await server.query("{ hello }", [apiKey(generateKey("ks")), from(address)]), "KEY_INVALID");
        expectThrottled(await server.query("{ hits }", [apiKey(secret), from(address)]));
      });

      it("the entry the trusted proxy wrote counts: 'spoofed, <addr>' is <addr>", async () => {
        const { secret } = await server.issueKey();
        const client = randomAddress();
        for (const spoofed of ["1.2.3.4", "5.6.7.8", "spoofed"]) {
          expectUnauthenticated(await server.query("{ hello }", [apiKey(generateKey("ks")), from(`${spoofed}, ${client}`)]), "KEY_INVALID");
        }
        expectThrottled(await server.query("{ hits }", [apiKey(secret), from(client)]));
        expectThrottled(await server.query("{ hits }", [apiKey(secret), from(`another-claim, ${client}`)]));
        // The client claiming to be `client` does not make the proxy's entry `client`.
        expect((await server.query("{ hits }", [apiKey(secret), from(`${client}, ${randomAddress()}`)])).status).toBe(200);
      });
    });
  });

  // One server for two concerns, to spare a start: no proxy is trusted, and Redis never answers.
  describe("directly exposed (no proxy trusted), with Redis unreachable", () => {
    const counter = countingSchema();
    let direct: TestServer;
    let closed = false;
    beforeAll(async () => {
      direct = await startServer(kind, {
        ...counter.options,
        redisUrl: DEAD_REDIS,
        limits: { rateLimit: { limit: 3, windowSeconds: 60 }, failedAuth: { limit: 3, windowSeconds: 60 } },
        trustProxyHops: 0,
      });
    });
    afterAll(async () => {
      if (!closed) await direct?.close();
    });

    it("without Redis, requests pass and the limits hold per instance (the insurance limiter)", async () => {
      // Why no request waits for Redis: no command is queued until a connection comes (the
      // limiters then fall back to memory at once). Speed itself is the bench's to measure.
      expect(direct.app.redis?.options.enableOfflineQueue).toBe(false);
      const { secret } = await direct.issueKey();
      const before = counter.hits();
      for (const remaining of [2, 1, 0]) {
        const res = await direct.query("{ hits }", [apiKey(secret)]);
        expect(res.status).toBe(200);
        expectRateHeaders(res, 3, remaining);
      }
      expectRateLimited(await direct.query("{ hits }", [apiKey(secret)]), 3);
      expect(counter.hits()).toBe(before + 3);
      // The failure throttle falls back to memory too.
      for (let i = 0; i < 3; i++) expectUnauthenticated(await direct.query("{ hello }", [apiKey(generateKey("ks"))]), "KEY_INVALID");
      expectThrottled(await direct.query("{ hello }", [apiKey(generateKey("ks"))]));
      expect((await direct.query("{ hello }")).json).toEqual({ data: { hello: "world" } });
      // All of it answered while Redis was down.
      expect(direct.app.redis?.status).not.toBe("ready");
    });

    it("X-Forwarded-For is ignored: changing it does not dodge the throttle, another socket address is not affected", async () => {
      const { secret } = await direct.issueKey();
      const socket = randomLoopback();
      /** A query from a chosen local address, so the server sees that socket address. */
      const fromSocket = (localAddress: string, query: string, headers: [string, string][]) =>
        postGraphQL(direct.url, { query }, headers, { localAddress });
      for (let i = 0; i < 3; i++) {
        const res = await fromSocket(socket, "{ hello }", [apiKey(generateKey("ks")), ["x-forwarded-for", randomAddress()]]);
        expectUnauthenticated(res, "KEY_INVALID");
      }
      expectThrottled(await fromSocket(socket, "{ hits }", [apiKey(secret), ["x-forwarded-for", randomAddress()]]));
      expectThrottled(await fromSocket(socket, "{ hits }", [apiKey(secret)]));
      expect((await fromSocket(randomLoopback(), "{ hits }", [apiKey(secret)])).status).toBe(200);
    });

    it("close() completes although Redis never answered, and the server is gone", async () => {
      closed = true;
      await direct.close();
      await expect(direct.query("{ hello }")).rejects.toThrow();
    });
  });
});

/** A schema whose one guarded field counts its runs: a refused request must leave it unchanged. */
function countingSchema() {
  let hits = 0;
  return {
    hits: () => hits,
    options: {
      typeDefs: /* GraphQL */ `
        type Query {
          hello: String!
          hits: Int @requiresKey
        }
      `,
      resolvers: { Query: { hello: () => "world", hits: () => ++hits } },
    } satisfies KeyscopeServerOptions,
  };
}

/** A server on the counting schema; `options.limits` must set every limit (the helper's are generous). */
async function startLimited(kind: DatabaseKind, store: Store, counter: ReturnType<typeof countingSchema>, options: KeyscopeServerOptions): Promise<TestServer> {
  const server = await startServer(kind, { ...counter.options, ...(store === "redis" ? { redisUrl } : {}), ...options });
  if (store === "redis") await redisReady(server.app);
  return server;
}

/**
 * Until the connection is up, the limiters count in memory (no offline queue); a test of shared
 * counts waits for it so that every request is counted in Redis.
 */
async function redisReady(app: KeyscopeServer): Promise<void> {
  const redis = app.redis;
  if (!redis) throw new Error("the server was started without Redis");
  if (redis.status !== "ready") await once(redis, "ready");
}

type Client = Pick<TestServer, "query">;

/** Every request from this client address (the server trusts one proxy hop). */
function fromAddress(server: Client, address: string): Client {
  return { query: (query, headers = [], variables) => server.query(query, [["x-forwarded-for", address], ...headers], variables) };
}

interface Sibling {
  query: TestServer["query"];
  /** Makes the key (issued on `first`) known to this instance's database. */
  adopt(first: TestServer, keyId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A second instance on the first one's database. PostgreSQL is shared for real; embedded PGlite
 * cannot be opened twice, so the key's rows are copied (the rate limit only needs the same key id).
 */
async function startSibling(first: TestServer, kind: DatabaseKind, options: KeyscopeServerOptions): Promise<Sibling> {
  if (kind === "postgres") {
    const app = await createKeyscopeServer({ ...first.database.options, logLevel: "silent", ...options });
    const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
    await redisReady(app);
    const query: TestServer["query"] = (q, headers = [], variables) => postGraphQL(url, { query: q, ...(variables ? { variables } : {}) }, headers);
    return { query, adopt: async () => {}, close: () => app.close() };
  }
  const server = await startServer(kind, options);
  await redisReady(server.app);
  return {
    query: server.query,
    async adopt(from, keyId) {
      const source = from.app.database.db;
      const target = server.app.database.db;
      const [key] = await source.select().from(apiKeys).where(eq(apiKeys.id, keyId));
      if (!key) throw new Error("key not found on the first instance");
      await target.insert(users).values(await source.select().from(users).where(eq(users.id, key.userId)));
      await target.insert(apiKeys).values(key);
      await target.insert(keySecrets).values(await source.select().from(keySecrets).where(eq(keySecrets.keyId, key.id)));
    },
    close: () => server.close(),
  };
}

async function issueWithLimit(server: TestServer, rateLimit: { limit: number; windowSeconds: number }) {
  const user = await server.app.users.createUser(CLI_PRINCIPAL, { email: `limited-${randomInt(1e9)}@example.com`, clientTypes: ["mobile"] });
  const issued = await server.app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "own limit", clientType: "mobile", rateLimit });
  expect(issued.apiKey.rateLimitLimit).toBe(rateLimit.limit);
  return { secret: issued.secret, keyId: issued.apiKey.id };
}

/** A guarded request that must pass: 200, the resolver's answer, no errors. */
async function passes(server: Client, secret: string): Promise<HttpResponse> {
  const res = await server.query("{ hits }", [apiKey(secret)]);
  expect(res.json).toEqual({ data: { hits: expect.any(Number) } });
  expect(res.status).toBe(200);
  return res;
}

function expectRateHeaders(res: HttpResponse, limit: number, remaining: number): void {
  expect(res.headers["ratelimit-limit"]).toBe(String(limit));
  expect(res.headers["ratelimit-remaining"]).toBe(String(remaining));
  const reset = Number(res.headers["ratelimit-reset"]);
  expect(Number.isInteger(reset)).toBe(true);
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(60);
}

/** SPEC §4: 429 + Retry-After, RATE_LIMITED, nothing executed (no `data`). */
function expectRateLimited(res: HttpResponse, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.json).toEqual({
    errors: [{ message: expect.stringMatching(/^This API key is over its rate limit of \d+ requests\. Retry in \d+ s\.$/), extensions: { code: "RATE_LIMITED" } }],
  });
  expect(res.json.errors[0].message).toContain(`rate limit of ${limit} requests`);
  const retryAfter = Number(res.headers["retry-after"]);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers["ratelimit-limit"]).toBe(String(limit));
  expect(res.headers["ratelimit-remaining"]).toBe("0");
  expect(res.headers["ratelimit-reset"]).toBe(res.headers["retry-after"]);
}

function expectThrottled(res: HttpResponse): void {
  expect(res.status).toBe(429);
  expect(res.json).toEqual({
    errors: [
      {
        message: expect.stringMatching(/^Too many failed API key checks from this address\. Retry in \d+ s\.$/),
        extensions: { code: "RATE_LIMITED", reason: "TOO_MANY_FAILED_ATTEMPTS" },
      },
    ],
  });
  const retryAfter = Number(res.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/** Client addresses are random: Redis counts outlive a run, and both database suites share them. */
function randomAddress(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

/** A loopback source address of its own (all of 127/8 reaches a server on 127.0.0.1 on Linux). */
function randomLoopback(): string {
  return `127.${randomInt(1, 255)}.${randomInt(256)}.${randomInt(1, 255)}`;
}
