// SPEC §6 "Every path is guarded alike": walks the schema from Query and Mutation to every field
// that returns an ApiKey, a User or an AuditEvent (through lists and connections, round the
// ApiKey.owner ↔ User.apiKeys cycle), asks each path for real over HTTP with keys that lack
// keys:self / keys:admin power, and proves that none gets more than SPEC allows. A field added
// later that leaks (or that needs arguments this file does not know) fails this suite.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import {
  getNamedType,
  isAbstractType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL, type Principal } from "../../src/auth/principal.ts";
import { apiKeys, auditEvents } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { ADMIN_SCOPES, MANAGEMENT_LIMITS } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

/** The types whose objects the management rules protect. */
const PROTECTED = new Set(["ApiKey", "User", "AuditEvent"]);
/** Each field at most this often on one path: once round every cycle, and back. */
const MAX_VISITS = 2;
const MAX_LENGTH = 8;

/** One field on a path, reached on `type` (an inline fragment when the parent is abstract). */
interface Step {
  type: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
  onType: string | null;
}

/** Every path from the roots that ends at a field returning a protected type. */
function protectedPaths(schema: GraphQLSchema): { root: "query" | "mutation"; steps: Step[] }[] {
  const found: { root: "query" | "mutation"; steps: Step[] }[] = [];
  const walk = (root: "query" | "mutation", type: GraphQLNamedType, steps: Step[], onType: string | null) => {
    if (isAbstractType(type)) {
      for (const member of schema.getPossibleTypes(type)) walk(root, member, steps, member.name);
      return;
    }
    if (!isObjectType(type) || steps.length >= MAX_LENGTH) return;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (steps.filter((s) => `${s.type.name}.${s.field.name}` === coordinate).length >= MAX_VISITS) continue;
      const next = [...steps, { type, field, onType }];
      const returned = getNamedType(field.type);
      if (PROTECTED.has(returned.name)) found.push({ root, steps: next });
      walk(root, returned, next, null);
    }
  };
  walk("query", schema.getQueryType()!, [], null);
  walk("mutation", schema.getMutationType()!, [], null);
  return found;
}

/** Whose objects an argument names. */
interface Target {
  userId: string;
  keyId: string;
}

let made = 0;
/** Arguments for fields that need them (and filters that aim at the target); any other required one fails the suite. */
const ARGUMENTS: Record<string, (t: Target) => string> = {
  "Query.apiKey": (t) => `id: "${t.keyId}"`,
  "Query.user": (t) => `id: "${t.userId}"`,
  "Query.apiKeys": (t) => `filter: { userId: "${t.userId}" }, first: 100`,
  "Query.auditEvents": (t) => `filter: { userId: "${t.userId}" }, first: 100`,
  "Mutation.createApiKey": (t) => `input: { name: "walk", clientType: "mobile", userId: "${t.userId}" }`,
  "Mutation.importApiKey": (t) => `input: { value: "walk-${randomBytes(12).toString("hex")}", userId: "${t.userId}", name: "walk", clientType: "mobile" }`,
  "Mutation.updateApiKey": (t) => `id: "${t.keyId}", input: { name: "walked" }`,
  "Mutation.rotateApiKey": (t) => `id: "${t.keyId}", gracePeriodSeconds: 60`,
  "Mutation.revokeApiKey": (t) => `id: "${t.keyId}"`,
  "Mutation.createUser": () => `input: { email: "walk-${++made}-${randomBytes(3).toString("hex")}@example.com" }`,
  "Mutation.updateUser": (t) => `id: "${t.userId}", input: { name: "walked" }`,
};

function argumentsOf(step: Step, target: Target): string {
  const coordinate = `${step.type.name}.${step.field.name}`;
  const given = ARGUMENTS[coordinate];
  if (given) return `(${given(target)})`;
  const required = step.field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  if (required.length > 0) throw new Error(`${coordinate} needs arguments: add them to ARGUMENTS in this file`);
  return "";
}

/** The path as a document; every protected object on it answers __typename and id. */
function documentFor(path: { root: "query" | "mutation"; steps: Step[] }, target: Target): string {
  let inner = "";
  for (let i = path.steps.length - 1; i >= 0; i--) {
    const step = path.steps[i]!;
    const returned = getNamedType(step.field.type);
    const identity = PROTECTED.has(returned.name) ? "__typename id" : "__typename";
    const field = `${step.field.name}${argumentsOf(step, target)} { ${identity} ${inner} }`;
    inner = step.onType ? `... on ${step.onType} { ${field} }` : field;
  }
  return `${path.root} { ${inner} }`;
}

const describePath = (path: { root: string; steps: Step[] }) => `${path.root} ${path.steps.map((s) => s.field.name).join(".")}`;

/** Every protected object in a response, wherever it is. */
function protectedObjects(value: unknown, found: { type: string; id: string }[] = []): { type: string; id: string }[] {
  if (Array.isArray(value)) for (const item of value) protectedObjects(item, found);
  else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.__typename === "string" && PROTECTED.has(record.__typename)) found.push({ type: record.__typename, id: String(record.id) });
    for (const inner of Object.values(record)) protectedObjects(inner, found);
  }
  return found;
}

interface Key {
  secret: string;
  keyId: string;
  userId: string;
}

describe.each(databaseKinds)("every path to keys, users and audit events is guarded alike, on %s", (kind) => {
  let server: TestServer;
  /** Member A, whose things no caller below may see. */
  let victim: { email: string; keys: Key[] };
  /** U: a member whose weak keys call; its other key must stay as hidden as A's. */
  let bare: Key;
  let scoped: Key;
  let sibling: Key;
  /** Callers without admin power, each acting as itself with keys:self. */
  let member: Key;
  let memberOther: Key;
  let demoted: Key;
  let demotedOther: Key;
  let admin: Key;
  let paths: ReturnType<typeof protectedPaths>;

  beforeAll(async () => {
    server = await startServer(kind, { limits: MANAGEMENT_LIMITS });
    const run = randomBytes(3).toString("hex");
    const victimEmail = `victim-${run}@example.com`;
    victim = { email: victimEmail, keys: [await server.issueKey({ email: victimEmail, scopes: ["keys:self"] }), await server.issueKey({ email: victimEmail })] };
    const weak = `weak-${run}@example.com`;
    bare = await server.issueKey({ email: weak });
    scoped = await server.issueKey({ email: weak, clientType: "backoffice", scopes: ["orders:read", "suppliers:read"] });
    sibling = await server.issueKey({ email: weak, scopes: ["keys:self"] });
    member = await server.issueKey({ email: `member-${run}@example.com`, scopes: ["keys:self"] });
    memberOther = await server.issueKey({ email: `member-${run}@example.com`, scopes: ["keys:self"] });
    demoted = await server.issueKey({ email: `demoted-${run}@example.com`, role: "ADMIN", scopes: ADMIN_SCOPES });
    demotedOther = await server.issueKey({ email: `demoted-${run}@example.com`, scopes: ["keys:self"] });
    await server.app.users.updateUser(CLI_PRINCIPAL, demoted.userId, { role: "MEMBER" });
    admin = await server.issueKey({ email: `admin-${run}@example.com`, role: "ADMIN", scopes: ADMIN_SCOPES });
    paths = protectedPaths(server.app.schema);
  });
  afterAll(() => server?.close());

  it("the walk finds every way in: through me, lists, connections, mutations and round the cycle", () => {
    const names = paths.map(describePath);
    for (const expected of [
      "query me.apiKey",
      "query me.user",
      "query me.user.apiKeys",
      "query me.apiKey.owner.apiKeys",
      "query me.apiKey.owner.apiKeys.owner.apiKeys",
      "query myApiKeys.owner.apiKeys",
      "query apiKeys.edges.node.owner.apiKeys",
      "query users.edges.node.apiKeys",
      "query auditEvents.edges.node",
      "mutation createApiKey.apiKey.owner.apiKeys",
      "mutation updateUser.apiKeys",
    ]) {
      expect(names).toContain(expected);
    }
    expect(paths.length).toBeGreaterThan(50);
  });

  /** What a weak key may see: its own key and its own user, through `me` (SPEC §6). */
  const onlyItself = (caller: Key) => async (found: { type: string; id: string }[]) => {
    for (const object of found) {
      if (object.type === "ApiKey") expect(object.id).toBe(caller.keyId);
      else if (object.type === "User") expect(object.id).toBe(caller.userId);
      else throw new Error(`a key without keys:self saw the audit event ${object.id}`);
    }
  };

  /** What a key with keys:self but no admin power may see: its own user's things. */
  const onlyItsUser = (caller: Key) => async (found: { type: string; id: string }[]) => {
    const { db } = server.app.database;
    for (const object of found) {
      if (object.type === "User") expect(object.id).toBe(caller.userId);
      else if (object.type === "ApiKey") {
        const [row] = await db.select({ userId: apiKeys.userId }).from(apiKeys).where(eq(apiKeys.id, object.id));
        expect(row?.userId, `key ${object.id}`).toBe(caller.userId);
      } else {
        const [event] = await db.select().from(auditEvents).where(eq(auditEvents.id, Number(object.id)));
        const [targetKey] = event?.targetKeyId ? await db.select({ userId: apiKeys.userId }).from(apiKeys).where(eq(apiKeys.id, event.targetKeyId)) : [];
        expect([event?.actorUserId, event?.targetUserId, targetKey?.userId], `audit event ${object.id}`).toContain(caller.userId);
      }
    }
  };

  type Case = {
    name: string;
    caller: () => Key;
    targets: () => Target[];
    allowed: (caller: Key) => (found: { type: string; id: string }[]) => Promise<void>;
    hidden: () => string[];
    /** Responses that must show the caller something of its own: the walk is not refused wholesale. */
    minAnswered: number;
  };
  const ofKey = (key: Key): Target => ({ userId: key.userId, keyId: key.keyId });
  const victimIds = () => [victim.email, ...new Set(victim.keys.flatMap((k) => [k.keyId, k.userId]))];
  const cases: Case[] = [
    { name: "a key without scopes", caller: () => bare, targets: () => [ofKey(victim.keys[0]!), ofKey(sibling)], allowed: onlyItself, hidden: () => [...victimIds(), sibling.keyId, scoped.keyId], minAnswered: 4 },
    { name: "a key with other scopes", caller: () => scoped, targets: () => [ofKey(victim.keys[0]!), ofKey(sibling)], allowed: onlyItself, hidden: () => [...victimIds(), sibling.keyId, bare.keyId], minAnswered: 4 },
    { name: "a member's keys:self key", caller: () => member, targets: () => [ofKey(victim.keys[0]!), ofKey(memberOther)], allowed: onlyItsUser, hidden: victimIds, minAnswered: 30 },
    { name: "a demoted admin's key holding keys:admin", caller: () => demoted, targets: () => [ofKey(victim.keys[0]!), ofKey(demotedOther)], allowed: onlyItsUser, hidden: victimIds, minAnswered: 30 },
  ];

  it.each(cases)("$name gets nothing beyond what SPEC allows, on any path", async ({ caller, targets, allowed, hidden, minAnswered }) => {
    const key = caller();
    let answered = 0;
    for (const path of paths) {
      for (const target of targets()) {
        const res = await server.query(documentFor(path, target), [apiKey(key.secret)]);
        const where = `${describePath(path)} aimed at ${target.keyId}`;
        expect([200, 400], where).toContain(res.status);
        for (const id of hidden()) expect(res.text, where).not.toContain(id);
        const found = protectedObjects(res.json.data);
        await allowed(key)(found);
        if (found.length > 0) answered++;
      }
    }
    expect(answered).toBeGreaterThanOrEqual(minAnswered);
  });

  it("the same paths are real: an admin reaches the victim's keys and user through them", async () => {
    const seen = new Set<string>();
    for (const path of paths.filter((p) => p.root === "query")) {
      const res = await server.query(documentFor(path, ofKey(victim.keys[0]!)), [apiKey(admin.secret)]);
      for (const object of protectedObjects(res.json.data)) seen.add(object.id);
    }
    for (const id of new Set(victim.keys.flatMap((k) => [k.keyId, k.userId]))) expect(seen).toContain(id);
  });

  it("the service decides for every path: own keys need keys:self, anyone else's admin power", async () => {
    const as = (key: Key, scopes: string[], isAdmin = false): Principal => ({
      userId: key.userId, keyId: key.keyId, ip: null, admin: isAdmin, scopes: new Set(scopes), callingKey: { clientType: "mobile", expiresAt: null, rateLimit: null },
    });
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    // Others' keys do not exist for you: an empty list, as for a user without keys.
    expect(await server.app.keys.listKeysOfUser(as(member, ["keys:self"]), victim.keys[0]!.userId, null)).toEqual([]);
    expect(await server.app.keys.listKeysOfUser(as(demoted, ["keys:self", "keys:admin"]), victim.keys[0]!.userId, null)).toEqual([]);
    await expect(server.app.keys.listKeysOfUser(as(bare, []), bare.userId, null)).rejects.toMatchObject({ name: "PermissionError", reason: "SCOPE_MISSING" });
    await expect(server.app.keys.listOwnKeys(as(scoped, ["orders:read"]), null)).rejects.toMatchObject({ name: "PermissionError", reason: "SCOPE_MISSING" });
    expect(ids(await server.app.keys.listKeysOfUser(as(admin, ["keys:admin"], true), victim.keys[0]!.userId, null))).toEqual(victim.keys.map((k) => k.keyId));
  });

  it("the issue's examples: me.user.apiKeys and me.apiKey.owner.apiKeys need keys:self", async () => {
    for (const [query, path] of [
      ["{ me { user { email apiKeys { id } } } }", ["me", "user", "apiKeys"]],
      ["{ me { apiKey { owner { apiKeys { id } } } } }", ["me", "apiKey", "owner", "apiKeys"]],
    ] as const) {
      const res = await server.query(query, [apiKey(bare.secret)]);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        data: null,
        errors: [
          {
            message: "Listing your keys requires scope 'keys:self', which this key does not hold.",
            locations: [expect.any(Object)],
            path,
            extensions: { code: "FORBIDDEN", reason: "SCOPE_MISSING" },
          },
        ],
      });
    }
    // With keys:self: the caller's own keys, exactly as myApiKeys lists them.
    const own = await server.query("{ me { user { apiKeys { id } } } myApiKeys { id } }", [apiKey(sibling.secret)]);
    expect(own.json.data.me.user.apiKeys).toEqual(own.json.data.myApiKeys);
    expect(own.json.data.myApiKeys.map((k: { id: string }) => k.id)).toEqual([bare.keyId, scoped.keyId, sibling.keyId]);
  });
});
