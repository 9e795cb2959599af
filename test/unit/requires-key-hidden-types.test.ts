// SPEC §5: a type-level guard also hides that objects of the type exist (Apollo Router's semantics).
import { makeExecutableSchema } from "@graphql-tools/schema";
import { execute, graphql, graphqlSync, parse, type ExecutionResult, type GraphQLAbstractType, type GraphQLSchema } from "graphql";
import { beforeEach, describe, expect, it } from "vitest";
import type { AuthenticatedKey } from "../../src/auth/credential.ts";
import { requiresKeyTransform, requiresKeyTypeDefs, type Refusal } from "../../src/graphql/requires-key.ts";
import { errorsOf, keyOf, KEY_MISSING, CLIENT_TYPE_NOT_ALLOWED, SCOPE_MISSING } from "../helpers/guard-results.ts";

const sdl = /* GraphQL */ `
  type Query {
    vault: Vault
    vaults: [Vault]
    strictVaults: [Vault!]!
    shelf: Shelf
    items: [Item]!
    asyncItems: [AsyncItem]
    foundItems: [Found]
    records: [Record]
    staff: Staff
    clerk: Clerk
    plain: [Plain]
  }

  "Every Vault needs vault:read."
  type Vault @requiresKey(scopes: ["vault:read"]) {
    id: ID!
    contents: String
  }

  type Leaflet {
    title: String
  }

  type Shelf {
    label: String
    vault: Vault
    vaults: [Vault!]
    strictItems: [Item!]!
  }

  "resolveType answers at once."
  union Item = Leaflet | Vault
  "resolveType answers with a promise."
  union AsyncItem = Leaflet | Vault
  "No resolveType: the members' isTypeOf decide."
  union Found = Note | Safe
  "No member is guarded: left as it is."
  union Plain = Leaflet | Note

  type Note {
    text: String
  }

  type Safe @requiresKey(clientTypes: ["backoffice"]) {
    code: String
  }

  "No resolveType: each value's __typename decides."
  interface Record {
    id: ID!
  }

  type OpenRecord implements Record {
    id: ID!
  }

  type SealedRecord implements Record @requiresKey(clientTypes: ["backoffice"]) {
    id: ID!
    seal: String
  }

  interface Staff @requiresKey(scopes: ["staff:read"]) {
    name: String
  }

  type Clerk implements Staff {
    name: String
    desk: String
  }
`;

/** How often each resolver ran: a resolver behind a refused guard must never run. */
let calls: Map<string, number>;
const counted =
  <T>(coordinate: string, value: () => T) =>
  () => {
    calls.set(coordinate, (calls.get(coordinate) ?? 0) + 1);
    return value();
  };

const gold = { kind: "vault", id: "v1", contents: "gold" };
const items = () => [{ kind: "leaflet", title: "Hello" }, gold, { kind: "leaflet", title: "Bye" }];
const clerk = { name: "Ann", desk: "3" };
const itemType = (item: { kind: string }) => (item.kind === "vault" ? "Vault" : "Leaflet");

const resolvers = {
  Query: {
    vault: counted("Query.vault", () => gold),
    vaults: counted("Query.vaults", () => [gold, { id: "v2", contents: "silver" }]),
    strictVaults: counted("Query.strictVaults", () => [gold]),
    shelf: counted("Query.shelf", () => ({ label: "top" })),
    items: counted("Query.items", items),
    asyncItems: counted("Query.asyncItems", items),
    foundItems: counted("Query.foundItems", () => [{ text: "hi" }, { code: "1234" }]),
    records: counted("Query.records", () => [{ __typename: "OpenRecord", id: "r1" }, { __typename: "SealedRecord", id: "r2", seal: "wax" }]),
    staff: counted("Query.staff", () => clerk),
    clerk: counted("Query.clerk", () => clerk),
    plain: counted("Query.plain", () => [{ text: "plain note" }]),
  },
  Shelf: {
    vault: counted("Shelf.vault", () => gold),
    vaults: counted("Shelf.vaults", () => [gold]),
    strictItems: counted("Shelf.strictItems", items),
  },
  Vault: { contents: counted("Vault.contents", () => "gold") },
  Item: { __resolveType: itemType },
  AsyncItem: { __resolveType: async (item: { kind: string }) => itemType(item) },
  Plain: { __resolveType: () => "Note" },
  Note: { __isTypeOf: (value: object) => "text" in value },
  Safe: { __isTypeOf: (value: object) => "code" in value },
  Staff: { __resolveType: () => "Clerk" },
};

const raw = makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, sdl], resolvers });
let refusals: Omit<Refusal, "auth">[];
const schema = requiresKeyTransform(raw, { onRefusal: ({ reason, coordinate }) => refusals.push({ reason, coordinate }) });

const context = (key: AuthenticatedKey | null) => ({ auth: { key, clientAddress: null } });
/** Synchronous on purpose: graphqlSync throws if anything returned a promise. */
const run = (source: string, key: AuthenticatedKey | null): ExecutionResult => graphqlSync({ schema, source, contextValue: context(key) });

const noKey = (coordinate: string, path: (string | number)[]) => ({
  message: `${coordinate} requires an API key. Send one in the X-API-Key header.`,
  path,
  extensions: KEY_MISSING,
});
const noScope = (coordinate: string, path: (string | number)[], scope: string) => ({
  message: `${coordinate} requires scope '${scope}', which this key does not hold.`,
  path,
  extensions: SCOPE_MISSING,
});
const notBackoffice = (coordinate: string, path: (string | number)[]) => ({
  message: `${coordinate} requires a key of client type 'backoffice'.`,
  path,
  extensions: CLIENT_TYPE_NOT_ALLOWED,
});

const mobile = keyOf("mobile");
const everything = keyOf("backoffice", "vault:read", "staff:read");

beforeEach(() => {
  calls = new Map();
  refusals = [];
});

describe("a field whose type is a guarded object type", () => {
  it("nullable: null with the error at its path, naming the field; its resolver never runs", () => {
    expect(run("{ vault { id } }", null)).toMatchObject({ data: { vault: null } });
    expect(errorsOf(run("{ vault { id } }", null))).toEqual([noKey("Query.vault", ["vault"])]);
    expect(errorsOf(run("{ vault { id } }", mobile))).toEqual([noScope("Query.vault", ["vault"], "vault:read")]);
    expect(calls.get("Query.vault")).toBeUndefined();
    expect(refusals).toEqual([
      { reason: "KEY_MISSING", coordinate: "Query.vault" },
      { reason: "KEY_MISSING", coordinate: "Query.vault" },
      { reason: "SCOPE_MISSING", coordinate: "Query.vault" },
    ]);

    expect(run("{ vault { id contents } }", keyOf("mobile", "vault:read"))).toEqual({ data: { vault: { id: "v1", contents: "gold" } } });
  });

  it("in a list: the whole list is refused, not its elements one by one", () => {
    const result = run("{ vaults { id } }", mobile);
    expect(result.data).toEqual({ vaults: null });
    expect(errorsOf(result)).toEqual([noScope("Query.vaults", ["vaults"], "vault:read")]);
    expect(calls.get("Query.vaults")).toBeUndefined();
  });

  it("non-null ([Vault!]!): the null propagates to the nearest nullable parent, as GraphQL says", () => {
    const result = run("{ strictVaults { id } }", mobile);
    expect(result.data).toBeNull();
    expect(errorsOf(result)).toEqual([noScope("Query.strictVaults", ["strictVaults"], "vault:read")]);
    expect(calls.get("Query.strictVaults")).toBeUndefined();
  });

  it("nested under an unguarded object: only the guarded fields are refused", () => {
    const result = run("{ shelf { label vault { id } vaults { id } } }", mobile);
    expect(result.data).toEqual({ shelf: { label: "top", vault: null, vaults: null } });
    expect(errorsOf(result)).toEqual([
      noScope("Shelf.vault", ["shelf", "vault"], "vault:read"),
      noScope("Shelf.vaults", ["shelf", "vaults"], "vault:read"),
    ]);
    expect(calls.get("Shelf.vault")).toBeUndefined();
    expect(calls.get("Shelf.vaults")).toBeUndefined();
    expect(calls.get("Query.shelf")).toBe(1);
  });

  it("reached through a named fragment or an inline one: refused the same", () => {
    const result = run("{ ...Vaults ... on Query { again: vault { id } } } fragment Vaults on Query { vault { ...V } } fragment V on Vault { id }", null);
    expect(result.data).toEqual({ vault: null, again: null });
    expect(errorsOf(result)).toEqual([noKey("Query.vault", ["vault"]), noKey("Query.vault", ["again"])]);
  });

  it("of an interface's implementation: the interface's type-level guard is part of the type's", () => {
    const result = run("{ clerk { desk } }", mobile);
    expect(result.data).toEqual({ clerk: null });
    expect(errorsOf(result)).toEqual([noScope("Query.clerk", ["clerk"], "staff:read")]);
    expect(calls.get("Query.clerk")).toBeUndefined();
    expect(run("{ clerk { name desk } }", keyOf("mobile", "staff:read"))).toEqual({ data: { clerk: { name: "Ann", desk: "3" } } });
  });
});

describe("a field whose type is a guarded interface", () => {
  it("is refused like a guarded object type", () => {
    const result = run("{ staff { name ... on Clerk { desk } } }", mobile);
    expect(result.data).toEqual({ staff: null });
    expect(errorsOf(result)).toEqual([noScope("Query.staff", ["staff"], "staff:read")]);
    expect(calls.get("Query.staff")).toBeUndefined();
    expect(run("{ staff { __typename name } }", keyOf("mobile", "staff:read"))).toEqual({ data: { staff: { __typename: "Clerk", name: "Ann" } } });
  });
});

describe("an element of a union or interface that resolves to a guarded type", () => {
  const selection = "{ __typename ... on Leaflet { title } ... on Vault { id contents } }";

  it("is null with the error at its path, naming the field and what the element needs (not its type); the others stay", () => {
    const result = run(`{ items ${selection} }`, mobile);
    expect(result.data).toEqual({ items: [{ __typename: "Leaflet", title: "Hello" }, null, { __typename: "Leaflet", title: "Bye" }] });
    expect(errorsOf(result)).toEqual([noScope("An element of Query.items", ["items", 1], "vault:read")]);
    expect(errorsOf(run(`{ items ${selection} }`, null))).toEqual([noKey("An element of Query.items", ["items", 1])]);
    // The refused element's fields never ran.
    expect(calls.get("Vault.contents")).toBeUndefined();
    expect(refusals).toEqual([
      { reason: "SCOPE_MISSING", coordinate: "Query.items" },
      { reason: "KEY_MISSING", coordinate: "Query.items" },
    ]);

    expect(run(`{ items ${selection} }`, everything)).toEqual({
      data: { items: [{ __typename: "Leaflet", title: "Hello" }, { __typename: "Vault", id: "v1", contents: "gold" }, { __typename: "Leaflet", title: "Bye" }] },
    });
  });

  it("answers no __typename: neither its data nor its error names the type Vault", () => {
    const result = run("{ items { __typename } }", mobile);
    expect(result.data).toEqual({ items: [{ __typename: "Leaflet" }, null, { __typename: "Leaflet" }] });
    expect(errorsOf(result)).toEqual([noScope("An element of Query.items", ["items", 1], "vault:read")]);
    expect(JSON.stringify(result)).not.toContain("Vault");
  });

  it("is refused whatever the selection: named fragments, fragments on the union, nothing but a fragment for another type", () => {
    for (const source of [
      "{ items { ...VaultFields } } fragment VaultFields on Vault { id }",
      "{ items { ... on Item { __typename } } }",
      "{ items { ... on Leaflet { title } } }",
    ]) {
      const result = run(source, mobile);
      expect(result.data?.items, source).toHaveLength(3);
      expect((result.data?.items as unknown[])[1], source).toBeNull();
      expect(errorsOf(result), source).toEqual([noScope("An element of Query.items", ["items", 1], "vault:read")]);
    }
  });

  it("in [Item!]!: the null propagates to the nearest nullable parent", () => {
    const result = run("{ shelf { label strictItems { __typename } } }", mobile);
    expect(result.data).toEqual({ shelf: null });
    expect(errorsOf(result)).toEqual([noScope("An element of Shelf.strictItems", ["shelf", "strictItems", 1], "vault:read")]);
  });

  it("when resolveType answers with a promise", async () => {
    const result = await graphql({ schema, source: `{ asyncItems ${selection} }`, contextValue: context(mobile) });
    expect(result.data).toEqual({ asyncItems: [{ __typename: "Leaflet", title: "Hello" }, null, { __typename: "Leaflet", title: "Bye" }] });
    expect(errorsOf(result)).toEqual([noScope("An element of Query.asyncItems", ["asyncItems", 1], "vault:read")]);
    const allowed = await graphql({ schema, source: `{ asyncItems { __typename } }`, contextValue: context(everything) });
    expect(allowed).toEqual({ data: { asyncItems: [{ __typename: "Leaflet" }, { __typename: "Vault" }, { __typename: "Leaflet" }] } });
  });

  it("when the union has no resolveType and its members' isTypeOf decide", () => {
    const source = "{ foundItems { __typename ... on Note { text } ... on Safe { code } } }";
    const result = run(source, mobile);
    expect(result.data).toEqual({ foundItems: [{ __typename: "Note", text: "hi" }, null] });
    expect(errorsOf(result)).toEqual([notBackoffice("An element of Query.foundItems", ["foundItems", 1])]);
    expect(run(source, everything)).toEqual({ data: { foundItems: [{ __typename: "Note", text: "hi" }, { __typename: "Safe", code: "1234" }] } });
  });

  it("when an interface has no resolveType and each value's __typename decides", () => {
    const result = run("{ records { id ... on SealedRecord { seal } } }", mobile);
    expect(result.data).toEqual({ records: [{ id: "r1" }, null] });
    expect(errorsOf(result)).toEqual([notBackoffice("An element of Query.records", ["records", 1])]);
    expect(run("{ records { id ... on SealedRecord { seal } } }", everything)).toEqual({ data: { records: [{ id: "r1" }, { id: "r2", seal: "wax" }] } });
  });
});

describe("what the type checks leave alone", () => {
  const typeOf = (s: GraphQLSchema, name: string) => s.getType(name) as GraphQLAbstractType;

  it("keeps resolveType of an abstract type without guarded members, and wraps those with one", () => {
    expect(typeOf(schema, "Plain").resolveType).toBe(typeOf(raw, "Plain").resolveType);
    expect(run("{ plain { __typename } }", null)).toEqual({ data: { plain: [{ __typename: "Note" }] } });
    for (const name of ["Item", "AsyncItem", "Found", "Record", "Staff"]) {
      expect(typeOf(schema, name).resolveType, name).toBeTypeOf("function");
      expect(typeOf(schema, name).resolveType, name).not.toBe(typeOf(raw, name).resolveType);
    }
  });

  it("stays synchronous for allowed callers: one plain result for a synchronous schema", () => {
    const document = parse("{ items { __typename } foundItems { __typename } records { id } shelf { vault { id } strictItems { __typename } } staff { name } }");
    const result = execute({ schema, document, contextValue: context(everything) });
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual({
      data: {
        items: [{ __typename: "Leaflet" }, { __typename: "Vault" }, { __typename: "Leaflet" }],
        foundItems: [{ __typename: "Note" }, { __typename: "Safe" }],
        records: [{ id: "r1" }, { id: "r2" }],
        shelf: { vault: { id: "v1" }, strictItems: [{ __typename: "Leaflet" }, { __typename: "Vault" }, { __typename: "Leaflet" }] },
        staff: { name: "Ann" },
      },
    });
    expect(refusals).toEqual([]);
  });
});
