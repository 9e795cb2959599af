// SPEC §6 key mutations over real HTTP: create, import, update, rotate, revoke; every change seen
// on the very next request (the services evict the cache); the per-user live-key limit.
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, auditEvents, keySecrets } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import {
  ADMIN_SCOPES, ANY_LAST_USED, expectBadInput, expectFieldError, KEY_FIELDS, ok, UNKNOWN_ID,
  MANAGEMENT_LIMITS,
} from "../helpers/management.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const GUARDED = "{ inventory { quantity } }";
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { ${KEY_FIELDS} } secret } }`;
const IMPORT = `mutation($input: ImportApiKeyInput!) { importApiKey(input: $input) { ${KEY_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { ${KEY_FIELDS} } }`;
const ROTATE = `mutation($id: ID!, $grace: Int) { rotateApiKey(id: $id, gracePeriodSeconds: $grace) { apiKey { ${KEY_FIELDS} } secret } }`;
const ROTATE_DEFAULT = `mutation($id: ID!) { rotateApiKey(id: $id) { apiKey { id } secret } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`;
const GET = `query($id: ID!) { apiKey(id: $id) { ${KEY_FIELDS} } }`;
const UPDATE_USER = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id role disabled } }`;

type Issued = { secret: string; keyId: string; userId: string };

describe.each(databaseKinds)("key mutations on %s", (kind) => {
  const clock = manualClock();
  let server: TestServer;
  let admin: Issued;
  beforeAll(async () => {
    server = await startServer(kind, { clock, limits: MANAGEMENT_LIMITS });
    admin = await server.issueKey({ email: "keys-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  const asAdmin = (query: string, variables?: Record<string, unknown>) => ok(server, admin.secret, query, variables);
  const as = (secret: string, query: string, variables?: Record<string, unknown>) => server.query(query, [apiKey(secret)], variables);
  /** Whether `secret` opens the key-only example field; the 401 reason when it does not. */
  async function works(secret: string): Promise<true | string> {
    const res = await as(secret, GUARDED);
    if (res.status === 200 && res.json.data?.inventory) return true;
    return res.json.errors?.[0]?.extensions?.reason ?? `status ${res.status}`;
  }
  const iso = (ms: number) => new Date(ms).toISOString();

  describe("createApiKey", () => {
    it("issues a key whose secret appears once, works at once, and shows its first 7 characters as start", async () => {
      const member = await server.issueKey({ email: "creator@example.com", scopes: ["keys:self", "orders:read"] });
      const expiresAt = iso(clock.now() + 86_400_000);
      const res = await as(member.secret, CREATE, {
        input: { name: "  CI runner ", description: "builds", clientType: "mobile", scopes: ["orders:read"], expiresAt, rateLimit: { limit: 10, windowSeconds: 60 } },
      });
      expect(res.status).toBe(200);
      const { apiKey: key, secret } = res.json.data.createApiKey;
      expect(secret).toMatch(/^ks_[0-9A-Za-z]{38}$/);
      expect(key).toEqual({
        id: expect.any(String), name: "CI runner", description: "builds", clientType: "mobile", scopes: ["orders:read"],
        start: secret.slice(0, 7), status: "ACTIVE", active: true, switchedOffBy: null, expiresAt, createdAt: expect.any(String), updatedAt: expect.any(String),
        lastUsedAt: null, revokedAt: null, rateLimit: { limit: 10, windowSeconds: 60 }, owner: { id: member.userId, email: "creator@example.com" },
      });
      const me = await ok(server, secret, "{ me { apiKey { id scopes } user { id } } }");
      expect(me).toEqual({ me: { apiKey: { id: key.id, scopes: ["orders:read"] }, user: { id: member.userId } } });

      // Never again: not in the key, the lists, the user's keys, nor the audit trail.
      const later = [
        await as(member.secret, GET, { id: key.id }),
        await as(member.secret, `{ myApiKeys { ${KEY_FIELDS} } }`),
        await as(admin.secret, `query($u: ID!) { apiKeys(filter: { userId: $u }, first: 100) { edges { cursor node { ${KEY_FIELDS} } } } user(id: $u) { apiKeys { ${KEY_FIELDS} } } }`, { u: member.userId }),
        await as(admin.secret, "{ auditEvents(first: 100) { edges { cursor node { id action changes targetKeyId } } } }"),
        await as(member.secret, "{ auditEvents(first: 100) { edges { node { changes } } } }"),
      ];
      for (const r of later) {
        expect(r.status).toBe(200);
        expect(r.json.errors).toBeUndefined();
        expect(r.text).not.toContain(secret.slice(7));
        expect(r.text).not.toMatch(/[0-9a-f]{64}/);
      }
      expect(later[0]!.json.data.apiKey.start).toBe(secret.slice(0, 7));
    });

    it.each([
      ["an expiry in the past", { expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
      ["a blank name", { name: "   " }, "name"],
      ["a client type with blanks", { clientType: "mobile app" }, "clientType"],
      ["a scope with blanks", { scopes: ["orders read"] }, "scopes"],
      ["an unknown userId", { userId: UNKNOWN_ID }, "userId"],
      ["a name over 100 characters", { name: "n".repeat(101) }, "name"],
      ["a rate limit of 0", { rateLimit: { limit: 0, windowSeconds: 60 } }, "rateLimit.limit"],
    ])("%s is bad input", async (_, change, field) => {
      const res = await as(admin.secret, CREATE, { input: { name: "x", clientType: "mobile", ...change } });
      expectBadInput(res, "createApiKey", field);
    });
  });

  describe("importApiKey", () => {
    const value = "legacy-partner-key-0001";
    let owner: Issued;
    beforeAll(async () => {
      owner = await server.issueKey({ email: "migrated@example.com", clientType: "partner" });
    });

    it.each([
      ["15 characters", "a".repeat(15)],
      ["257 characters", "a".repeat(257)],
      ["a blank", "legacy key with blanks"],
      ["a control character", "legacy-key-\u0007-0123456"],
      ["the key prefix", "ks_legacy-key-0123456789"],
    ])("a value of %s is bad input", async (_, bad) => {
      const res = await as(admin.secret, IMPORT, { input: { value: bad, userId: owner.userId, name: "legacy", clientType: "partner" } });
      expectBadInput(res, "importApiKey", "value");
    });

    it("an unknown userId is bad input; members cannot import", async () => {
      expectBadInput(await as(admin.secret, IMPORT, { input: { value, userId: UNKNOWN_ID, name: "legacy", clientType: "partner" } }), "importApiKey", "userId");
      const member = await server.issueKey({ email: "would-import@example.com", scopes: ["keys:self"] });
      const res = await as(member.secret, IMPORT, { input: { value, userId: member.userId, name: "legacy", clientType: "mobile" } });
      expectFieldError(res, "importApiKey", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
    });

    it("imports a chosen value that then authenticates; other non-prefixed strings become KEY_INVALID", async () => {
      expectUnauthenticated(await as("some-other-legacy-value-99", GUARDED), "KEY_MALFORMED");
      const data = await asAdmin(IMPORT, { input: { value, userId: owner.userId, name: "legacy", clientType: "partner", scopes: ["orders:read"] } });
      expect(data.importApiKey).toMatchObject({
        name: "legacy", clientType: "partner", scopes: ["orders:read"], status: "ACTIVE", owner: { id: owner.userId }, start: value.slice(0, 4),
      });
      expect(JSON.stringify(data)).not.toContain(value);
      const me = await ok(server, value, "{ me { apiKey { id } } }");
      expect(me.me.apiKey.id).toBe(data.importApiKey.id);
      expectUnauthenticated(await as("some-other-legacy-value-99", GUARDED), "KEY_INVALID");
      expectUnauthenticated(await as("ks_" + "a".repeat(38), GUARDED), "KEY_MALFORMED");
    });

    it("a value already in use is bad input", async () => {
      const res = await as(admin.secret, IMPORT, { input: { value, userId: admin.userId, name: "again", clientType: "mobile" } });
      expectBadInput(res, "importApiKey", "value");
    });
  });

  describe("updateApiKey", () => {
    it("changes each field given, leaves the others, and clears expiry and rate limit with explicit null", async () => {
      const member = await server.issueKey({ email: "updated@example.com", scopes: ["keys:self"] });
      const before = (await asAdmin(GET, { id: member.keyId })).apiKey;
      const expiresAt = iso(clock.now() + 3_600_000);
      const changed = (await asAdmin(UPDATE, {
        id: member.keyId,
        input: { name: "renamed", description: "a note", expiresAt, active: false, scopes: ["orders:read", "keys:self"], clientType: "backoffice", rateLimit: { limit: 5, windowSeconds: 1 } },
      })).updateApiKey;
      expect(changed).toEqual({
        ...before, name: "renamed", description: "a note", expiresAt, active: false, switchedOffBy: "ADMIN", status: "DISABLED", scopes: ["keys:self", "orders:read"],
        clientType: "backoffice", rateLimit: { limit: 5, windowSeconds: 1 }, updatedAt: expect.any(String), lastUsedAt: ANY_LAST_USED,
      });
      expect(Date.parse(changed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));

      const nameOnly = (await asAdmin(UPDATE, { id: member.keyId, input: { name: "only the name" } })).updateApiKey;
      expect(nameOnly).toEqual({ ...changed, name: "only the name", updatedAt: expect.any(String), lastUsedAt: ANY_LAST_USED });

      const cleared = (await asAdmin(UPDATE, { id: member.keyId, input: { expiresAt: null, rateLimit: null, description: null, active: true } })).updateApiKey;
      expect(cleared).toMatchObject({ expiresAt: null, rateLimit: null, description: null, active: true, switchedOffBy: null, status: "ACTIVE", name: "only the name" });
      expect(await asAdmin(GET, { id: member.keyId })).toEqual({ apiKey: { ...cleared, lastUsedAt: ANY_LAST_USED } });
    });

    it("a member updates their own key within their powers", async () => {
      const member = await server.issueKey({ email: "self-updater@example.com", scopes: ["keys:self", "orders:read"] });
      const data = await ok(server, member.secret, UPDATE, { id: member.keyId, input: { scopes: ["keys:self"], description: "narrower" } });
      expect(data.updateApiKey).toMatchObject({ scopes: ["keys:self"], description: "narrower" });
      const other = await server.issueKey({ email: "self-updater-other@example.com" });
      expectFieldError(await as(member.secret, UPDATE, { id: other.keyId, input: { name: "mine now" } }), "updateApiKey", { code: "NOT_FOUND" });
    });

    it.each([
      ["an expiry in the past", { expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
      ["a blank name", { name: " " }, "name"],
      ["a client type with blanks", { clientType: "back office" }, "clientType"],
      ["a scope with blanks", { scopes: ["a b"] }, "scopes"],
      ["a negative window", { rateLimit: { limit: 5, windowSeconds: -1 } }, "rateLimit.windowSeconds"],
    ])("%s is bad input", async (_, input, field) => {
      const member = await server.issueKey({ email: "bad-update@example.com" });
      expectBadInput(await as(admin.secret, UPDATE, { id: member.keyId, input }), "updateApiKey", field);
    });

    it("a revoked key cannot be updated, not even switched back on", async () => {
      const member = await server.issueKey({ email: "revoked-update@example.com" });
      await asAdmin(REVOKE, { id: member.keyId });
      const res = await as(admin.secret, UPDATE, { id: member.keyId, input: { active: true } });
      expectBadInput(res, "updateApiKey", "id");
      expect((await asAdmin(GET, { id: member.keyId })).apiKey.status).toBe("REVOKED");
      expect(await works(member.secret)).toBe("KEY_REVOKED");
    });
  });

  describe("rotateApiKey", () => {
    /** Secrets of the key still live at the clock's now. */
    async function liveSecrets(keyId: string) {
      return server.app.database.db
        .select()
        .from(keySecrets)
        .where(and(eq(keySecrets.keyId, keyId), or(isNull(keySecrets.expiresAt), gt(keySecrets.expiresAt, new Date(clock.now())))));
    }

    it("keeps the key (id, settings, createdAt) and gives a new secret; the old one works for the grace period only", async () => {
      const member = await server.issueKey({ email: "rotator@example.com", scopes: ["keys:self"] });
      const created = await ok(server, member.secret, CREATE, {
        input: { name: "rotated", clientType: "mobile", description: "d", rateLimit: { limit: 7, windowSeconds: 60 }, expiresAt: iso(clock.now() + 86_400_000) },
      });
      const old = created.createApiKey;
      const rotated = (await ok(server, member.secret, ROTATE, { id: old.apiKey.id, grace: 60 })).rotateApiKey;
      expect(rotated.secret).toMatch(/^ks_[0-9A-Za-z]{38}$/);
      expect(rotated.secret).not.toBe(old.secret);
      expect(rotated.apiKey).toEqual({ ...old.apiKey, start: rotated.secret.slice(0, 7), updatedAt: expect.any(String), lastUsedAt: ANY_LAST_USED });

      expect(await works(rotated.secret)).toBe(true);
      expect(await works(old.secret)).toBe(true);
      clock.advance(59_000);
      expect(await works(old.secret)).toBe(true);
      clock.advance(1_000);
      expect(await works(old.secret)).toBe("KEY_REVOKED");
      expect(await works(rotated.secret)).toBe(true);
    });

    it("grace 0 (the default) stops the old secret at once", async () => {
      const member = await server.issueKey({ email: "rotate-now@example.com" });
      expect(await works(member.secret)).toBe(true);
      const rotated = (await asAdmin(ROTATE_DEFAULT, { id: member.keyId })).rotateApiKey;
      expect(await works(member.secret)).toBe("KEY_REVOKED");
      expect(await works(rotated.secret)).toBe(true);
      const again = (await asAdmin(ROTATE, { id: member.keyId, grace: 0 })).rotateApiKey;
      expect(await works(rotated.secret)).toBe("KEY_REVOKED");
      expect(await works(again.secret)).toBe(true);
      expect(await liveSecrets(member.keyId)).toHaveLength(1);
    });

    it("the grace period never outlasts the key's own expiry", async () => {
      const expiresAt = new Date(clock.now() + 30_000);
      const member = await server.issueKey({ email: "rotate-expiring@example.com", expiresAt });
      const rotated = (await asAdmin(ROTATE, { id: member.keyId, grace: 3600 })).rotateApiKey;
      const secrets = await server.app.database.db.select().from(keySecrets).where(eq(keySecrets.keyId, member.keyId));
      expect(secrets).toHaveLength(2);
      const oldRow = secrets.find((s) => s.expiresAt !== null)!;
      expect(oldRow.expiresAt!.getTime()).toBe(expiresAt.getTime());
      clock.advance(29_000);
      expect(await works(member.secret)).toBe(true);
      clock.advance(1_000);
      expect(await works(member.secret)).not.toBe(true);
      expect(await works(rotated.secret)).toBe("KEY_EXPIRED");
    });

    it("rotating again during a grace period leaves at most the newest two secrets live", async () => {
      const member = await server.issueKey({ email: "rotate-twice@example.com" });
      const first = (await asAdmin(ROTATE, { id: member.keyId, grace: 3600 })).rotateApiKey;
      clock.advance(10_000);
      const second = (await asAdmin(ROTATE, { id: member.keyId, grace: 3600 })).rotateApiKey;
      expect(await liveSecrets(member.keyId)).toHaveLength(2);
      expect(await works(member.secret)).toBe("KEY_REVOKED");
      expect(await works(first.secret)).toBe(true);
      expect(await works(second.secret)).toBe(true);
    });

    it("a negative grace period is bad input; a revoked key cannot be rotated; others' keys do not exist", async () => {
      const member = await server.issueKey({ email: "rotate-bad@example.com", scopes: ["keys:self"] });
      expectBadInput(await as(admin.secret, ROTATE, { id: member.keyId, grace: -1 }), "rotateApiKey", "gracePeriodSeconds");
      expect(await works(member.secret)).toBe(true);
      const other = await server.issueKey({ email: "rotate-bad-other@example.com" });
      expectFieldError(await as(member.secret, ROTATE, { id: other.keyId, grace: 0 }), "rotateApiKey", { code: "NOT_FOUND" });
      await asAdmin(REVOKE, { id: other.keyId });
      expectBadInput(await as(admin.secret, ROTATE, { id: other.keyId, grace: 0 }), "rotateApiKey", "id");
    });
  });

  describe("revokeApiKey", () => {
    it("is final at once and idempotent: the same revokedAt, one audit event", async () => {
      const member = await server.issueKey({ email: "revoked@example.com", scopes: ["keys:self"] });
      expect(await works(member.secret)).toBe(true);
      const first = (await asAdmin(REVOKE, { id: member.keyId })).revokeApiKey;
      expect(first).toMatchObject({ id: member.keyId, status: "REVOKED", revokedAt: iso(clock.now()) });
      expect(await works(member.secret)).toBe("KEY_REVOKED");
      const second = (await asAdmin(REVOKE, { id: member.keyId })).revokeApiKey;
      expect(second).toEqual({ ...first, lastUsedAt: ANY_LAST_USED });
      const events = await server.app.database.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.targetKeyId, member.keyId), eq(auditEvents.action, "key.revoked")));
      expect(events).toHaveLength(1);
      expectBadInput(await as(admin.secret, UPDATE, { id: member.keyId, input: { active: true } }), "updateApiKey", "id");
      expect(await works(member.secret)).toBe("KEY_REVOKED");
    });

    it("a member revokes their own key, not another's", async () => {
      const member = await server.issueKey({ email: "self-revoker@example.com", scopes: ["keys:self"] });
      const spare = await server.issueKey({ email: "self-revoker@example.com" });
      const other = await server.issueKey({ email: "self-revoker-other@example.com" });
      expectFieldError(await as(member.secret, REVOKE, { id: other.keyId }), "revokeApiKey", { code: "NOT_FOUND" });
      expect(await works(other.secret)).toBe(true);
      expect((await ok(server, member.secret, REVOKE, { id: spare.keyId })).revokeApiKey.status).toBe("REVOKED");
      expect(await works(spare.secret)).toBe("KEY_REVOKED");
    });
  });

  describe("every change shows on the very next request (the cache is evicted)", () => {
    /** A key used once, so that its credential sits in the cache. */
    async function warmKey(email: string, options: { clientType?: string; scopes?: string[]; role?: "ADMIN" | "MEMBER" } = {}) {
      const key = await server.issueKey({ email, ...options });
      expect(await works(key.secret)).toBe(true);
      expect(await works(key.secret)).toBe(true);
      return key;
    }

    it("revoke", async () => {
      const key = await warmKey("cache-revoke@example.com");
      await asAdmin(REVOKE, { id: key.keyId });
      expect(await works(key.secret)).toBe("KEY_REVOKED");
    });

    it("active: false, and back on", async () => {
      const key = await warmKey("cache-disable@example.com");
      await asAdmin(UPDATE, { id: key.keyId, input: { active: false } });
      expect(await works(key.secret)).toBe("KEY_DISABLED");
      await asAdmin(UPDATE, { id: key.keyId, input: { active: true } });
      expect(await works(key.secret)).toBe(true);
    });

    it("rotate with grace 0", async () => {
      const key = await warmKey("cache-rotate@example.com");
      const rotated = (await asAdmin(ROTATE, { id: key.keyId, grace: 0 })).rotateApiKey;
      expect(await works(key.secret)).toBe("KEY_REVOKED");
      expect(await works(rotated.secret)).toBe(true);
    });

    it("a scope removed: the field that needs it is FORBIDDEN at once", async () => {
      const key = await warmKey("cache-rescope@example.com", { clientType: "backoffice", scopes: ["orders:read"] });
      expect((await ok(server, key.secret, "{ orders { id } }")).orders).toHaveLength(2);
      await asAdmin(UPDATE, { id: key.keyId, input: { scopes: [] } });
      const res = await as(key.secret, "{ orders { id } }");
      expectFieldError(res, "orders", { code: "FORBIDDEN", reason: "SCOPE_MISSING" }, { orders: null });
    });

    it("a client type changed: the field that needs the old one is FORBIDDEN at once", async () => {
      const key = await warmKey("cache-client-type@example.com", { clientType: "backoffice" });
      expect((await ok(server, key.secret, "{ salesReport { orders } }")).salesReport).toEqual({ orders: 2 });
      await asAdmin(UPDATE, { id: key.keyId, input: { clientType: "mobile" } });
      const res = await as(key.secret, "{ salesReport { orders } }");
      expectFieldError(res, "salesReport", { code: "FORBIDDEN", reason: "CLIENT_TYPE_NOT_ALLOWED" }, { salesReport: null });
    });

    it("an expiry set to a near time, then passed", async () => {
      const key = await warmKey("cache-expiry@example.com");
      await asAdmin(UPDATE, { id: key.keyId, input: { expiresAt: iso(clock.now() + 5_000) } });
      expect(await works(key.secret)).toBe(true);
      clock.advance(5_000);
      expect(await works(key.secret)).toBe("KEY_EXPIRED");
    });

    it("the owner disabled, and enabled again", async () => {
      const key = await warmKey("cache-owner-disabled@example.com");
      await asAdmin(UPDATE_USER, { id: key.userId, input: { disabled: true } });
      expect(await works(key.secret)).toBe("KEY_DISABLED");
      await asAdmin(UPDATE_USER, { id: key.userId, input: { disabled: false } });
      expect(await works(key.secret)).toBe(true);
    });

    it("the owner demoted: keys:admin stops counting", async () => {
      const other = await warmKey("cache-demoted@example.com", { role: "ADMIN", scopes: ADMIN_SCOPES });
      expect((await ok(server, other.secret, "{ apiKeys(first: 1) { totalCount } }")).apiKeys.totalCount).toBeGreaterThan(0);
      await asAdmin(UPDATE_USER, { id: other.userId, input: { role: "MEMBER" } });
      const res = await as(other.secret, "{ apiKeys(first: 1) { totalCount } }");
      expectFieldError(res, "apiKeys", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
      expect(await works(other.secret)).toBe(true); // still a key, just not an admin's
    });
  });
});

describe.each(databaseKinds)("the per-user live-key limit on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind, { limits: { ...MANAGEMENT_LIMITS, maxKeysPerUser: 3 } });
  });
  afterAll(() => server?.close());

  it("refuses a 4th live key with userId, and allows one again after a revocation", async () => {
    const admin = await server.issueKey({ email: "limit-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
    const member = await server.issueKey({ email: "limited@example.com", scopes: ["keys:self"] }); // live key 1
    const create = (secret: string, input: Record<string, unknown> = {}) =>
      server.query(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }`, [apiKey(secret)], {
        input: { name: "k", clientType: "mobile", ...input },
      });
    const second = await create(member.secret);
    const third = await create(member.secret);
    expect([second.json.errors, third.json.errors]).toEqual([undefined, undefined]);
    expectBadInput(await create(member.secret), "createApiKey", "userId");
    expectBadInput(await create(admin.secret, { userId: member.userId }), "createApiKey", "userId");
    const imported = await server.query(
      `mutation($input: ImportApiKeyInput!) { importApiKey(input: $input) { id } }`,
      [apiKey(admin.secret)],
      { input: { value: "over-the-limit-value-01", userId: member.userId, name: "i", clientType: "mobile" } },
    );
    expectBadInput(imported, "importApiKey", "userId");

    await ok(server, member.secret, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: second.json.data.createApiKey.apiKey.id });
    const fourth = await create(member.secret);
    expect(fourth.json.errors).toBeUndefined();
    expect(fourth.json.data.createApiKey.secret).toMatch(/^ks_/);
    expectBadInput(await create(member.secret), "createApiKey", "userId");

    // An expired key is not live either.
    await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, third.json.data.createApiKey.apiKey.id));
    expect((await create(member.secret)).json.errors).toBeUndefined();
  });

  it("disabled keys still count", async () => {
    const admin = await server.issueKey({ email: "limit-admin-2@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
    const owner = await server.issueKey({ email: "limited-2@example.com" });
    for (let i = 0; i < 2; i++) await server.issueKey({ email: "limited-2@example.com" });
    await ok(server, admin.secret, `mutation($id: ID!) { updateApiKey(id: $id, input: { active: false }) { id } }`, { id: owner.keyId });
    const res = await server.query(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, [apiKey(admin.secret)], {
      input: { name: "k", clientType: "mobile", userId: owner.userId },
    });
    expectBadInput(res, "createApiKey", "userId");
  });
});
