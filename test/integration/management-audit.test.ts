// SPEC §6 audit trail over real HTTP: one event per action with who, what, which target, when,
// from where and what changed; never a secret or a hash; who may read which events; filters and pages.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, keySecrets } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { ADMIN_SCOPES, allPages, expectBadInput, EVENT_FIELDS, ok, MANAGEMENT_LIMITS } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${EVENT_FIELDS} } } }
}`;

type Issued = { secret: string; keyId: string; userId: string };
type Event = { id: string; at: string; action: string; actorUserId: string | null; actorKeyId: string | null; targetKeyId: string | null; targetUserId: string | null; ip: string | null; changes: any };

describe.each(databaseKinds)("the audit trail on %s", (kind) => {
  let server: TestServer;
  let admin: Issued;
  /** Every secret and imported value handed out in this suite: none may ever show in the trail. */
  const secrets: string[] = [];
  beforeAll(async () => {
    server = await startServer(kind, { limits: MANAGEMENT_LIMITS });
    admin = await server.issueKey({ email: "audit-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
    secrets.push(admin.secret);
  });
  afterAll(() => server?.close());

  const asAdmin = (query: string, variables?: Record<string, unknown>) => ok(server, admin.secret, query, variables);
  const issue = async (options: Parameters<TestServer["issueKey"]>[0]) => {
    const issued = await server.issueKey(options);
    secrets.push(issued.secret);
    return issued;
  };

  /** Every event the holder of `secret` may read, newest first, through all pages. */
  async function readAll(secret: string, filter?: Record<string, unknown>, pageSize = 100): Promise<Event[]> {
    const { nodes } = await allPages<Event>(
      async (after) => (await ok(server, secret, EVENTS, { filter, first: pageSize, after })).auditEvents,
      pageSize,
    );
    return nodes;
  }

  /** Runs a change and returns the events it wrote (the admin reads the trail before and after). */
  async function eventsOf(change: () => Promise<unknown>): Promise<Event[]> {
    const before = new Set((await readAll(admin.secret)).map((e) => e.id));
    await change();
    return (await readAll(admin.secret)).filter((e) => !before.has(e.id));
  }

  /** The one event expected from the admin's key, from 127.0.0.1. */
  const byAdmin = (fields: Partial<Event>): Event => ({
    id: expect.stringMatching(/^\d+$/), at: expect.any(String), actorUserId: admin.userId, actorKeyId: admin.keyId,
    targetKeyId: null, targetUserId: null, ip: "127.0.0.1", changes: null, action: expect.any(String), ...fields,
  });

  describe("each action writes exactly one event", () => {
    let userId: string;
    let keyId: string;
    let keyCreatedAt: string;

    it("user.created", async () => {
      let created: any;
      const events = await eventsOf(async () => {
        created = (await asAdmin(`mutation { createUser(input: { email: "Audited@example.com", clientTypes: ["mobile"] }) { id createdAt } }`)).createUser;
      });
      userId = created.id;
      expect(events).toEqual([
        byAdmin({
          action: "user.created", targetUserId: userId, at: created.createdAt,
          changes: { email: "Audited@example.com", name: null, role: "MEMBER", clientTypes: ["mobile"] },
        }),
      ]);
    });

    it("user.updated, with before and after of each changed field", async () => {
      const events = await eventsOf(() => asAdmin(`mutation($id: ID!) { updateUser(id: $id, input: { name: "Audra", clientTypes: ["mobile", "partner"], role: MEMBER }) { id } }`, { id: userId }));
      expect(events).toEqual([
        byAdmin({
          action: "user.updated", targetUserId: userId,
          changes: { name: { from: null, to: "Audra" }, clientTypes: { from: ["mobile"], to: ["mobile", "partner"] } },
        }),
      ]);
    });

    it("key.created", async () => {
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
      let issued: any;
      const events = await eventsOf(async () => {
        issued = (await asAdmin(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id createdAt } secret } }`, {
          input: { userId, name: "audited", clientType: "mobile", scopes: ["orders:read"], expiresAt, rateLimit: { limit: 9, windowSeconds: 60 } },
        })).createApiKey;
      });
      secrets.push(issued.secret);
      keyId = issued.apiKey.id;
      keyCreatedAt = issued.apiKey.createdAt;
      expect(events).toEqual([
        byAdmin({
          action: "key.created", targetKeyId: keyId, targetUserId: userId, at: keyCreatedAt,
          changes: { name: "audited", description: null, clientType: "mobile", scopes: ["orders:read"], expiresAt, active: true, switchedOffBy: null, rateLimit: { limit: 9, windowSeconds: 60 } },
        }),
      ]);
    });

    it("key.imported", async () => {
      const value = "audited-legacy-value-0001";
      secrets.push(value);
      let imported: any;
      const events = await eventsOf(async () => {
        imported = (await asAdmin(`mutation($input: ImportApiKeyInput!) { importApiKey(input: $input) { id createdAt } }`, {
          input: { value, userId, name: "imported", clientType: "partner" },
        })).importApiKey;
      });
      expect(events).toEqual([
        byAdmin({
          action: "key.imported", targetKeyId: imported.id, targetUserId: userId, at: imported.createdAt,
          changes: { name: "imported", description: null, clientType: "partner", scopes: [], expiresAt: null, active: true, switchedOffBy: null, rateLimit: null },
        }),
      ]);
    });

    it("key.updated, with before and after of each changed field; an update that changes nothing writes none", async () => {
      const events = await eventsOf(() => asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { name: "renamed", active: false, rateLimit: null, description: null }) { id } }`, { id: keyId }));
      expect(events).toEqual([
        byAdmin({
          action: "key.updated", targetKeyId: keyId, targetUserId: userId,
          changes: { name: { from: "audited", to: "renamed" }, active: { from: true, to: false },
            switchedOffBy: { from: null, to: "ADMIN" }, rateLimit: { from: { limit: 9, windowSeconds: 60 }, to: null } },
        }),
      ]);
      expect(await eventsOf(() => asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { name: "renamed" }) { id } }`, { id: keyId }))).toEqual([]);
    });

    it("key.rotated", async () => {
      let rotated: any;
      const events = await eventsOf(async () => {
        rotated = (await asAdmin(`mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 30) { apiKey { start } secret } }`, { id: keyId })).rotateApiKey;
      });
      secrets.push(rotated.secret);
      expect(events).toEqual([byAdmin({ action: "key.rotated", targetKeyId: keyId, targetUserId: userId, changes: expect.any(Object) })]);
      expect(events[0]!.changes).toMatchObject({ gracePeriodSeconds: 30, start: { to: rotated.apiKey.start } });
    });

    it("key.revoked, once however often revoked", async () => {
      let revokedAt = "";
      const events = await eventsOf(async () => {
        revokedAt = (await asAdmin(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: keyId })).revokeApiKey.revokedAt;
        await asAdmin(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: keyId });
      });
      expect(events).toEqual([byAdmin({ action: "key.revoked", targetKeyId: keyId, targetUserId: userId, changes: { revokedAt: { from: null, to: revokedAt } } })]);
    });

    it("a member's own action names the member and their key", async () => {
      const member = await issue({ email: "audit-self@example.com", scopes: ["keys:self"] });
      let created: any;
      const events = await eventsOf(async () => {
        created = (await ok(server, member.secret, `mutation { createApiKey(input: { name: "mine", clientType: "mobile" }) { apiKey { id } secret } }`)).createApiKey;
      });
      secrets.push(created.secret);
      expect(events).toEqual([
        byAdmin({ action: "key.created", actorUserId: member.userId, actorKeyId: member.keyId, targetKeyId: created.apiKey.id, targetUserId: member.userId, changes: expect.any(Object) }),
      ]);
    });

    it("events are newest first, and `at` never increases down the list", async () => {
      const events = await readAll(admin.secret, undefined, 3);
      const ids = events.map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(new Set(ids).size).toBe(ids.length);
      for (let i = 1; i < events.length; i++) expect(Date.parse(events[i]!.at)).toBeLessThanOrEqual(Date.parse(events[i - 1]!.at));
      const actions = new Set(events.map((e) => e.action));
      expect([...actions].sort()).toEqual(["key.created", "key.imported", "key.revoked", "key.rotated", "key.updated", "user.created", "user.updated"]);
    });

    it("no event holds a secret or a hash", async () => {
      const text = JSON.stringify(await readAll(admin.secret));
      expect(secrets.length).toBeGreaterThan(5);
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(7));
      }
      expect(text).not.toMatch(/[0-9a-f]{64}/i);
      const hashes = await server.app.database.db.select({ hash: keySecrets.hash }).from(keySecrets);
      expect(hashes.length).toBeGreaterThan(5);
      for (const { hash } of hashes) expect(text).not.toContain(hash);
    });
  });

  describe("who reads what", () => {
    let alice: Issued;
    let bob: Issued;
    let aliceSecond: string;
    let bobSecond: string;
    beforeAll(async () => {
      alice = await issue({ email: "alice@example.com", scopes: ["keys:self"] });
      bob = await issue({ email: "bob@example.com", scopes: ["keys:self"] });
      const create = async (who: Issued) => {
        const data = await ok(server, who.secret, `mutation { createApiKey(input: { name: "second", clientType: "mobile" }) { apiKey { id } secret } }`);
        secrets.push(data.createApiKey.secret);
        return data.createApiKey.apiKey.id as string;
      };
      aliceSecond = await create(alice);
      bobSecond = await create(bob);
      // The admin acts on Alice's key: it concerns her even though she did not act.
      await asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { description: "checked by admin" }) { id } }`, { id: aliceSecond });
      await asAdmin(`mutation($id: ID!) { updateApiKey(id: $id, input: { description: "checked by admin" }) { id } }`, { id: bobSecond });
    });

    it("a member reads exactly the events about themselves and their keys", async () => {
      const all = await readAll(admin.secret);
      const aliceKeys = new Set((await server.app.database.db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.userId, alice.userId))).map((r) => r.id));
      const concernsAlice = (e: Event) =>
        e.actorUserId === alice.userId || e.targetUserId === alice.userId || (e.targetKeyId !== null && aliceKeys.has(e.targetKeyId));
      const seen = await readAll(alice.secret, undefined, 2);
      expect(seen).toEqual(all.filter(concernsAlice));
      expect(seen.map((e) => e.action).sort()).toEqual(["key.created", "key.created", "key.updated", "user.created"]);
      expect(seen.some((e) => e.targetUserId === bob.userId || e.targetKeyId === bobSecond || e.targetKeyId === bob.keyId)).toBe(false);
      expect(seen.find((e) => e.action === "key.updated")).toMatchObject({ actorUserId: admin.userId, targetKeyId: aliceSecond });
    });

    it("a member's filter on another member finds nothing; the admin's finds their events", async () => {
      const res = await ok(server, alice.secret, EVENTS, { filter: { userId: bob.userId } });
      expect(res.auditEvents).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
      const viaKey = await ok(server, alice.secret, EVENTS, { filter: { keyId: bobSecond } });
      expect(viaKey.auditEvents.totalCount).toBe(0);
      const bobs = await readAll(admin.secret, { userId: bob.userId });
      expect(bobs.map((e) => e.action).sort()).toEqual(["key.created", "key.created", "key.updated", "user.created"]);
    });

    it("filters by key, by user and by action, alone and together", async () => {
      const all = await readAll(admin.secret);
      expect(await readAll(admin.secret, { keyId: aliceSecond })).toEqual(all.filter((e) => e.targetKeyId === aliceSecond));
      expect((await readAll(admin.secret, { keyId: aliceSecond })).map((e) => e.action)).toEqual(["key.updated", "key.created"]);
      expect(await readAll(admin.secret, { action: "user.created" })).toEqual(all.filter((e) => e.action === "user.created"));
      expect(await readAll(admin.secret, { userId: alice.userId, action: "key.created" })).toEqual(
        all.filter((e) => e.action === "key.created" && (e.actorUserId === alice.userId || e.targetUserId === alice.userId)),
      );
      expect(await readAll(alice.secret, { action: "key.updated" })).toEqual(all.filter((e) => e.action === "key.updated" && e.targetKeyId === aliceSecond));
    });

    it("pages have a stable cursor and a totalCount", async () => {
      const first = (await asAdmin(EVENTS, { first: 2 })).auditEvents;
      const second = (await asAdmin(EVENTS, { first: 2, after: first.pageInfo.endCursor })).auditEvents;
      expect((await asAdmin(EVENTS, { first: 2, after: first.pageInfo.endCursor })).auditEvents).toEqual(second);
      expect(first.totalCount).toBe((await readAll(admin.secret)).length);
      expect(Number(second.edges[0].node.id)).toBeLessThan(Number(first.edges[1].node.id));
    });

    it.each([
      ["an unknown action", { filter: { action: "key.exploded" } }, "filter.action"],
      ["first: 101", { first: 101 }, "first"],
      ["first: -1", { first: -1 }, "first"],
      ["a garbage cursor", { after: "garbage" }, "after"],
      ["a keyId that is not an id", { filter: { keyId: "k1" } }, "filter.keyId"],
    ])("%s is bad input", async (_, variables, field) => {
      expectBadInput(await server.query(EVENTS, [apiKey(alice.secret)], variables), "auditEvents", field);
    });
  });
});
