// SPEC §6 queries over real HTTP: me, myApiKeys by status, apiKey, apiKeys and users with
// Relay pagination, user. (auditEvents: management-audit.test.ts.)
import { asc, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, users } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import {
  ADMIN_SCOPES, ANY_LAST_USED, allPages, expectBadInput, expectFieldError, KEY_FIELDS, ok, UNKNOWN_ID, USER_FIELDS,
  MANAGEMENT_LIMITS,
} from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }`;
const KEYS_PAGE = `query($filter: ApiKeyFilter, $first: Int, $after: String) {
  apiKeys(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id status clientType createdAt } } }
}`;
const USERS_PAGE = `query($first: Int, $after: String) {
  users(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id email createdAt } } }
}`;

describe.each(databaseKinds)("management queries on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string; keyId: string; userId: string };
  beforeAll(async () => {
    server = await startServer(kind, { limits: MANAGEMENT_LIMITS });
    admin = await server.issueKey({ email: "queries-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  const asAdmin = (query: string, variables?: Record<string, unknown>) => ok(server, admin.secret, query, variables);

  /** Keys issued by the admin to `userId`, one by one (creation order is the order of this list). */
  async function issueKeys(userId: string, settings: { clientType: string; name: string }[]): Promise<string[]> {
    const ids: string[] = [];
    for (const s of settings) {
      const data = await asAdmin(CREATE_KEY, { input: { ...s, userId } });
      ids.push(data.createApiKey.apiKey.id);
    }
    return ids;
  }

  describe("me", () => {
    it("answers the calling key and its user", async () => {
      const member = await server.issueKey({ email: "me@example.com", clientType: "partner", scopes: ["orders:read"] });
      const data = await ok(server, member.secret, "{ me { apiKey { id name clientType scopes start status active owner { id } } user { id email role clientTypes disabled } } }");
      expect(data).toEqual({
        me: {
          apiKey: {
            id: member.keyId, name: "test key", clientType: "partner", scopes: ["orders:read"], start: member.secret.slice(0, 7),
            status: "ACTIVE", active: true, owner: { id: member.userId },
          },
          user: { id: member.userId, email: "me@example.com", role: "MEMBER", clientTypes: ["partner"], disabled: false },
        },
      });
    });

    it("needs a key", async () => {
      const res = await server.query("{ me { user { id } } }");
      expectFieldError(res, "me", { code: "UNAUTHENTICATED", reason: "KEY_MISSING" });
    });

    const GRANTABLE = "{ me { grantable { unrestricted scopes clientTypes latestExpiresAt maxRateLimit { limit windowSeconds } defaultRateLimitGrantable } } }";

    it("grantable: a member's key may give its own scopes, its user's client types, up to its expiry and rate limit", async () => {
      const expiresAt = new Date(Date.now() + 10 * 86_400_000);
      const member = await server.issueKey({ email: "grantable@example.com", clientType: "partner", scopes: ["orders:read", "keys:self"], expiresAt });
      await server.app.keys.updateKey(CLI_PRINCIPAL, member.keyId, { rateLimit: { limit: 5, windowSeconds: 60 } });
      const data = await ok(server, member.secret, GRANTABLE);
      expect(data).toEqual({
        me: {
          grantable: {
            unrestricted: false, scopes: ["keys:self", "orders:read"], clientTypes: ["partner"], latestExpiresAt: expiresAt.toISOString(),
            maxRateLimit: { limit: 5, windowSeconds: 60 }, defaultRateLimitGrantable: false,
          },
        },
      });
      // What it states is what createApiKey accepts: at the bound passes, past it is refused.
      const create = (input: Record<string, unknown>) => server.query(CREATE_KEY, [apiKey(member.secret)], { input: { name: "n", clientType: "partner", ...input } });
      expect((await create({ expiresAt: expiresAt.toISOString(), rateLimit: { limit: 5, windowSeconds: 60 } })).json.errors).toBeUndefined();
      expect((await create({ expiresAt: new Date(expiresAt.getTime() + 1000).toISOString(), rateLimit: { limit: 5, windowSeconds: 60 } })).json.errors[0].extensions.reason).toBe("EXPIRY_NOT_GRANTABLE");
      expect((await create({ expiresAt: expiresAt.toISOString() })).json.errors[0].extensions.reason).toBe("RATE_LIMIT_NOT_GRANTABLE");
    });

    it("grantable: admin power is unrestricted", async () => {
      const data = await asAdmin(GRANTABLE);
      expect(data.me.grantable).toEqual({
        unrestricted: true, scopes: ["keys:admin", "keys:self"], clientTypes: ["mobile"], latestExpiresAt: null, maxRateLimit: null, defaultRateLimitGrantable: true,
      });
    });
  });

  describe("myApiKeys", () => {
    it("lists the caller's own keys, by each status, in creation order", async () => {
      const caller = await server.issueKey({ email: "statuses@example.com", scopes: ["keys:self"] });
      await server.issueKey({ email: "someone-else@example.com", scopes: ["keys:self"] }); // must never show
      const [active, disabled, expired, revoked] = await issueKeys(caller.userId, [
        { name: "active", clientType: "mobile" },
        { name: "disabled", clientType: "mobile" },
        { name: "expired", clientType: "mobile" },
        { name: "revoked", clientType: "mobile" },
      ]);
      await ok(server, caller.secret, `mutation($id: ID!) { updateApiKey(id: $id, input: { active: false }) { id } }`, { id: disabled });
      await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(apiKeys.id, expired!));
      await ok(server, caller.secret, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: revoked });

      const list = async (status?: string) => {
        const data = await ok(server, caller.secret, `query($status: ApiKeyStatus) { myApiKeys(status: $status) { id status } }`, status ? { status } : {});
        return data.myApiKeys;
      };
      expect(await list("ACTIVE")).toEqual([{ id: caller.keyId, status: "ACTIVE" }, { id: active, status: "ACTIVE" }]);
      expect(await list("DISABLED")).toEqual([{ id: disabled, status: "DISABLED" }]);
      expect(await list("EXPIRED")).toEqual([{ id: expired, status: "EXPIRED" }]);
      expect(await list("REVOKED")).toEqual([{ id: revoked, status: "REVOKED" }]);
      expect((await list()).map((k: { id: string }) => k.id)).toEqual([caller.keyId, active, disabled, expired, revoked]);
    });

    it("revoked beats expired beats switched off", async () => {
      const caller = await server.issueKey({ email: "precedence@example.com", scopes: ["keys:self"] });
      const [both, offAndExpired] = await issueKeys(caller.userId, [
        { name: "revoked and expired", clientType: "mobile" },
        { name: "off and expired", clientType: "mobile" },
      ]);
      await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 60_000), revokedAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, both!));
      await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 60_000), active: false }).where(eq(apiKeys.id, offAndExpired!));
      const data = await ok(server, caller.secret, "{ revoked: myApiKeys(status: REVOKED) { id } expired: myApiKeys(status: EXPIRED) { id } disabled: myApiKeys(status: DISABLED) { id } }");
      expect(data).toEqual({ revoked: [{ id: both }], expired: [{ id: offAndExpired }], disabled: [] });
    });

    it("needs keys:self", async () => {
      const plain = await server.issueKey({ email: "no-self@example.com" });
      const res = await server.query("{ myApiKeys { id } }", [apiKey(plain.secret)]);
      expectFieldError(res, "myApiKeys", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
    });
  });

  describe("apiKey(id)", () => {
    const QUERY = `query($id: ID!) { apiKey(id: $id) { ${KEY_FIELDS} } }`;

    it("answers one of your own keys in full", async () => {
      const owner = await server.issueKey({ email: "own-key@example.com", scopes: ["keys:self"] });
      const data = await ok(server, owner.secret, QUERY, { id: owner.keyId });
      expect(data.apiKey).toEqual({
        id: owner.keyId, name: "test key", description: null, clientType: "mobile", scopes: ["keys:self"], start: owner.secret.slice(0, 7),
        status: "ACTIVE", active: true, switchedOffBy: null, expiresAt: null, createdAt: expect.any(String), updatedAt: expect.any(String),
        lastUsedAt: ANY_LAST_USED, revokedAt: null, rateLimit: null,
        owner: { id: owner.userId, email: "own-key@example.com" },
      });
      expect(Date.parse(data.apiKey.createdAt)).not.toBeNaN();
    });

    // (The security suite asks the same of every operation that names a key or a user.)
    it("another user's key answers NOT_FOUND, exactly like an id that does not exist (whole response)", async () => {
      const a = await server.issueKey({ email: "visible-a@example.com", scopes: ["keys:self"] });
      const b = await server.issueKey({ email: "visible-b@example.com", scopes: ["keys:self"] });
      const others = await server.query(QUERY, [apiKey(a.secret)], { id: b.keyId });
      const unknown = await server.query(QUERY, [apiKey(a.secret)], { id: UNKNOWN_ID });
      expect({ status: others.status, json: others.json }).toEqual({
        status: 200,
        json: {
          data: { apiKey: null },
          errors: [{ message: "No API key has this id.", locations: [{ line: 1, column: 19 }], path: ["apiKey"], extensions: { code: "NOT_FOUND" } }],
        },
      });
      expect({ status: unknown.status, json: unknown.json }).toEqual({ status: others.status, json: others.json });
    });

    it("admins read any key", async () => {
      const member = await server.issueKey({ email: "admin-reads@example.com", scopes: ["keys:self"] });
      const data = await ok(server, admin.secret, `query($id: ID!) { apiKey(id: $id) { id owner { id } } }`, { id: member.keyId });
      expect(data).toEqual({ apiKey: { id: member.keyId, owner: { id: member.userId } } });
    });

    it("an id that is not a UUID is bad input", async () => {
      const res = await server.query(QUERY, [apiKey(admin.secret)], { id: "42" });
      expectFieldError(res, "apiKey", { code: "BAD_USER_INPUT", field: "id" }, { apiKey: null });
    });
  });

  describe("apiKeys", () => {
    let pager: { userId: string; keyId: string };
    let created: string[];
    beforeAll(async () => {
      pager = await server.issueKey({ email: "pager@example.com" });
      created = [pager.keyId, ...(await issueKeys(pager.userId, [
        { name: "k1", clientType: "mobile" }, { name: "k2", clientType: "partner" }, { name: "k3", clientType: "mobile" },
        { name: "k4", clientType: "partner" }, { name: "k5", clientType: "mobile" }, { name: "k6", clientType: "partner" },
      ]))];
      await asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { active: false }) { id } }`, { id: created[2] }); // k2
    });

    const page = (variables: Record<string, unknown>) => asAdmin(KEYS_PAGE, variables).then((d) => d.apiKeys);

    it("pages through one user's keys in creation order, with totalCount and stable cursors", async () => {
      const filter = { userId: pager.userId };
      const { nodes, pages, totalCount } = await allPages((after) => page({ filter, first: 3, after }), 3);
      expect(totalCount).toBe(7);
      expect(pages).toBe(3);
      const ids = nodes.map((n: any) => n.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(await inCreationOrder(created));

      // The same cursor gives the same page; past the end there is nothing.
      const first = await page({ filter, first: 3 });
      const again = await page({ filter, first: 3, after: first.pageInfo.endCursor });
      expect(await page({ filter, first: 3, after: first.pageInfo.endCursor })).toEqual(again);
      expect(again.edges[0].cursor).not.toBe(first.pageInfo.endCursor);
      const last = await page({ filter, first: 3, after: again.pageInfo.endCursor });
      const beyond = await page({ filter, first: 3, after: last.pageInfo.endCursor });
      expect(beyond).toEqual({ totalCount: 7, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
    });

    it("pages through every key there is", async () => {
      const { nodes, totalCount } = await allPages((after) => page({ first: 4, after }), 4);
      const db = server.app.database.db;
      const rows = await db.select({ id: apiKeys.id }).from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
      expect(totalCount).toBe(rows.length);
      expect(nodes.map((n: any) => n.id)).toEqual(rows.map((r) => r.id));
    });

    it("defaults to 20 a page and allows 100", async () => {
      const all = await page({ first: 100 });
      const byDefault = await page({});
      expect(byDefault.edges).toEqual(all.edges.slice(0, 20));
      expect(byDefault.pageInfo.hasNextPage).toBe(all.totalCount > 20);
    });

    it("filters by user, client type and status, alone and together", async () => {
      const ids = async (filter: Record<string, unknown>) => {
        const p = await page({ filter, first: 100 });
        expect(p.totalCount).toBe(p.edges.length);
        return p.edges.map((e: any) => e.node.id);
      };
      const [, k1, k2, k3, k4, k5, k6] = created;
      expect(await ids({ userId: pager.userId, clientType: "partner" })).toEqual([k2, k4, k6]);
      expect(await ids({ userId: pager.userId, status: "DISABLED" })).toEqual([k2]);
      expect(await ids({ userId: pager.userId, clientType: "mobile", status: "ACTIVE" })).toEqual([created[0], k1, k3, k5]);
      expect(await ids({ userId: pager.userId, clientType: "partner", status: "ACTIVE" })).toEqual([k4, k6]);
      expect(await ids({ userId: pager.userId, clientType: "nobody-uses-this" })).toEqual([]);
      const disabledEverywhere = await page({ filter: { status: "DISABLED" }, first: 100 });
      expect(disabledEverywhere.edges.every((e: any) => e.node.status === "DISABLED")).toBe(true);
      expect(disabledEverywhere.edges.map((e: any) => e.node.id)).toContain(k2);
    });

    it.each([
      ["first: 101", { first: 101 }, "first"],
      ["first: -1", { first: -1 }, "first"],
      ["a garbage cursor", { after: "garbage" }, "after"],
      ["a cursor of another list", { after: Buffer.from("[7]").toString("base64url") }, "after"],
      ["a filter.userId that is not an id", { filter: { userId: "bob" } }, "filter.userId"],
    ])("%s is bad input", async (_, variables, field) => {
      const res = await server.query(KEYS_PAGE, [apiKey(admin.secret)], variables);
      expectBadInput(res, "apiKeys", field);
    });

    it("needs admin power", async () => {
      const member = await server.issueKey({ email: "not-admin@example.com", scopes: ["keys:self"] });
      expectFieldError(await server.query(KEYS_PAGE, [apiKey(member.secret)], {}), "apiKeys", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
    });
  });

  describe("users and user(id)", () => {
    const userPage = (variables: Record<string, unknown>) => asAdmin(USERS_PAGE, variables).then((d) => d.users);

    it("pages through every user in creation order, with totalCount and stable cursors", async () => {
      for (const n of [1, 2, 3]) await server.issueKey({ email: `listed-${n}@example.com` });
      const { nodes, totalCount, pages } = await allPages((after) => userPage({ first: 2, after }), 2);
      const db = server.app.database.db;
      const rows = await db.select({ id: users.id }).from(users).orderBy(asc(users.createdAt), asc(users.id));
      const [counted] = await db.select({ n: count() }).from(users);
      expect(totalCount).toBe(counted!.n);
      expect(pages).toBe(Math.ceil(rows.length / 2));
      const ids = nodes.map((n: any) => n.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(rows.map((r) => r.id));

      const first = await userPage({ first: 2 });
      const second = await userPage({ first: 2, after: first.pageInfo.endCursor });
      expect(await userPage({ first: 2, after: first.pageInfo.endCursor })).toEqual(second);
    });

    it.each([
      ["first: 101", { first: 101 }, "first"],
      ["first: -1", { first: -1 }, "first"],
      ["a garbage cursor", { after: "%%%not-a-cursor" }, "after"],
    ])("%s is bad input", async (_, variables, field) => {
      expectBadInput(await server.query(USERS_PAGE, [apiKey(admin.secret)], variables), "users", field);
    });

    it("user(id) answers a user in full, with their keys by status", async () => {
      const member = await server.issueKey({ email: "Looked.Up@example.com", clientType: "partner", scopes: ["keys:self"] });
      const [off] = await issueKeys(member.userId, [{ name: "off", clientType: "partner" }]);
      await asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { active: false }) { id } }`, { id: off });
      const data = await asAdmin(
        `query($id: ID!) { user(id: $id) { ${USER_FIELDS} apiKeys { id } activeKeys: apiKeys(status: ACTIVE) { id } disabledKeys: apiKeys(status: DISABLED) { id } } }`,
        { id: member.userId },
      );
      expect(data.user).toEqual({
        id: member.userId, email: "looked.up@example.com", name: null, role: "MEMBER", clientTypes: ["partner"], disabled: false,
        createdAt: expect.any(String), apiKeys: [{ id: member.keyId }, { id: off }], activeKeys: [{ id: member.keyId }], disabledKeys: [{ id: off }],
      });
    });

    it("user(id) of nobody is null; a malformed id is bad input; members are refused", async () => {
      expect(await asAdmin(`query($id: ID!) { user(id: $id) { id } }`, { id: UNKNOWN_ID })).toEqual({ user: null });
      const bad = await server.query(`query($id: ID!) { user(id: $id) { id } }`, [apiKey(admin.secret)], { id: "x" });
      expectFieldError(bad, "user", { code: "BAD_USER_INPUT", field: "id" }, { user: null });
      const member = await server.issueKey({ email: "nosy@example.com", scopes: ["keys:self"] });
      const refused = await server.query(`query($id: ID!) { user(id: $id) { id } }`, [apiKey(member.secret)], { id: admin.userId });
      expectFieldError(refused, "user", { code: "FORBIDDEN", reason: "SCOPE_MISSING" }, { user: null });
    });
  });

  /** The ids as the list orders them: created_at, then id (keys made in one millisecond tie). */
  async function inCreationOrder(ids: string[]): Promise<string[]> {
    const rows = await server.app.database.db.select({ id: apiKeys.id, createdAt: apiKeys.createdAt }).from(apiKeys);
    const at = new Map(rows.map((r) => [r.id, r.createdAt.getTime()]));
    return [...ids].sort((a, b) => at.get(a)! - at.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  }
});
