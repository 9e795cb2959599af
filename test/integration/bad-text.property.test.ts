// SPEC §6 bad input: every text input of every operation in schema/management.graphql (found by
// walking the schema) refuses control, bidi and invisible characters with BAD_USER_INPUT naming
// the field, changes nothing, logs no error, and never answers INTERNAL_SERVER_ERROR.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { asc } from "drizzle-orm";
import { getNamedType, getNullableType, isInputObjectType, isListType, isNonNullType, type GraphQLInputType, type GraphQLObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, auditEvents, keySecrets, users } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { expectedField, inputLeaves, isTextLeaf, managementSchema, type InputLeaf } from "../helpers/input-leaves.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import { INVISIBLE_TEXTS, forbiddenChar, insertAt } from "../helpers/bad-text.ts";

/** Ids of what the operations act on. */
interface Fixtures {
  adminUserId: string;
  memberUserId: string;
  /** updateApiKey's target. */
  keyId: string;
  /** For rotate and revoke, so that the valid runs below leave `keyId` usable. */
  rotatedKeyId: string;
  revokedKeyId: string;
  /** A cursor from a real page. */
  cursor: string;
}

/**
 * A valid value for every text input and every required input (by coordinate). A text input
 * the schema gains without an entry here fails the coverage test, so it cannot be forgotten.
 */
const VALID: Record<string, (f: Fixtures) => unknown> = {
  "Query.apiKey(id)": (f) => f.keyId,
  "Query.user(id)": (f) => f.memberUserId,
  "Query.apiKeys(after)": (f) => f.cursor,
  "Query.users(after)": (f) => f.cursor,
  "Query.auditEvents(after)": () => "WzFd", // [1]: the id-ordered audit cursor
  "ApiKeyFilter.userId": (f) => f.memberUserId,
  "ApiKeyFilter.clientType": () => "mobile",
  "AuditEventFilter.keyId": (f) => f.keyId,
  "AuditEventFilter.userId": (f) => f.memberUserId,
  "AuditEventFilter.action": () => "key.created",
  "ApiKey.usage(since)": () => new Date(Date.now() - 3_600_000).toISOString(),
  "ApiKey.usage(until)": () => new Date().toISOString(),
  "Mutation.updateApiKey(id)": (f) => f.keyId,
  "Mutation.rotateApiKey(id)": (f) => f.rotatedKeyId,
  "Mutation.revokeApiKey(id)": (f) => f.revokedKeyId,
  "Mutation.updateUser(id)": (f) => f.memberUserId,
  "CreateApiKeyInput.name": () => "made by the walk",
  "CreateApiKeyInput.description": () => "a key\nwith two lines",
  "CreateApiKeyInput.clientType": () => "mobile",
  "CreateApiKeyInput.scopes": () => "orders:read",
  "CreateApiKeyInput.expiresAt": () => "2099-06-30T12:00:00Z",
  "CreateApiKeyInput.userId": (f) => f.memberUserId,
  "ImportApiKeyInput.value": () => `legacy-${randomBytes(12).toString("hex")}`,
  "ImportApiKeyInput.userId": (f) => f.memberUserId,
  "ImportApiKeyInput.name": () => "imported by the walk",
  "ImportApiKeyInput.description": () => "from the old system",
  "ImportApiKeyInput.clientType": () => "mobile",
  "ImportApiKeyInput.scopes": () => "orders:read",
  "ImportApiKeyInput.expiresAt": () => "2099-06-30T12:00:00+02:00",
  "UpdateApiKeyInput.name": () => "renamed by the walk",
  "UpdateApiKeyInput.description": () => "changed",
  "UpdateApiKeyInput.expiresAt": () => "2098-01-01T00:00:00Z",
  "UpdateApiKeyInput.scopes": () => "orders:read",
  "UpdateApiKeyInput.clientType": () => "mobile",
  "CreateUserInput.email": () => `walk-${randomBytes(4).toString("hex")}@example.com`,
  "CreateUserInput.name": () => "Walk User",
  "CreateUserInput.clientTypes": () => "mobile",
  "UpdateUserInput.name": () => "Renamed User",
  "UpdateUserInput.clientTypes": () => "mobile",
  "RateLimitInput.limit": () => 10,
  "RateLimitInput.windowSeconds": () => 60,
};

/** How a field on a non-root type is reached: through a root field, with its own variables. */
const REACH: Record<string, { wrap: (inner: string) => string; definitions: string; variables: (f: Fixtures) => Record<string, unknown> }> = {
  Query: { wrap: (inner) => inner, definitions: "", variables: () => ({}) },
  Mutation: { wrap: (inner) => inner, definitions: "", variables: () => ({}) },
  ApiKey: { wrap: (inner) => `apiKey(id: $reachKey) { ${inner} }`, definitions: "$reachKey: ID!", variables: (f) => ({ reachKey: f.keyId }) },
};

/** One of each kind of forbidden character (INVISIBLE_TEXTS: text that shows nothing). */
const EXAMPLES = ["\u0000", "\u001b", "\n", "\u007f", "\u009b", "\u2028", "\u202e", "\u2066", "\u200f", "\u200b", "\ufeff", "\u{e0041}", "\ud800"];

const leaves = inputLeaves().filter(isTextLeaf);
/** Descriptions may hold line feeds and tabs (and nothing else of the kind). */
const allowedIn = (leaf: InputLeaf, char: string) => leaf.path.at(-1) === "description" && (char === "\n" || char === "\t");

describe("the walk over the management schema", () => {
  it("finds the text inputs, and every one of them has a valid value to start from", () => {
    expect(leaves.length).toBeGreaterThanOrEqual(30);
    for (const name of ["Mutation.createApiKey", "Mutation.importApiKey", "Mutation.createUser", "Query.auditEvents", "ApiKey.usage"]) {
      expect(leaves.some((l) => `${l.owner}.${l.field}` === name), name).toBe(true);
    }
    const missing = leaves.filter((l) => !VALID[l.coordinate]).map((l) => l.coordinate);
    expect(missing, "text inputs without a VALID entry").toEqual([]);
    const unreachable = leaves.filter((l) => !REACH[l.owner]).map((l) => l.owner);
    expect(unreachable, "types without a REACH entry").toEqual([]);
  });
});

describe.each(databaseKinds)("bad text in every text input on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string; keyId: string; userId: string };
  let fixtures: Fixtures;

  beforeAll(async () => {
    server = await startServer(kind);
    admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES, clientType: "mobile" });
    const member = await server.issueKey({ email: "walk-member@example.com", scopes: ["orders:read"] });
    const rotated = await server.issueKey({ email: "walk-member@example.com" });
    const revoked = await server.issueKey({ email: "walk-member@example.com" });
    const page = await server.app.users.pageUsers(CLI_PRINCIPAL, 1, null);
    fixtures = {
      adminUserId: admin.userId, memberUserId: member.userId, keyId: member.keyId,
      rotatedKeyId: rotated.keyId, revokedKeyId: revoked.keyId, cursor: page.pageInfo.endCursor!,
    };
  });
  afterAll(() => server?.close());

  /** Sends the leaf's operation with `value` at the leaf, every other required input valid. */
  function send(leaf: InputLeaf, value: unknown) {
    const operation = buildOperation(leaf, value, fixtures);
    return server.query(operation.document, [apiKey(admin.secret)], operation.variables);
  }

  it("each operation is valid as built, so what is refused below is the bad text alone", async () => {
    for (const leaf of leaves) {
      const res = await send(leaf, VALID[leaf.coordinate]!(fixtures));
      expect(res.json.errors, `${leaf.coordinate}: ${JSON.stringify(res.json.errors)}`).toBeUndefined();
    }
  });

  it.each(leaves.map((l) => [l.coordinate, expectedField(l), l]))("%s: refused as BAD_USER_INPUT on field %s, nothing changed", async (_, field, leaf) => {
    const valid = String(VALID[leaf.coordinate]!(fixtures));
    const refuse = async (bad: string) => {
      const before = await snapshot(server);
      const res = await send(leaf, bad);
      const errors = res.json?.errors;
      expect(errors, `${JSON.stringify(bad)} in ${leaf.coordinate}`).toHaveLength(1);
      expect(errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field });
      // The field did not resolve (null, or no data at all for a variable refused before execution).
      expect(JSON.stringify(res.json.data ?? null)).not.toContain("__typename");
      expect(await snapshot(server)).toEqual(before);
    };
    for (const char of EXAMPLES.filter((c) => !allowedIn(leaf, c))) await refuse(insertAt(valid, char, Math.floor(valid.length / 2)));
    for (const text of INVISIBLE_TEXTS) await refuse(text);
    await fc.assert(
      fc.asyncProperty(forbiddenChar.filter((c) => !allowedIn(leaf, c)), fc.nat(), async (char, at) => refuse(insertAt(valid, char, at % (valid.length + 1)))),
      { numRuns: 6 },
    );
  });

  it("logged no error while refusing all that", () => {
    const lines = server.logs().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { level: number });
    expect(lines.length).toBeGreaterThan(leaves.length);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(server.logs()).not.toContain("INTERNAL_SERVER_ERROR");
  });
});

/** Everything a management operation may change (lastUsedAt and usage move on their own). */
async function snapshot(server: TestServer) {
  const db = server.app.database.db;
  const keys = await db.select().from(apiKeys).orderBy(asc(apiKeys.id));
  return {
    users: await db.select().from(users).orderBy(asc(users.id)),
    keys: keys.map(({ lastUsedAt: _, ...rest }) => rest),
    secrets: await db.select().from(keySecrets).orderBy(asc(keySecrets.hash)),
    audit: await db.select().from(auditEvents).orderBy(asc(auditEvents.id)),
  };
}

/** A document with every argument of the leaf's field as a variable, and their values. */
function buildOperation(leaf: InputLeaf, value: unknown, fixtures: Fixtures) {
  const ownerType = managementSchema.getType(leaf.owner) as GraphQLObjectType;
  const field = ownerType.getFields()[leaf.field]!;
  const reach = REACH[leaf.owner]!;
  const definitions: string[] = reach.definitions ? [reach.definitions] : [];
  const variables: Record<string, unknown> = { ...reach.variables(fixtures) };
  const args: string[] = [];
  for (const arg of field.args) {
    const given = arg.name === leaf.path[0];
    if (!given && !isNonNullType(arg.type)) continue;
    const name = `a_${arg.name}`;
    definitions.push(`$${name}: ${String(arg.type)}`);
    args.push(`${arg.name}: $${name}`);
    variables[name] = given
      ? valueAlong(arg.type, leaf.path.slice(1), value, `${leaf.owner}.${leaf.field}(${arg.name})`, fixtures)
      : validValue(arg.type, `${leaf.owner}.${leaf.field}(${arg.name})`, fixtures);
  }
  const selection = reach.wrap(`${leaf.field}${args.length ? `(${args.join(", ")})` : ""} { __typename }`);
  const keyword = leaf.owner === "Mutation" ? "mutation" : "query";
  return { document: `${keyword}${definitions.length ? `(${definitions.join(", ")})` : ""} { ${selection} }`, variables };
}

/** A value of `type` with `value` at `path` inside it and valid required fields around it. */
function valueAlong(type: GraphQLInputType, path: string[], value: unknown, coordinate: string, fixtures: Fixtures): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return [valueAlong(nullable.ofType, path, value, coordinate, fixtures)];
  const named = getNamedType(type);
  if (!isInputObjectType(named)) return value;
  const object = validValue(named, coordinate, fixtures) as Record<string, unknown>;
  const [head, ...rest] = path;
  object[head!] = valueAlong(named.getFields()[head!]!.type, rest, value, `${named.name}.${head}`, fixtures);
  return object;
}

function validValue(type: GraphQLInputType, coordinate: string, fixtures: Fixtures): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return [validValue(nullable.ofType, coordinate, fixtures)];
  const named = getNamedType(type);
  if (!isInputObjectType(named)) {
    const make = VALID[coordinate];
    if (!make) throw new Error(`no VALID entry for the required ${coordinate}`);
    return make(fixtures);
  }
  const object: Record<string, unknown> = {};
  for (const inner of Object.values(named.getFields())) {
    if (isNonNullType(inner.type)) object[inner.name] = validValue(inner.type, `${named.name}.${inner.name}`, fixtures);
  }
  return object;
}
