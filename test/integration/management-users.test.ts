// SPEC §6 over real HTTP: createUser and updateUser (disable, demote, the last admin), and
// "bad input changes nothing": the whole database is the same before and after a refusal.
import { asc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, auditEvents, keySecrets, users } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import {
  ADMIN_SCOPES, expectBadInput, expectFieldError, ok, UNKNOWN_ID, USER_FIELDS,
  MANAGEMENT_LIMITS,
} from "../helpers/management.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import type { HttpResponse } from "../helpers/http.ts";

const GUARDED = "{ inventory { quantity } }";
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { ${USER_FIELDS} } }`;
const UPDATE_USER = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { ${USER_FIELDS} } }`;

type Issued = { secret: string; keyId: string; userId: string };

describe.each(databaseKinds)("user management on %s", (kind) => {
  let server: TestServer;
  let admin: Issued;
  beforeAll(async () => {
    server = await startServer(kind, { limits: MANAGEMENT_LIMITS });
    admin = await server.issueKey({ email: "users-admin@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  const asAdmin = (query: string, variables?: Record<string, unknown>) => ok(server, admin.secret, query, variables);
  const as = (secret: string, query: string, variables?: Record<string, unknown>) => server.query(query, [apiKey(secret)], variables);

  // First, while this admin is the only one.
  it("the last enabled admin can be neither demoted nor disabled", async () => {
    expectBadInput(await as(admin.secret, UPDATE_USER, { id: admin.userId, input: { role: "MEMBER" } }), "updateUser", "role");
    expectBadInput(await as(admin.secret, UPDATE_USER, { id: admin.userId, input: { disabled: true } }), "updateUser", "disabled");
    const me = await asAdmin("{ me { user { role disabled } } }");
    expect(me.me.user).toEqual({ role: "ADMIN", disabled: false });
  });

  describe("createUser", () => {
    it("creates a MEMBER by default, with no client types", async () => {
      const data = await asAdmin(CREATE_USER, { input: { email: "New.Member@Example.com" } });
      expect(data.createUser).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: "New.Member@Example.com", name: null, role: "MEMBER", clientTypes: [], disabled: false,
        createdAt: expect.any(String),
      });
      const again = await asAdmin(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id: data.createUser.id });
      expect(again.user).toEqual(data.createUser);
    });

    it("creates an ADMIN with a name and client types", async () => {
      const data = await asAdmin(CREATE_USER, { input: { email: "second-admin@example.com", name: "Ada", role: "ADMIN", clientTypes: ["partner", "backoffice", "partner"] } });
      expect(data.createUser).toMatchObject({ email: "second-admin@example.com", name: "Ada", role: "ADMIN", clientTypes: ["backoffice", "partner"], disabled: false });
    });

    it.each([
      ["the same email in another letter case", { email: "NEW.MEMBER@example.COM" }, "email"],
      ["an invalid email", { email: "not-an-email" }, "email"],
      ["an email with a blank", { email: "a b@example.com" }, "email"],
      ["a client type with blanks", { email: "ct@example.com", clientTypes: ["mobile app"] }, "clientTypes"],
      ["a name over 200 characters", { email: "long@example.com", name: "n".repeat(201) }, "name"],
    ])("%s is bad input", async (_, input, field) => {
      expectBadInput(await as(admin.secret, CREATE_USER, { input }), "createUser", field);
    });

    it("needs admin power", async () => {
      const member = await server.issueKey({ email: "wants-users@example.com", scopes: ["keys:self"] });
      expectFieldError(await as(member.secret, CREATE_USER, { input: { email: "x@example.com" } }), "createUser", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
    });
  });

  describe("updateUser", () => {
    it("changes name, client types and role; leaves what is not given", async () => {
      const created = (await asAdmin(CREATE_USER, { input: { email: "changing@example.com", clientTypes: ["mobile"] } })).createUser;
      const named = (await asAdmin(UPDATE_USER, { id: created.id, input: { name: "Changed" } })).updateUser;
      expect(named).toEqual({ ...created, name: "Changed" });
      const widened = (await asAdmin(UPDATE_USER, { id: created.id, input: { clientTypes: ["partner", "mobile"], role: "ADMIN" } })).updateUser;
      expect(widened).toEqual({ ...created, name: "Changed", clientTypes: ["mobile", "partner"], role: "ADMIN" });
      const back = (await asAdmin(UPDATE_USER, { id: created.id, input: { role: "MEMBER" } })).updateUser;
      expect(back).toEqual({ ...widened, role: "MEMBER" });
    });

    it("disabled: true stops every key of the user on the next request; false restores them", async () => {
      const a = await server.issueKey({ email: "switched-off@example.com" });
      const b = await server.issueKey({ email: "switched-off@example.com", clientType: "partner" });
      for (const k of [a, b]) expect((await as(k.secret, GUARDED)).status).toBe(200); // cached now
      const off = (await asAdmin(UPDATE_USER, { id: a.userId, input: { disabled: true } })).updateUser;
      expect(off.disabled).toBe(true);
      for (const k of [a, b]) expectUnauthenticated(await as(k.secret, GUARDED), "KEY_DISABLED");
      await asAdmin(UPDATE_USER, { id: a.userId, input: { disabled: false } });
      for (const k of [a, b]) expect((await as(k.secret, GUARDED)).status).toBe(200);
    });

    it("demoting an ADMIN removes admin power on the very next request", async () => {
      const other = await server.issueKey({ email: "demoted@example.com", role: "ADMIN", scopes: ADMIN_SCOPES });
      const query = "{ apiKeys(first: 1) { totalCount } }";
      expect((await ok(server, other.secret, query)).apiKeys.totalCount).toBeGreaterThan(0);
      await asAdmin(UPDATE_USER, { id: other.userId, input: { role: "MEMBER" } });
      expectFieldError(await as(other.secret, query), "apiKeys", { code: "FORBIDDEN", reason: "SCOPE_MISSING" });
      // Nor can the key still act as an admin where keys:self lets it in.
      const res = await as(other.secret, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: admin.keyId });
      expectFieldError(res, "revokeApiKey", { code: "NOT_FOUND" });
      expect((await as(admin.secret, GUARDED)).status).toBe(200);
    });

    it("an unknown id is NOT_FOUND; a malformed id is bad input", async () => {
      expectFieldError(await as(admin.secret, UPDATE_USER, { id: UNKNOWN_ID, input: { name: "x" } }), "updateUser", { code: "NOT_FOUND" });
      expectBadInput(await as(admin.secret, UPDATE_USER, { id: "nobody", input: { name: "x" } }), "updateUser", "id");
    });

    it("a client type with blanks is bad input", async () => {
      const member = await server.issueKey({ email: "bad-client-types@example.com" });
      expectBadInput(await as(admin.secret, UPDATE_USER, { id: member.userId, input: { clientTypes: ["a b"] } }), "updateUser", "clientTypes");
    });
  });

  describe("bad input changes nothing", () => {
    /** Every row that management touches (lastUsedAt aside: usage is written in batches). */
    async function snapshot() {
      const db = server.app.database.db;
      const [u, k, s, e] = await Promise.all([
        db.select().from(users).orderBy(asc(users.id)),
        db.select().from(apiKeys).orderBy(asc(apiKeys.id)),
        db.select().from(keySecrets).orderBy(asc(keySecrets.id)),
        db.select().from(auditEvents).orderBy(asc(auditEvents.id)),
      ]);
      return { users: u, keys: k.map(({ lastUsedAt: _, ...rest }) => rest), secrets: s, events: e };
    }

    let member: Issued;
    let stranger: Issued;
    beforeAll(async () => {
      member = await server.issueKey({ email: "unchanged@example.com", scopes: ["keys:self"] });
      stranger = await server.issueKey({ email: "unchanged-stranger@example.com" });
    });

    const KEY_UPDATE = `mutation($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { id } }`;
    const cases: [string, () => Promise<HttpResponse>, string, Record<string, unknown>][] = [
      ["createApiKey with a past expiry", () => as(member.secret, `mutation { createApiKey(input: { name: "k", clientType: "mobile", expiresAt: "2001-01-01T00:00:00Z" }) { secret } }`), "createApiKey", { code: "BAD_USER_INPUT", field: "expiresAt" }],
      ["createApiKey for an unknown user", () => as(admin.secret, `mutation($u: ID!) { createApiKey(input: { name: "k", clientType: "mobile", userId: $u }) { secret } }`, { u: UNKNOWN_ID }), "createApiKey", { code: "BAD_USER_INPUT", field: "userId" }],
      ["createApiKey with a scope the caller lacks", () => as(member.secret, `mutation { createApiKey(input: { name: "k", clientType: "mobile", scopes: ["orders:read"] }) { secret } }`), "createApiKey", { code: "FORBIDDEN", reason: "SCOPE_NOT_GRANTABLE", field: "scopes" }],
      ["importApiKey with a short value", () => as(admin.secret, `mutation($u: ID!) { importApiKey(input: { value: "too-short", userId: $u, name: "k", clientType: "mobile" }) { id } }`, { u: member.userId }), "importApiKey", { code: "BAD_USER_INPUT", field: "value" }],
      ["updateApiKey with a valid description but a blank name", () => as(admin.secret, KEY_UPDATE, { id: member.keyId, input: { description: "would change", name: "  " } }), "updateApiKey", { code: "BAD_USER_INPUT", field: "name" }],
      ["updateApiKey with a valid name but a past expiry", () => as(admin.secret, KEY_UPDATE, { id: member.keyId, input: { name: "would change", expiresAt: "2001-01-01T00:00:00Z" } }), "updateApiKey", { code: "BAD_USER_INPUT", field: "expiresAt" }],
      ["updateApiKey on another user's key", () => as(member.secret, KEY_UPDATE, { id: stranger.keyId, input: { active: false } }), "updateApiKey", { code: "NOT_FOUND" }],
      ["rotateApiKey with a negative grace period", () => as(admin.secret, `mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: -5) { secret } }`, { id: member.keyId }), "rotateApiKey", { code: "BAD_USER_INPUT", field: "gracePeriodSeconds" }],
      ["revokeApiKey of another user's key", () => as(member.secret, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: stranger.keyId }), "revokeApiKey", { code: "NOT_FOUND" }],
      ["createUser with a taken email", () => as(admin.secret, `mutation { createUser(input: { email: "UNCHANGED@example.com" }) { id } }`), "createUser", { code: "BAD_USER_INPUT", field: "email" }],
      ["updateUser with a valid name but bad client types", () => as(admin.secret, `mutation($id: ID!) { updateUser(id: $id, input: { name: "would change", clientTypes: ["no good"] }) { id } }`, { id: member.userId }), "updateUser", { code: "BAD_USER_INPUT", field: "clientTypes" }],
      ["updateUser of nobody", () => as(admin.secret, `mutation($id: ID!) { updateUser(id: $id, input: { disabled: true }) { id } }`, { id: UNKNOWN_ID }), "updateUser", { code: "NOT_FOUND" }],
    ];

    it.each(cases)("%s", async (_, run, field, extensions) => {
      const before = await snapshot();
      expectFieldError(await run(), field, extensions);
      expect(await snapshot()).toEqual(before);
      expect((await as(member.secret, GUARDED)).status).toBe(200);
      expect((await as(stranger.secret, GUARDED)).status).toBe(200);
    });
  });
});
