// SPEC §8: every query's cost is bounded before it runs, in every environment. Over real HTTP,
// by an owner with 140 keys (the issue's fan-out took 85 s on such an owner): refused with 400
// before any resolver or database call; ordinary console queries answered; lists capped.
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "../../src/db/schema/index.ts";
import { countDatabaseCalls } from "../helpers/database-calls.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { ADMIN_SCOPES, expectBadInput, MANAGEMENT_LIMITS, ok } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const FAN_OUT = "{ me { user { apiKeys { owner { apiKeys { owner { apiKeys { id } } } } } } } }";
const ALIASED = "{ a: myApiKeys { usage { requests } } b: myApiKeys { usage { requests } } c: myApiKeys { usage { requests } } }";
const EXTRA_KEYS = 140;

const insideItself = {
  errors: [
    {
      message: "User.apiKeys cannot be selected inside User.apiKeys: the owner of a user's key is that user, whose keys are the list being read.",
      extensions: { code: "QUERY_TOO_COSTLY", reason: "FIELD_INSIDE_ITSELF" },
    },
  ],
};
const tooCostly = (cost: number, maxCost: number) => ({
  errors: [
    {
      message: `The query would cost ${cost}; this server allows ${maxCost}. Each object counts 1, times the size of the lists it is in: ask for smaller pages (first, last) or fewer nested lists.`,
      extensions: { code: "QUERY_TOO_COSTLY", reason: "QUERY_COST_EXCEEDED", cost, maxCost },
    },
  ],
});

describe.each(databaseKinds)("the query cost limit on %s", (kind) => {
  let server: TestServer;
  /** An admin with keys:admin and keys:self, and 140 more keys, oldest first. */
  let owner: { secret: string; keyId: string; userId: string };
  let extraIds: string[];

  beforeAll(async () => {
    server = await startServer(kind, { limits: { ...MANAGEMENT_LIMITS, maxKeysPerUser: 1000 } });
    owner = await server.issueKey({ email: "many-keys@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
    // Inserted in one statement, a second apart, so that "newest" is plain (they hold no secret).
    const base = Date.now() + 1000;
    const rows = await server.app.database.db
      .insert(apiKeys)
      .values(Array.from({ length: EXTRA_KEYS }, (_, i) => ({ userId: owner.userId, name: `key ${i}`, clientType: "mobile", start: "ks_test", createdAt: new Date(base + i * 1000) })))
      .returning({ id: apiKeys.id });
    extraIds = rows.map((r) => r.id);
    // The calling key is now in the cache: what follows needs no database to authenticate.
    await ok(server, owner.secret, "{ me { apiKey { id } } }");
  });
  afterAll(() => server?.close());

  /** Runs `send` while counting database calls; checks the counter moves for a request that needs the database. */
  async function withoutDatabase<T>(send: () => Promise<T>): Promise<T> {
    const calls = countDatabaseCalls(server.app.database.db);
    try {
      const result = await send();
      expect(calls.count()).toBe(0);
      await ok(server, owner.secret, "{ me { apiKey { id } } }");
      expect(calls.count()).toBeGreaterThan(0);
      return result;
    } finally {
      calls.stop();
    }
  }

  it("the issue's fan-out query: 400 QUERY_TOO_COSTLY before any resolver or database call", async () => {
    const res = await withoutDatabase(() => server.query(FAN_OUT, [apiKey(owner.secret)]));
    expect(res.status).toBe(400);
    expect(res.json).toEqual(insideItself);
  });

  it("a query over the cost limit: 400 with its cost and the limit, before any resolver or database call", async () => {
    const res = await withoutDatabase(() => server.query(ALIASED, [apiKey(owner.secret)]));
    expect(res.status).toBe(400);
    expect(res.json).toEqual(tooCostly(7500, 5000));
  });

  it("the cost of lists sized by variables is known before it runs", async () => {
    const page = "query ($n: Int) { users(first: 100) { edges { node { apiKeys(last: $n) { id } } } } }";
    const refused = await withoutDatabase(() => server.query(page, [apiKey(owner.secret)], { n: 60 }));
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual(tooCostly(1 + 100 * (1 + 1 + 60), 5000));
    const allowed = await ok(server, owner.secret, page, { n: 5 });
    expect(allowed.users.edges.length).toBeGreaterThan(0);
  });

  it("a public request sent alongside refused ones is answered", async () => {
    const attacks = Array.from({ length: 5 }, () => server.query(FAN_OUT, [apiKey(owner.secret)]));
    const [publicAnswer, ...refused] = await Promise.all([server.query("{ products { name } }"), ...attacks]);
    expect(publicAnswer.status).toBe(200);
    expect(publicAnswer.json).toEqual({ data: { products: [{ name: "Oak desk" }, { name: "Steel shelf" }, { name: "Birch stool" }] } });
    for (const res of refused) expect(res.status).toBe(400);
  });

  it("ordinary console queries are answered in full", async () => {
    const keysPage = await ok(
      server,
      owner.secret,
      "{ apiKeys(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name status owner { email } usage { start requests rejected } } } } }",
    );
    expect(keysPage.apiKeys.totalCount).toBe(EXTRA_KEYS + 1);
    expect(keysPage.apiKeys.edges).toHaveLength(20);
    for (const edge of keysPage.apiKeys.edges) expect(edge.node.usage).toHaveLength(24);

    const mine = await ok(server, owner.secret, "{ myApiKeys { id name status lastUsedAt usage { start requests rejected } } }");
    expect(mine.myApiKeys).toHaveLength(100);
    const hundred = await ok(server, owner.secret, "{ apiKeys(first: 100) { totalCount edges { node { id name clientType owner { email } } } } }");
    expect(hundred.apiKeys.edges).toHaveLength(100);
    const events = await ok(server, owner.secret, "{ auditEvents(first: 100) { edges { node { id at action actorUserId targetKeyId changes } } } }");
    expect(events.auditEvents.edges.length).toBeGreaterThan(0);
  });

  it("User.apiKeys and myApiKeys list the newest 100 (or `last`), oldest first", async () => {
    const newest = extraIds.slice(-100);
    const mine = await ok(server, owner.secret, "{ myApiKeys { id } }");
    expect(mine.myApiKeys.map((k: { id: string }) => k.id)).toEqual(newest);
    const viaMe = await ok(server, owner.secret, "{ me { user { apiKeys { id } three: apiKeys(last: 3) { id } none: apiKeys(last: 0) { id } } } }");
    expect(viaMe.me.user.apiKeys.map((k: { id: string }) => k.id)).toEqual(newest);
    expect(viaMe.me.user.three.map((k: { id: string }) => k.id)).toEqual(extraIds.slice(-3));
    expect(viaMe.me.user.none).toEqual([]);
    // The operator CLI's list goes through the same service, and is capped the same way.
    expect((await server.app.keys.listKeysOfUser(CLI_PRINCIPAL, owner.userId, null)).map((k) => k.id)).toEqual(newest);

    for (const last of [101, -1]) {
      expectBadInput(await server.query("query ($last: Int) { myApiKeys(last: $last) { id } }", [apiKey(owner.secret)], { last }), "myApiKeys", "last");
    }
  });
});

describe.each(databaseKinds)("the query cost limit, configured, in production, on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string };
  beforeAll(async () => {
    server = await startServer(kind, { production: true, limits: { ...MANAGEMENT_LIMITS, maxCost: 100 } });
    admin = await server.issueKey({ email: "cost-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  it("applies the configured limit, and stays on in production", async () => {
    const page = "query ($n: Int) { apiKeys(first: $n) { edges { node { id } } } }";
    expect(await ok(server, admin.secret, page, { n: 49 })).toEqual({ apiKeys: { edges: [{ node: { id: expect.any(String) } }] } });
    const refused = await server.query(page, [apiKey(admin.secret)], { n: 50 });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual(tooCostly(101, 100));
    const fanOut = await server.query(FAN_OUT, [apiKey(admin.secret)]);
    expect(fanOut.status).toBe(400);
    expect(fanOut.json).toEqual(insideItself);
  });
});
