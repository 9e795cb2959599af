// SPEC §6 "No escalation, in any dimension": each attack found against self-service, by name,
// over real HTTP. The property (no-escalation.property.test.ts) covers the class; these pin the
// examples, the refusals' exact extensions, and that a refusal changes nothing.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, keySecrets } from "../../src/db/schema/index.ts";
import type { RateLimitPolicy } from "../../src/limits/rate-limit.ts";
import { databaseKinds } from "../helpers/databases.ts";
import type { HttpResponse } from "../helpers/http.ts";
import { ADMIN_SCOPES, ok } from "../helpers/management.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const KEY = "id status active switchedOffBy expiresAt rateLimit { limit windowSeconds } scopes clientType";
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { ${KEY} } }`;
const ROTATE = `mutation($id: ID!, $grace: Int) { rotateApiKey(id: $id, gracePeriodSeconds: $grace) { secret apiKey { ${KEY} } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { ${KEY} } }`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The server default rate limit in this suite. */
const DEFAULT_LIMIT: RateLimitPolicy = { limit: 1000, windowSeconds: 60 };

interface Settings {
  scopes?: string[];
  clientType?: string;
  expiresAt?: Date | null;
  rateLimit?: RateLimitPolicy | null;
}
type Issued = { secret: string; keyId: string; userId: string };

describe.each(databaseKinds)("named escalation attacks on %s", (kind) => {
  const clock = manualClock();
  let server: TestServer;
  let admin: Issued;
  let members = 0;
  beforeAll(async () => {
    server = await startServer(kind, { clock, limits: { failedAuth: { limit: 10_000, windowSeconds: 60 }, rateLimit: DEFAULT_LIMIT } });
    admin = await server.issueKey({ email: `attacks-admin-${kind}@example.com`, role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  /** A fresh member (client types mobile and partner) and a key an admin issued them. */
  async function member(settings: Settings = {}): Promise<Issued & { issue(more: Settings): Promise<Issued> }> {
    const user = await server.app.users.createUser(CLI_PRINCIPAL, { email: `attacker-${kind}-${++members}@example.com`, clientTypes: ["mobile", "partner"] });
    const issue = async (s: Settings): Promise<Issued> => {
      const { apiKey: key, secret } = await server.app.keys.createKey(CLI_PRINCIPAL, {
        userId: user.id, name: "issued by an admin", clientType: s.clientType ?? "mobile", scopes: s.scopes ?? ["keys:self"],
        expiresAt: s.expiresAt ?? null, rateLimit: s.rateLimit ?? null,
      });
      return { secret, keyId: key.id, userId: user.id };
    };
    return { ...(await issue(settings)), issue };
  }
  const as = (secret: string, query: string, variables?: Record<string, unknown>) => server.query(query, [apiKey(secret)], variables);
  const rowOf = async (id: string) => (await server.app.database.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]!;
  const iso = (ms: number) => new Date(ms).toISOString();

  /** FORBIDDEN on the one root field, with this reason and field, and the target exactly as it was. */
  async function expectRefused(res: HttpResponse, field: string, reason: string, inputField: string, unchanged?: { id: string; before: unknown }) {
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: null,
      errors: [{ message: expect.any(String), locations: expect.any(Array), path: [field], extensions: { code: "FORBIDDEN", reason, field: inputField } }],
    });
    if (unchanged) expect(await rowOf(unchanged.id)).toEqual(unchanged.before);
  }

  describe("rate limit", () => {
    it("a member raises the rate limit of a key an admin issued (10 / 60 s → 1,000,000 / 1 s): refused", async () => {
      const m = await member({ rateLimit: { limit: 10, windowSeconds: 60 } });
      const before = await rowOf(m.keyId);
      const res = await as(m.secret, UPDATE, { id: m.keyId, input: { rateLimit: { limit: 1_000_000, windowSeconds: 1 } } });
      await expectRefused(res, "updateApiKey", "RATE_LIMIT_NOT_GRANTABLE", "rateLimit", { id: m.keyId, before });
      expect(res.json.errors[0].message).toBe(
        "1000000 requests per 1 s is more than your key's 10 requests per 60 s: give rateLimit a limit of at most 10 and a window of at least 60 s.",
      );
    });

    it("a member sets rateLimit: null (the server default, 1000 / 60 s) on a key limited to 10 / 60 s: refused", async () => {
      const m = await member({ rateLimit: { limit: 10, windowSeconds: 60 } });
      const before = await rowOf(m.keyId);
      await expectRefused(await as(m.secret, UPDATE, { id: m.keyId, input: { rateLimit: null } }), "updateApiKey", "RATE_LIMIT_NOT_GRANTABLE", "rateLimit", { id: m.keyId, before });
    });

    it("a member with a limited key creates a key with no limit (the server default): refused; one within its limit is issued", async () => {
      const m = await member({ rateLimit: { limit: 10, windowSeconds: 60 } });
      await expectRefused(await as(m.secret, CREATE, { input: { name: "unlimited", clientType: "mobile" } }), "createApiKey", "RATE_LIMIT_NOT_GRANTABLE", "rateLimit");
      const made = await ok(server, m.secret, CREATE, { input: { name: "within", clientType: "mobile", rateLimit: { limit: 10, windowSeconds: 120 } } });
      expect(made.createApiKey.apiKey.rateLimit).toEqual({ limit: 10, windowSeconds: 120 });
    });

    it.each([
      ["the same rate with a bigger burst", { limit: 1000, windowSeconds: 6000 }, false],
      ["a lower rate with a bigger burst", { limit: 11, windowSeconds: 600 }, false],
      ["the same rate in shorter windows (more requests in some 60-second spans)", { limit: 9, windowSeconds: 54 }, false],
      ["a shorter window with a smaller limit (refused by the simple rule, although harmless)", { limit: 5, windowSeconds: 30 }, false],
      ["the same limit over a longer window", { limit: 10, windowSeconds: 61 }, true],
      ["exactly the calling key's limit", { limit: 10, windowSeconds: 60 }, true],
      ["a smaller limit over the same window", { limit: 1, windowSeconds: 60 }, true],
    ] as const)("under 10 / 60 s, %s (%o): %s", async (_, rateLimit, allowed) => {
      const m = await member({ rateLimit: { limit: 10, windowSeconds: 60 } });
      const res = await as(m.secret, CREATE, { input: { name: "policy", clientType: "mobile", rateLimit } });
      if (allowed) expect(res.json.data.createApiKey.apiKey.rateLimit).toEqual(rateLimit);
      else await expectRefused(res, "createApiKey", "RATE_LIMIT_NOT_GRANTABLE", "rateLimit");
    });

    it("a key without its own limit is bounded by the server default: more is refused, the default itself is fine", async () => {
      const m = await member();
      await expectRefused(
        await as(m.secret, CREATE, { input: { name: "faster", clientType: "mobile", rateLimit: { limit: 1001, windowSeconds: 60 } } }),
        "createApiKey", "RATE_LIMIT_NOT_GRANTABLE", "rateLimit",
      );
      expect((await ok(server, m.secret, CREATE, { input: { name: "default", clientType: "mobile" } })).createApiKey.apiKey.rateLimit).toBeNull();
    });

    it("a key with a low limit cannot update, rotate or revoke a sibling with a higher one", async () => {
      const m = await member({ rateLimit: { limit: 10, windowSeconds: 60 } });
      const fast = await m.issue({ rateLimit: { limit: 100, windowSeconds: 60 } });
      const before = await rowOf(fast.keyId);
      await expectRefused(await as(m.secret, UPDATE, { id: fast.keyId, input: { name: "mine now" } }), "updateApiKey", "KEY_NOT_MANAGEABLE", "id", { id: fast.keyId, before });
      await expectRefused(await as(m.secret, ROTATE, { id: fast.keyId }), "rotateApiKey", "KEY_NOT_MANAGEABLE", "id", { id: fast.keyId, before });
      await expectRefused(await as(m.secret, REVOKE, { id: fast.keyId }), "revokeApiKey", "KEY_NOT_MANAGEABLE", "id", { id: fast.keyId, before });
    });
  });

  describe("expiry", () => {
    it("a member clears the expiry of a key an admin issued with one: refused", async () => {
      const m = await member({ expiresAt: new Date(clock.now() + DAY) });
      const before = await rowOf(m.keyId);
      const res = await as(m.secret, UPDATE, { id: m.keyId, input: { expiresAt: null } });
      await expectRefused(res, "updateApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt", { id: m.keyId, before });
      expect(res.json.errors[0].message).toContain(`give expiresAt at or before ${before.expiresAt!.toISOString()}`);
    });

    it("a member extends the expiry of a key an admin issued: refused; shortening it is fine", async () => {
      const m = await member({ expiresAt: new Date(clock.now() + DAY) });
      const before = await rowOf(m.keyId);
      await expectRefused(await as(m.secret, UPDATE, { id: m.keyId, input: { expiresAt: iso(clock.now() + 2 * DAY) } }), "updateApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt", {
        id: m.keyId, before,
      });
      const shorter = iso(clock.now() + HOUR);
      expect((await ok(server, m.secret, UPDATE, { id: m.keyId, input: { expiresAt: shorter } })).updateApiKey.expiresAt).toBe(shorter);
    });

    it("a member with an expiring key creates a key that never expires, or expires later: refused; an earlier expiry is issued", async () => {
      const m = await member({ expiresAt: new Date(clock.now() + DAY) });
      await expectRefused(await as(m.secret, CREATE, { input: { name: "forever", clientType: "mobile" } }), "createApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt");
      await expectRefused(await as(m.secret, CREATE, { input: { name: "later", clientType: "mobile", expiresAt: iso(clock.now() + DAY + 1000) } }), "createApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt");
      const sooner = iso(clock.now() + DAY);
      expect((await ok(server, m.secret, CREATE, { input: { name: "sooner", clientType: "mobile", expiresAt: sooner } })).createApiKey.apiKey.expiresAt).toBe(sooner);
    });

    it("a member brings an already expired key back to ACTIVE by clearing (or moving) its expiry: refused, it stays EXPIRED", async () => {
      const m = await member();
      const expired = await m.issue({ expiresAt: new Date(clock.now() + HOUR) });
      clock.advance(HOUR + 1);
      const before = await rowOf(expired.keyId);
      await expectRefused(await as(m.secret, UPDATE, { id: expired.keyId, input: { expiresAt: null } }), "updateApiKey", "EXPIRED_KEY_FINAL", "expiresAt", { id: expired.keyId, before });
      await expectRefused(await as(m.secret, UPDATE, { id: expired.keyId, input: { expiresAt: iso(clock.now() + DAY) } }), "updateApiKey", "EXPIRED_KEY_FINAL", "expiresAt", {
        id: expired.keyId, before,
      });
      expect((await as(expired.secret, "{ me { apiKey { id } } }")).json.errors[0].extensions.reason).toBe("KEY_EXPIRED");
      // An admin may.
      const revived = await ok(server, admin.secret, UPDATE, { id: expired.keyId, input: { expiresAt: null } });
      expect(revived.updateApiKey.status).toBe("ACTIVE");
    });

    it("a short-lived key cannot update, rotate or revoke a sibling that lives longer or never expires", async () => {
      const m = await member({ expiresAt: new Date(clock.now() + HOUR) });
      for (const longer of [await m.issue({}), await m.issue({ expiresAt: new Date(clock.now() + DAY) })]) {
        const before = await rowOf(longer.keyId);
        await expectRefused(await as(m.secret, UPDATE, { id: longer.keyId, input: { scopes: [] } }), "updateApiKey", "KEY_NOT_MANAGEABLE", "id", { id: longer.keyId, before });
        await expectRefused(await as(m.secret, ROTATE, { id: longer.keyId }), "rotateApiKey", "KEY_NOT_MANAGEABLE", "id", { id: longer.keyId, before });
        await expectRefused(await as(m.secret, REVOKE, { id: longer.keyId }), "revokeApiKey", "KEY_NOT_MANAGEABLE", "id", { id: longer.keyId, before });
      }
      // The other way round is fine: the longer-lived key rotates the short-lived one.
      const longLived = await m.issue({});
      expect((await ok(server, longLived.secret, ROTATE, { id: m.keyId })).rotateApiKey.apiKey.id).toBe(m.keyId);
    });

    it("an old secret in its rotation's grace period cannot outlast it: no key that lives longer, no rotating the key again", async () => {
      const m = await member();
      const rotated = await ok(server, m.secret, ROTATE, { id: m.keyId, grace: 3600 });
      const graceEnd = clock.now() + HOUR;
      // The old secret still works (for an hour) ...
      expect((await ok(server, m.secret, "{ me { apiKey { id } } }")).me.apiKey.id).toBe(m.keyId);
      // ... but whatever it makes or manages must stop by then.
      await expectRefused(await as(m.secret, CREATE, { input: { name: "escape", clientType: "mobile" } }), "createApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt");
      await expectRefused(await as(m.secret, ROTATE, { id: m.keyId }), "rotateApiKey", "KEY_NOT_MANAGEABLE", "id");
      const inside = await ok(server, m.secret, CREATE, { input: { name: "inside", clientType: "mobile", expiresAt: iso(graceEnd) } });
      expect(inside.createApiKey.apiKey.expiresAt).toBe(iso(graceEnd));
      // The new secret holds the key's full life.
      expect((await ok(server, rotated.rotateApiKey.secret, CREATE, { input: { name: "new", clientType: "mobile" } })).createApiKey.apiKey.expiresAt).toBeNull();
    });
  });

  describe("the switch", () => {
    it("a member switches back on a key an admin switched off: refused, also after switching it off again themselves", async () => {
      const m = await member();
      const off = await ok(server, admin.secret, UPDATE, { id: m.keyId, input: { active: false } });
      expect(off.updateApiKey).toMatchObject({ active: false, switchedOffBy: "ADMIN", status: "DISABLED" });
      const sibling = await m.issue({});
      const before = await rowOf(m.keyId);
      await expectRefused(await as(sibling.secret, UPDATE, { id: m.keyId, input: { active: true } }), "updateApiKey", "SWITCHED_OFF_BY_ADMIN", "active", { id: m.keyId, before });
      // Switching it off again is no change: the switch stays the admin's.
      expect((await ok(server, sibling.secret, UPDATE, { id: m.keyId, input: { active: false } })).updateApiKey.switchedOffBy).toBe("ADMIN");
      await expectRefused(await as(sibling.secret, UPDATE, { id: m.keyId, input: { active: true, name: "sneaky" } }), "updateApiKey", "SWITCHED_OFF_BY_ADMIN", "active", { id: m.keyId, before });
      // The admin can, and the trail says who switched it.
      expect((await ok(server, admin.secret, UPDATE, { id: m.keyId, input: { active: true } })).updateApiKey).toMatchObject({ active: true, switchedOffBy: null, status: "ACTIVE" });
      const trail = await ok(server, admin.secret, `query($k: ID) { auditEvents(filter: { keyId: $k, action: "key.updated" }) { edges { node { actorUserId changes } } } }`, { k: m.keyId });
      expect(trail.auditEvents.edges.map((e: any) => e.node.changes)).toEqual([
        { active: { from: false, to: true }, switchedOffBy: { from: "ADMIN", to: null } },
        { active: { from: true, to: false }, switchedOffBy: { from: null, to: "ADMIN" } },
      ]);
    });

    it("a key the owner switched off, the owner may switch on; once an admin switches it off too, only an admin", async () => {
      const m = await member();
      const sibling = await m.issue({});
      expect((await ok(server, m.secret, UPDATE, { id: sibling.keyId, input: { active: false } })).updateApiKey.switchedOffBy).toBe("OWNER");
      expect((await ok(server, m.secret, UPDATE, { id: sibling.keyId, input: { active: true } })).updateApiKey).toMatchObject({ active: true, switchedOffBy: null });
      await ok(server, m.secret, UPDATE, { id: sibling.keyId, input: { active: false } });
      expect((await ok(server, admin.secret, UPDATE, { id: sibling.keyId, input: { active: false } })).updateApiKey.switchedOffBy).toBe("ADMIN");
      await expectRefused(await as(m.secret, UPDATE, { id: sibling.keyId, input: { active: true } }), "updateApiKey", "SWITCHED_OFF_BY_ADMIN", "active");
    });
  });

  describe("revoke", () => {
    it("a weak keys:self key revokes its owner's keys:admin key: refused", async () => {
      const user = await server.app.users.createUser(CLI_PRINCIPAL, { email: `revoke-target-${kind}@example.com`, role: "ADMIN", clientTypes: ["mobile"] });
      const strong = await server.app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "admin key", clientType: "mobile", scopes: ADMIN_SCOPES });
      const weak = await server.app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "weak key", clientType: "mobile", scopes: ["keys:self"] });
      const before = await rowOf(strong.apiKey.id);
      await expectRefused(await as(weak.secret, REVOKE, { id: strong.apiKey.id }), "revokeApiKey", "KEY_NOT_MANAGEABLE", "id", { id: strong.apiKey.id, before });
      expect((await ok(server, strong.secret, "{ me { apiKey { status } } }")).me.apiKey.status).toBe("ACTIVE");
    });

    it("a key may revoke itself and weaker siblings; revoking a revoked key is still idempotent", async () => {
      const m = await member({ scopes: ["keys:self", "orders:read"] });
      const weaker = await m.issue({ scopes: [] });
      expect((await ok(server, m.secret, REVOKE, { id: weaker.keyId })).revokeApiKey.status).toBe("REVOKED");
      expect((await ok(server, m.secret, REVOKE, { id: weaker.keyId })).revokeApiKey.status).toBe("REVOKED");
      expect((await ok(server, m.secret, REVOKE, { id: m.keyId })).revokeApiKey.status).toBe("REVOKED");
    });
  });

  describe("client type", () => {
    it("a mobile key cannot rotate (and so obtain) a sibling of a client type its owner may not give (backoffice, issued by an admin)", async () => {
      const m = await member();
      const backoffice = await m.issue({ clientType: "backoffice" });
      const before = await rowOf(backoffice.keyId);
      await expectRefused(await as(m.secret, ROTATE, { id: backoffice.keyId }), "rotateApiKey", "KEY_NOT_MANAGEABLE", "id", { id: backoffice.keyId, before });
      // A partner sibling (a type the owner may give) is fine, and the backoffice key may rotate itself.
      const partner = await m.issue({ clientType: "partner" });
      expect((await ok(server, m.secret, ROTATE, { id: partner.keyId })).rotateApiKey.apiKey.clientType).toBe("partner");
      expect((await ok(server, backoffice.secret, ROTATE, { id: backoffice.keyId })).rotateApiKey.apiKey.clientType).toBe("backoffice");
    });
  });

  describe("the calling key is read afresh, not from the key cache", () => {
    it("an expiry an admin gave the calling key behind the cache's back bounds the next request", async () => {
      const m = await member();
      await ok(server, m.secret, "{ me { apiKey { id } } }"); // cached now
      const soon = new Date(clock.now() + HOUR);
      await server.app.database.db.update(apiKeys).set({ expiresAt: soon }).where(eq(apiKeys.id, m.keyId));
      await expectRefused(await as(m.secret, CREATE, { input: { name: "forever", clientType: "mobile" } }), "createApiKey", "EXPIRY_NOT_GRANTABLE", "expiresAt");
    });

    it("a calling key revoked behind the cache's back cannot manage anything", async () => {
      const m = await member();
      const sibling = await m.issue({});
      await ok(server, m.secret, "{ me { apiKey { id } } }");
      await server.app.database.db.update(apiKeys).set({ revokedAt: new Date(clock.now()) }).where(eq(apiKeys.id, m.keyId));
      const res = await as(m.secret, REVOKE, { id: sibling.keyId });
      expect(res.json.data).toBeNull();
      expect(res.json.errors[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "KEY_REVOKED" });
      expect((await rowOf(sibling.keyId)).revokedAt).toBeNull();
    });

    it("an old secret whose grace period was cut short behind the cache's back is refused", async () => {
      const m = await member();
      const sibling = await m.issue({});
      await ok(server, m.secret, ROTATE, { id: m.keyId, grace: 3600 });
      await ok(server, m.secret, "{ me { apiKey { id } } }");
      await server.app.database.db.update(keySecrets).set({ expiresAt: new Date(clock.now()) }).where(eq(keySecrets.keyId, m.keyId));
      const res = await as(m.secret, UPDATE, { id: sibling.keyId, input: { name: "x" } });
      expect(res.json.errors[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "KEY_REVOKED" });
    });
  });
});
