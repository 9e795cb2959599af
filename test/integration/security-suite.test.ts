// SPEC §6 security: every management operation against every kind of caller, over real HTTP.
// One table row per operation; a test fails when the schema gains an operation the table lacks.
import { randomBytes, randomUUID } from "node:crypto";
import { getDirective } from "@graphql-tools/utils";
import { eq } from "drizzle-orm";
import { isNonNullType, parse, type GraphQLField, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, users } from "../../src/db/schema/index.ts";
import { exampleTypeDefs } from "../../src/example/catalogue.ts";
import { managementTypeDefs } from "../../src/graphql/build-schema.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

/** Member A: the key acted upon, and A's own keys with and without keys:self. */
interface Target {
  userId: string;
  email: string;
  /** The key the operation names (scopes ["keys:self"], name "target key", client type mobile). */
  keyId: string;
  secret: string;
  /** A's key with keys:self: the owner acting on their own key. */
  own: IssuedTestKey;
  /** A's key with no scopes at all. */
  bare: IssuedTestKey;
}

interface IssuedTestKey {
  secret: string;
  keyId: string;
  userId: string;
}

type Caller =
  | "no key"
  | "a key without the scope"
  | "another member"
  | "an ADMIN's key without keys:admin"
  | "a demoted admin's key holding keys:admin"
  | "the owner"
  | "an admin";

/** The directive's refusals, a service's refusal, or success checked by `check`. */
type Expected =
  | { refused: "SCOPE_MISSING" }
  | { refused: "NOT_FOUND" }
  | { refused: "FORBIDDEN"; reason: string; field: string; message: string }
  | { ok: (data: any, at: CaseContext) => void | Promise<void> };

interface CaseContext {
  server: TestServer;
  target: Target;
  caller: IssuedTestKey;
}

interface Operation {
  type: "Query" | "Mutation";
  /** The scope @requiresKey asks for on this field (checked against the schema). */
  scope: "keys:self" | "keys:admin" | null;
  document: string;
  variables: (target: Pick<Target, "userId" | "keyId">) => Record<string, unknown>;
  /** Callers without admin power that are not the owner: another member, admins without power. */
  stranger: Expected;
  /** A's own key: keys:self for keys:self operations. */
  owner: Expected;
  admin: Expected;
  /**
   * A stranger's answer about A must equal its answer about ids that do not exist (others'
   * keys and users do not exist for you). On for every operation that names a target.
   */
  namesTarget: boolean;
  /** After any refusal: the target is as it was. */
  unchanged?: (at: Omit<CaseContext, "caller">) => Promise<void>;
}

const SCOPE_MISSING = { refused: "SCOPE_MISSING" } as const;
const NOT_FOUND = { refused: "NOT_FOUND" } as const;

const KEY_FIELDS = "id name clientType scopes status active start owner { id }";

const operations: Record<string, Operation> = {
  me: {
    type: "Query",
    scope: null,
    document: "query { me { apiKey { id } user { id role } } }",
    variables: () => ({}),
    namesTarget: false,
    // Any key may ask who it is, and it only ever learns about itself.
    stranger: { ok: (me, { caller }) => expect(me).toEqual({ apiKey: { id: caller.keyId }, user: { id: caller.userId, role: expect.any(String) } }) },
    owner: { ok: (me, { caller }) => expect(me).toEqual({ apiKey: { id: caller.keyId }, user: { id: caller.userId, role: "MEMBER" } }) },
    admin: { ok: (me, { caller }) => expect(me).toEqual({ apiKey: { id: caller.keyId }, user: { id: caller.userId, role: "ADMIN" } }) },
  },
  myApiKeys: {
    type: "Query",
    scope: "keys:self",
    document: "query { myApiKeys { id owner { id } } }",
    variables: () => ({}),
    namesTarget: false,
    stranger: { ok: (keys, { target, caller }) => expectOnlyKeysOf(keys, caller.userId, target.keyId, false) },
    owner: { ok: (keys, { target }) => expectOnlyKeysOf(keys, target.userId, target.keyId, true) },
    admin: { ok: (keys, { target, caller }) => expectOnlyKeysOf(keys, caller.userId, target.keyId, false) },
  },
  apiKey: {
    type: "Query",
    scope: "keys:self",
    document: `query ($id: ID!) { apiKey(id: $id) { ${KEY_FIELDS} } }`,
    variables: (t) => ({ id: t.keyId }),
    namesTarget: true,
    stranger: NOT_FOUND,
    owner: { ok: (key, { target }) => expectTargetKey(key, target) },
    admin: { ok: (key, { target }) => expectTargetKey(key, target) },
  },
  apiKeys: {
    type: "Query",
    scope: "keys:admin",
    document: "query ($userId: ID) { apiKeys(filter: { userId: $userId }, first: 100) { totalCount edges { node { id owner { id } } } } }",
    variables: (t) => ({ userId: t.userId }),
    namesTarget: false,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    admin: {
      ok: (page, { target }) => {
        expect(page.totalCount).toBe(3);
        expect(page.edges.map((e: any) => e.node.owner.id)).toEqual([target.userId, target.userId, target.userId]);
        expect(page.edges.map((e: any) => e.node.id)).toContain(target.keyId);
      },
    },
  },
  users: {
    type: "Query",
    scope: "keys:admin",
    document: "query { users(first: 100) { totalCount edges { node { id email } } } }",
    variables: () => ({}),
    namesTarget: false,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    // Oldest first: A (made before any mutation case) is on the first page.
    admin: {
      ok: (page, { target }) => {
        expect(page.totalCount).toBeGreaterThanOrEqual(5);
        expect(page.edges).toContainEqual({ node: { id: target.userId, email: target.email } });
      },
    },
  },
  user: {
    type: "Query",
    scope: "keys:admin",
    document: "query ($id: ID!) { user(id: $id) { id email role apiKeys { id } } }",
    variables: (t) => ({ id: t.userId }),
    namesTarget: true,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    admin: {
      ok: (user, { target }) => {
        expect(user).toMatchObject({ id: target.userId, email: target.email, role: "MEMBER" });
        expect(user.apiKeys.map((k: any) => k.id)).toContain(target.keyId);
      },
    },
  },
  auditEvents: {
    type: "Query",
    scope: "keys:self",
    document: "query ($keyId: ID) { auditEvents(filter: { keyId: $keyId }) { totalCount edges { node { action targetKeyId } } } }",
    variables: (t) => ({ keyId: t.keyId }),
    namesTarget: true,
    // Others see nothing about A's key: the same empty page as for an id that does not exist.
    stranger: { ok: (page) => expect(page).toEqual({ totalCount: 0, edges: [] }) },
    owner: { ok: (page, { target }) => expect(page.edges).toContainEqual({ node: { action: "key.created", targetKeyId: target.keyId } }) },
    admin: { ok: (page, { target }) => expect(page.edges).toContainEqual({ node: { action: "key.created", targetKeyId: target.keyId } }) },
  },
  createApiKey: {
    type: "Mutation",
    scope: "keys:self",
    document: `mutation ($userId: ID) { createApiKey(input: { name: "made for A", clientType: "mobile", scopes: ["keys:self"], userId: $userId }) { secret apiKey { ${KEY_FIELDS} } } }`,
    variables: (t) => ({ userId: t.userId }),
    namesTarget: true,
    // Refused before the user is looked up: the answer tells nothing about whether A exists.
    stranger: { refused: "FORBIDDEN", reason: "USER_NOT_ALLOWED", field: "userId", message: "Only admins can issue keys to other users." },
    owner: { ok: (issued, at) => expectIssuedFor(issued, at) },
    admin: { ok: (issued, at) => expectIssuedFor(issued, at) },
    unchanged: async ({ server, target }) => expect(await keyIdsOf(server, target.userId)).toHaveLength(3),
  },
  importApiKey: {
    type: "Mutation",
    scope: "keys:admin",
    document: `mutation ($userId: ID!, $value: String!) { importApiKey(input: { value: $value, userId: $userId, name: "imported", clientType: "mobile" }) { ${KEY_FIELDS} } }`,
    variables: (t) => ({ userId: t.userId, value: `legacy-${randomBytes(12).toString("hex")}` }),
    namesTarget: true,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    admin: { ok: (key, { target }) => expect(key).toMatchObject({ name: "imported", owner: { id: target.userId }, status: "ACTIVE" }) },
    unchanged: async ({ server, target }) => expect(await keyIdsOf(server, target.userId)).toHaveLength(3),
  },
  updateApiKey: {
    type: "Mutation",
    scope: "keys:self",
    document: `mutation ($id: ID!) { updateApiKey(id: $id, input: { name: "renamed", scopes: [], active: false }) { ${KEY_FIELDS} } }`,
    variables: (t) => ({ id: t.keyId }),
    namesTarget: true,
    stranger: NOT_FOUND,
    owner: { ok: (key, at) => expectUpdated(key, at) },
    admin: { ok: (key, at) => expectUpdated(key, at) },
    unchanged: async ({ server, target }) => {
      const row = await keyRow(server, target.keyId);
      expect(row).toMatchObject({ name: "target key", scopes: ["keys:self"], active: true, revokedAt: null });
      await expectWorks(server, target.secret, target.keyId);
    },
  },
  rotateApiKey: {
    type: "Mutation",
    scope: "keys:self",
    document: `mutation ($id: ID!) { rotateApiKey(id: $id) { secret apiKey { ${KEY_FIELDS} } } }`,
    variables: (t) => ({ id: t.keyId }),
    namesTarget: true,
    stranger: NOT_FOUND,
    owner: { ok: (issued, at) => expectRotated(issued, at) },
    admin: { ok: (issued, at) => expectRotated(issued, at) },
    unchanged: async ({ server, target }) => {
      const row = await keyRow(server, target.keyId);
      expect(target.secret.startsWith(row.start)).toBe(true);
      await expectWorks(server, target.secret, target.keyId);
    },
  },
  revokeApiKey: {
    type: "Mutation",
    scope: "keys:self",
    document: `mutation ($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} revokedAt } }`,
    variables: (t) => ({ id: t.keyId }),
    namesTarget: true,
    stranger: NOT_FOUND,
    owner: { ok: (key, at) => expectRevoked(key, at) },
    admin: { ok: (key, at) => expectRevoked(key, at) },
    unchanged: async ({ server, target }) => {
      const row = await keyRow(server, target.keyId);
      expect(row.revokedAt).toBeNull();
      await expectWorks(server, target.secret, target.keyId);
    },
  },
  createUser: {
    type: "Mutation",
    scope: "keys:admin",
    // An ADMIN user would be an escalation; the email is derived from A so that refusals can be checked.
    document: "mutation ($email: String!) { createUser(input: { email: $email, role: ADMIN, clientTypes: [\"backoffice\"] }) { id email role } }",
    variables: (t) => ({ email: `made-by-${t.userId}-${randomBytes(4).toString("hex")}@example.com` }),
    namesTarget: false,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    admin: { ok: (user, { target }) => expect(user).toMatchObject({ email: expect.stringContaining(`made-by-${target.userId}-`), role: "ADMIN" }) },
    unchanged: async ({ server, target }) => {
      const all = await server.app.database.db.select({ email: users.email }).from(users);
      expect(all.filter((u) => u.email.includes(`made-by-${target.userId}-`))).toEqual([]);
    },
  },
  updateUser: {
    type: "Mutation",
    scope: "keys:admin",
    document: "mutation ($id: ID!) { updateUser(id: $id, input: { role: ADMIN, clientTypes: [\"mobile\", \"backoffice\"], name: \"promoted\" }) { id role clientTypes name } }",
    variables: (t) => ({ id: t.userId }),
    namesTarget: true,
    stranger: SCOPE_MISSING,
    owner: SCOPE_MISSING,
    admin: { ok: (user, { target }) => expect(user).toEqual({ id: target.userId, role: "ADMIN", clientTypes: ["backoffice", "mobile"], name: "promoted" }) },
    unchanged: async ({ server, target }) => {
      const row = await userRow(server, target.userId);
      expect(row).toMatchObject({ role: "MEMBER", clientTypes: ["mobile"], name: null, disabled: false });
    },
  },
};

/** Callers without admin power acting on member A's things. */
const STRANGERS = new Set<Caller>(["another member", "an ADMIN's key without keys:admin", "a demoted admin's key holding keys:admin"]);

const callers: Caller[] = [
  "no key",
  "a key without the scope",
  "another member",
  "an ADMIN's key without keys:admin",
  "a demoted admin's key holding keys:admin",
  "the owner",
  "an admin",
];

/** Every root field of a schema that comes from management.graphql (not from the example SDL). */
function managementOperations(schema: GraphQLSchema): string[] {
  const example = rootFieldNames(exampleTypeDefs);
  return (["Query", "Mutation"] as const).flatMap((type) => {
    const root = type === "Query" ? schema.getQueryType() : schema.getMutationType();
    return Object.keys(root?.getFields() ?? {})
      .filter((name) => !example.has(`${type}.${name}`))
      .map((name) => `${type}.${name}`);
  });
}

function rootFieldNames(sdl: string): Set<string> {
  const names = new Set<string>();
  for (const def of parse(sdl).definitions) {
    if ((def.kind === "ObjectTypeDefinition" || def.kind === "ObjectTypeExtension") && (def.name.value === "Query" || def.name.value === "Mutation")) {
      for (const field of def.fields ?? []) names.add(`${def.name.value}.${field.name.value}`);
    }
  }
  return names;
}

describe.each(databaseKinds)("security suite over every management operation on %s", (kind) => {
  let server: TestServer;
  let memberB: IssuedTestKey;
  let admin: IssuedTestKey;
  let adminWithoutPower: IssuedTestKey;
  let demotedAdmin: IssuedTestKey;
  /** Member A for queries, which change nothing; every mutation case gets its own. */
  let readTarget: Target;
  let targets = 0;

  beforeAll(async () => {
    server = await startServer(kind);
    const run = randomBytes(3).toString("hex");
    memberB = await server.issueKey({ email: `member-b-${run}@example.com`, scopes: ["keys:self"] });
    admin = await server.issueKey({ email: `admin-${run}@example.com`, role: "ADMIN", scopes: ["keys:admin", "keys:self"] });
    adminWithoutPower = await server.issueKey({ email: `admin-self-only-${run}@example.com`, role: "ADMIN", scopes: ["keys:self"] });
    demotedAdmin = await server.issueKey({ email: `demoted-${run}@example.com`, role: "ADMIN", scopes: ["keys:admin", "keys:self"] });
    await server.app.users.updateUser(CLI_PRINCIPAL, demotedAdmin.userId, { role: "MEMBER" });
    readTarget = await freshTarget();
  });
  afterAll(() => server?.close());

  async function freshTarget(): Promise<Target> {
    const email = `member-a-${++targets}-${randomBytes(3).toString("hex")}@example.com`;
    const target = await server.issueKey({ email, scopes: ["keys:self"] });
    await server.app.database.db.update(apiKeys).set({ name: "target key" }).where(eq(apiKeys.id, target.keyId));
    const own = await server.issueKey({ email, scopes: ["keys:self"] });
    const bare = await server.issueKey({ email, scopes: [] });
    return { ...target, email, own, bare };
  }

  /** The key each caller presents; "the owner" and "a key without the scope" are A's own keys. */
  function keyOf(caller: Caller, op: Operation, target: Target): IssuedTestKey | null {
    switch (caller) {
      case "no key":
        return null;
      case "a key without the scope":
        // keys:self operations: A's key without scopes; keys:admin ones: A's key with keys:self.
        return op.scope === "keys:admin" ? target.own : target.bare;
      case "another member":
        return memberB;
      case "an ADMIN's key without keys:admin":
        return adminWithoutPower;
      case "a demoted admin's key holding keys:admin":
        return demotedAdmin;
      case "the owner":
        return target.own;
      case "an admin":
        return admin;
      default:
        return assertNever(caller);
    }
  }

  function expectedFor(caller: Caller, op: Operation): Expected | "KEY_MISSING" {
    switch (caller) {
      case "no key":
        return "KEY_MISSING";
      case "a key without the scope":
        // `me` needs no scope, so the bare key simply asks about itself.
        return op.scope === null ? op.stranger : SCOPE_MISSING;
      case "another member":
      case "an ADMIN's key without keys:admin":
      case "a demoted admin's key holding keys:admin":
        return op.stranger;
      case "the owner":
        return op.owner;
      case "an admin":
        return op.admin;
      default:
        return assertNever(caller);
    }
  }

  it("the table has exactly one entry per operation of the management schema", () => {
    const inSchema = managementOperations(server.app.schema).sort();
    const inTable = Object.entries(operations).map(([name, op]) => `${op.type}.${name}`).sort();
    expect(inTable).toEqual(inSchema);
    // The same list as management.graphql declares, so that the example exclusion hides nothing.
    expect(inSchema).toEqual([...rootFieldNames(managementTypeDefs)].sort());
    expect(inSchema.length).toBeGreaterThanOrEqual(14);
  });

  it.each(Object.entries(operations))("%s: the table's scope is the one the schema's @requiresKey asks for", (name, op) => {
    const field = rootField(server.app.schema, op.type, name);
    const guard = getDirective(server.app.schema, field, "requiresKey")?.[0] as { scopes?: string[]; clientTypes?: string[] } | undefined;
    expect(guard).toBeDefined();
    expect(guard?.clientTypes).toBeUndefined();
    expect(guard?.scopes ?? []).toEqual(op.scope ? [op.scope] : []);
  });

  it("the callers are what they claim: the demoted admin's key still holds keys:admin in the database", async () => {
    const row = await keyRow(server, demotedAdmin.keyId);
    expect(row.scopes).toEqual(["keys:admin", "keys:self"]);
    const owner = await userRow(server, demotedAdmin.userId);
    expect(owner.role).toBe("MEMBER");
  });

  const cases = Object.entries(operations).flatMap(([name, op]) => callers.map((caller) => [name, caller, op] as const));

  it.each(cases)("%s as %s", async (name, caller, op) => {
    const target = op.type === "Mutation" ? await freshTarget() : readTarget;
    const key = keyOf(caller, op, target);
    const headers = key ? [apiKey(key.secret)] : [];
    const res = await server.query(op.document, headers, op.variables(target));
    const expected = expectedFor(caller, op);
    const at = { server, target, caller: key! };
    expect(res.status).toBe(200);

    if (typeof expected === "object" && "ok" in expected) {
      expect(res.json.errors).toBeUndefined();
      await expected.ok(res.json.data[name], at);
    } else {
      const field = rootField(server.app.schema, op.type, name);
      expect(res.json).toEqual({
        data: isNonNullType(field.type) ? null : { [name]: null },
        errors: [{ message: refusalMessage(expected, `${op.type}.${name}`, op.scope), locations: expect.any(Array), path: [name], extensions: refusal(expected) }],
      });
      await op.unchanged?.({ server, target });
    }

    // Others' keys and users do not exist for you: A's answer is the answer for a made-up id.
    if (op.namesTarget && STRANGERS.has(caller)) {
      const phantom = await server.query(op.document, headers, op.variables({ userId: randomUUID(), keyId: randomUUID() }));
      expect(phantom.status).toBe(200);
      expect(withoutVolatile(phantom.json)).toEqual(withoutVolatile(res.json));
    }
  });
});

type Refusal = Exclude<Expected, { ok: unknown }> | "KEY_MISSING";

function refusal(expected: Refusal) {
  if (expected === "KEY_MISSING") return { code: "UNAUTHENTICATED", reason: "KEY_MISSING" };
  switch (expected.refused) {
    case "SCOPE_MISSING":
      return { code: "FORBIDDEN", reason: "SCOPE_MISSING" };
    case "NOT_FOUND":
      return { code: "NOT_FOUND" };
    case "FORBIDDEN":
      return { code: "FORBIDDEN", reason: expected.reason, field: expected.field };
    default:
      return assertNever(expected);
  }
}

/** The plain-English message each refusal carries (SPEC §4: it names the field and what it needs). */
function refusalMessage(expected: Refusal, field: string, scope: string | null): unknown {
  if (expected === "KEY_MISSING") return `${field} requires an API key. Send one in the X-API-Key header.`;
  if (expected.refused === "SCOPE_MISSING") return `${field} requires scope '${scope}', which this key does not hold.`;
  if (expected.refused === "NOT_FOUND") return "No API key has this id.";
  return expected.message;
}

function rootField(schema: GraphQLSchema, type: "Query" | "Mutation", name: string): GraphQLField<unknown, unknown> {
  const root: GraphQLObjectType | null | undefined = type === "Query" ? schema.getQueryType() : schema.getMutationType();
  const field = root?.getFields()[name];
  if (!field) throw new Error(`${type}.${name} is not in the schema`);
  return field;
}

/** Whole responses compared, minus what differs by design between two calls (fresh secrets). */
function withoutVolatile(json: any): unknown {
  return JSON.parse(JSON.stringify(json), (k, v) => (k === "secret" || k === "id" ? "<volatile>" : v));
}

function expectOnlyKeysOf(keys: any[], userId: string, targetKeyId: string, includesTarget: boolean) {
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) expect(key.owner.id).toBe(userId);
  expect(keys.some((k) => k.id === targetKeyId)).toBe(includesTarget);
}

function expectTargetKey(key: any, target: Target) {
  expect(key).toMatchObject({ id: target.keyId, name: "target key", scopes: ["keys:self"], status: "ACTIVE", owner: { id: target.userId } });
}

async function expectIssuedFor(issued: any, { server, target }: CaseContext) {
  expect(issued.apiKey).toMatchObject({ name: "made for A", clientType: "mobile", scopes: ["keys:self"], owner: { id: target.userId } });
  await expectWorks(server, issued.secret, issued.apiKey.id);
  expect(await keyIdsOf(server, target.userId)).toHaveLength(4);
}

async function expectUpdated(key: any, { server, target }: CaseContext) {
  expect(key).toMatchObject({ id: target.keyId, name: "renamed", scopes: [], active: false, status: "DISABLED" });
  expectUnauthenticated(await server.query("{ me { apiKey { id } } }", [apiKey(target.secret)]), "KEY_DISABLED");
}

async function expectRotated(issued: any, { server, target }: CaseContext) {
  expect(issued.apiKey).toMatchObject({ id: target.keyId, name: "target key", scopes: ["keys:self"], status: "ACTIVE" });
  expect(issued.secret).not.toBe(target.secret);
  await expectWorks(server, issued.secret, target.keyId);
  // A grace period of 0: the old secret stops at once.
  expectUnauthenticated(await server.query("{ me { apiKey { id } } }", [apiKey(target.secret)]), "KEY_REVOKED");
}

async function expectRevoked(key: any, { server, target }: CaseContext) {
  expect(key).toMatchObject({ id: target.keyId, status: "REVOKED", revokedAt: expect.any(String) });
  expectUnauthenticated(await server.query("{ me { apiKey { id } } }", [apiKey(target.secret)]), "KEY_REVOKED");
}

async function expectWorks(server: TestServer, secret: string, keyId: string) {
  const res = await server.query("{ me { apiKey { id } } }", [apiKey(secret)]);
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ data: { me: { apiKey: { id: keyId } } } });
}

/** A key's row as stored, straight from the database. */
async function keyRow(server: TestServer, keyId: string) {
  const [row] = await server.app.database.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
  if (!row) throw new Error(`no key ${keyId}`);
  return row;
}

async function userRow(server: TestServer, userId: string) {
  const [row] = await server.app.database.db.select().from(users).where(eq(users.id, userId));
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

async function keyIdsOf(server: TestServer, userId: string): Promise<string[]> {
  const rows = await server.app.database.db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.userId, userId));
  return rows.map((r) => r.id);
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}
