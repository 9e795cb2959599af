// Management operations built from the schema walk (input-leaves.ts): one operation per input
// position, with a chosen value there and valid values everywhere else.
import { randomBytes } from "node:crypto";
import { asc } from "drizzle-orm";
import { getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, type GraphQLInputType, type GraphQLObjectType } from "graphql";
import { afterAll, beforeAll } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, auditEvents, keySecrets, users } from "../../src/db/schema/index.ts";
import { managementSchema, type InputLeaf } from "./input-leaves.ts";
import type { DatabaseKind } from "./databases.ts";
import { ADMIN_SCOPES } from "./management.ts";
import { apiKey, startServer, type TestServer } from "./server.ts";

/** Ids of what the operations act on. */
export interface Fixtures {
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
export const VALID: Record<string, (f: Fixtures) => unknown> = {
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
export const REACH: Record<string, { wrap: (inner: string) => string; definitions: string; variables: (f: Fixtures) => Record<string, unknown> }> = {
  Query: { wrap: (inner) => inner, definitions: "", variables: () => ({}) },
  Mutation: { wrap: (inner) => inner, definitions: "", variables: () => ({}) },
  ApiKey: { wrap: (inner) => `apiKey(id: $reachKey) { ${inner} }`, definitions: "$reachKey: ID!", variables: (f) => ({ reachKey: f.keyId }) },
  User: { wrap: (inner) => `user(id: $reachUser) { ${inner} }`, definitions: "$reachUser: ID!", variables: (f) => ({ reachUser: f.memberUserId }) },
};

/**
 * For a describe block: a server, an admin key and fixtures, made before its tests and closed
 * after; `send` runs a leaf's operation as the admin with `value` at the leaf.
 */
export function useOperationServer(kind: DatabaseKind) {
  const at = {} as { server: TestServer; admin: { secret: string; userId: string }; fixtures: Fixtures };
  beforeAll(async () => {
    at.server = await startServer(kind);
    at.admin = await at.server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES });
    at.fixtures = await createFixtures(at.server, at.admin.userId);
  });
  afterAll(() => at.server?.close());
  const send = (leaf: InputLeaf, value: unknown, options: { inline?: boolean } = {}) => {
    const operation = buildOperation(leaf, value, at.fixtures, options);
    return at.server.query(operation.document, [apiKey(at.admin.secret)], operation.variables);
  };
  return { at, send };
}

/** A member with three keys (updated, rotated, revoked by the operations) and a real cursor. */
export async function createFixtures(server: TestServer, adminUserId: string): Promise<Fixtures> {
  const email = `fixtures-${randomBytes(4).toString("hex")}@example.com`;
  const member = await server.issueKey({ email, scopes: ["orders:read"] });
  const rotated = await server.issueKey({ email });
  const revoked = await server.issueKey({ email });
  const page = await server.app.users.pageUsers(CLI_PRINCIPAL, 1, null);
  return {
    adminUserId, memberUserId: member.userId, keyId: member.keyId,
    rotatedKeyId: rotated.keyId, revokedKeyId: revoked.keyId, cursor: page.pageInfo.endCursor!,
  };
}

/** Everything a management operation may change (lastUsedAt and usage move on their own). */
export async function snapshot(server: TestServer) {
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
export function buildOperation(leaf: InputLeaf, value: unknown, fixtures: Fixtures, options: { inline?: boolean } = {}) {
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
    const argValue = given
      ? valueAlong(arg.type, leaf.path.slice(1), value, `${leaf.owner}.${leaf.field}(${arg.name})`, fixtures)
      : validValue(arg.type, `${leaf.owner}.${leaf.field}(${arg.name})`, fixtures);
    if (given && options.inline) {
      args.push(`${arg.name}: ${printLiteral(argValue, arg.type)}`);
      continue;
    }
    definitions.push(`$${name}: ${String(arg.type)}`);
    args.push(`${arg.name}: $${name}`);
    variables[name] = argValue;
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

/** A JSON value as a GraphQL literal of `type` (enum values bare; fields the type lacks printed as given). */
export function printLiteral(value: unknown, type: GraphQLInputType | undefined): string {
  const named = type && getNamedType(type);
  const nullable = type && (getNullableType(type) as GraphQLInputType);
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map((v) => printLiteral(v, nullable && isListType(nullable) ? nullable.ofType : undefined)).join(", ")}]`;
  if (typeof value === "object") {
    const fields = named && isInputObjectType(named) ? named.getFields() : {};
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${printLiteral(v, fields[k]?.type)}`).join(", ")} }`;
  }
  if (typeof value === "string" && named && isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value)) return value;
  return JSON.stringify(value);
}
