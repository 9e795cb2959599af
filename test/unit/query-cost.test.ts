// SPEC §8: every query's cost is bounded before it runs. The walk on inline SDL, then the real
// schema's costs for console-style queries and for the fan-out attacks of issue 10.
import { makeExecutableSchema } from "@graphql-tools/schema";
import { parse, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import { exampleResolvers, exampleTypeDefs } from "../../src/example/catalogue.ts";
import { buildKeyscopeSchema } from "../../src/graphql/build-schema.ts";
import { managementCost } from "../../src/graphql/cost-limit.ts";
import { createManagementResolvers } from "../../src/graphql/management-resolvers.ts";
import { listSizeTypeDefs, MAX_COUNTED_FIELDS, queryCost, type CostVerdict, type QueryCostOptions } from "../../src/graphql/query-cost.ts";

const sdl = /* GraphQL */ `
  type Query {
    thing: Thing
    things: [Thing]
    page(first: Int): ThingConnection @listSize(slicingArguments: ["first"], sizedFields: ["edges"], assumedSize: 20)
    sized(n: Int, m: Int): [Thing!]! @listSize(slicingArguments: ["n", "m"])
    assumed: [Thing] @listSize(assumedSize: 3)
    byCode(from: Int!, to: Int!): [Thing]
    scalars: [String]
    result: [Result]
    node: Node
  }
  type Mutation {
    make: [Thing]
  }
  type Thing {
    name: String
    tags: [String]
    children: [Thing]
    parent: Thing
  }
  type ThingConnection {
    total: Int
    edges: [ThingEdge]
  }
  type ThingEdge {
    cursor: String
    node: Thing
  }
  union Result = Thing | Big
  type Big {
    a: Thing
    b: Thing
    c: Thing
  }
  interface Node {
    id: ID
  }
  type One implements Node {
    id: ID
    one: Thing
  }
  type Many implements Node {
    id: ID
    many: [Thing]
  }
`;

const inline = makeExecutableSchema({ typeDefs: [listSizeTypeDefs, sdl] });
const byCode: QueryCostOptions = { listSizes: { "Query.byCode": ({ from, to }) => (to as number) - (from as number) } };

function verdict(schema: GraphQLSchema, source: string, variables?: Record<string, unknown>, options: QueryCostOptions = byCode): CostVerdict {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")!;
  return queryCost(schema, document, operation, variables, options);
}

const cost = (source: string, variables?: Record<string, unknown>, options?: QueryCostOptions) => verdict(inline, source, variables, options);
const costs = (n: number) => ({ kind: "cost", cost: n });

describe("queryCost: what counts", () => {
  it("an object counts 1; scalars, lists of scalars, __typename and introspection count nothing", () => {
    expect(cost("{ __typename scalars }")).toEqual(costs(0));
    expect(cost("{ thing { name tags __typename } }")).toEqual(costs(1));
    expect(cost("{ thing { parent { parent { name } } } }")).toEqual(costs(3));
    expect(cost("{ __schema { types { fields { name type { ofType { name } } } } } }")).toEqual(costs(0));
  });

  it("a list multiplies what is in it by its size: 10 unless told", () => {
    expect(cost("{ things { name } }")).toEqual(costs(10));
    expect(cost("{ things { children { name } } }")).toEqual(costs(10 * (1 + 10)));
    expect(cost("{ things { children { children { parent { name } } } } }")).toEqual(costs(10 * (1 + 10 * (1 + 10 * (1 + 1)))));
    expect(cost("{ things { name } }", undefined, { defaultListSize: 2 })).toEqual(costs(2));
  });

  it("@listSize: the first slicing argument given, as a literal or a variable, else assumedSize, else 10", () => {
    expect(cost("{ sized(n: 4) { name } }")).toEqual(costs(4));
    expect(cost("{ sized(m: 6) { name } }")).toEqual(costs(6));
    expect(cost("query ($n: Int) { sized(n: $n) { name } }", { n: 7 })).toEqual(costs(7));
    expect(cost("query ($n: Int) { sized(n: $n) { name } }", {})).toEqual(costs(10));
    expect(cost("{ sized(n: null) { name } }")).toEqual(costs(10));
    expect(cost("{ assumed { name } }")).toEqual(costs(3));
    // A negative size is refused by whoever reads it; it costs nothing here.
    expect(cost("{ sized(n: -5) { name } }")).toEqual(costs(0));
  });

  it("@listSize sizedFields: a connection's size applies to its edges, the connection itself counts 1", () => {
    expect(cost("{ page(first: 5) { total edges { cursor node { name } } } }")).toEqual(costs(1 + 5 * (1 + 1)));
    expect(cost("query ($first: Int) { page(first: $first) { edges { node { children { name } } } } }", { first: 2 })).toEqual(costs(1 + 2 * (1 + 1 * (1 + 10))));
    expect(cost("{ page { edges { node { name } } } }")).toEqual(costs(1 + 20 * 2));
  });

  it("listSizes: a size computed from the arguments, by Type.field", () => {
    expect(cost("{ byCode(from: 2, to: 8) { name } }")).toEqual(costs(6));
    expect(cost("query ($to: Int!) { byCode(from: 0, to: $to) { name } }", { to: 40 })).toEqual(costs(40));
  });

  it("an abstract type counts as its costliest member", () => {
    const union = "{ result { ... on Thing { name } ... on Big { a { name } b { name } c { name } } } }";
    expect(cost(union)).toEqual(costs(10 * (1 + 3)));
    expect(cost("{ node { id ... on One { one { name } } ... on Many { many { name } } } }")).toEqual(costs(1 + 10));
    // A fragment on the interface applies to every member.
    expect(cost("{ node { ... on Node { id } ... on Many { many { name } } } }")).toEqual(costs(1 + 10));
  });

  it("fragments count where they are spread, as often as they are spread", () => {
    expect(cost("{ things { ...F } } fragment F on Thing { children { name } }")).toEqual(costs(10 * 11));
    expect(cost("{ thing { ...F ...G } } fragment F on Thing { parent { name } } fragment G on Thing { ...F }")).toEqual(costs(1 + 1 + 1));
    expect(cost("{ thing { ... on Thing { parent { name } } } }")).toEqual(costs(2));
  });

  it("honours @skip and @include, with variables", () => {
    const source = "query ($on: Boolean!) { things @include(if: $on) { name } thing @skip(if: $on) { name } }";
    expect(cost(source, { on: false })).toEqual(costs(1));
    expect(cost(source, { on: true })).toEqual(costs(10));
    expect(cost("{ things @skip(if: true) { name } ... @include(if: false) { thing { name } } }")).toEqual(costs(0));
  });

  it("counts the operation asked for, mutations too", () => {
    expect(cost("mutation { make { children { name } } }")).toEqual(costs(10 * 11));
  });

  it("says when the variables do not fit: execution refuses them before anything runs", () => {
    expect(cost("query ($n: Int!) { sized(n: $n) { name } }", {})).toEqual({ kind: "invalid-variables" });
    expect(cost("query ($n: Int) { sized(n: $n) { name } }", { n: "many" })).toEqual({ kind: "invalid-variables" });
  });

  it("stops counting past MAX_COUNTED_FIELDS: such a query costs more than can be counted", () => {
    // Each fragment spreads the next twice: 2^15 fields from a document of a few hundred characters.
    const levels = 15;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Thing { parent { ...F${i + 1} } p2: parent { ...F${i + 1} } }`);
    const source = `{ thing { ...F0 } } ${fragments.join(" ")} fragment F${levels} on Thing { name }`;
    expect(2 ** levels).toBeGreaterThan(MAX_COUNTED_FIELDS);
    expect(cost(source)).toEqual(costs(Infinity));
  });
});

describe("queryCost: notInsideItself", () => {
  const options: QueryCostOptions = { notInsideItself: { "Thing.children": "a child's children are asked for by their own path." } };
  const refusal = { kind: "inside-itself", coordinate: "Thing.children", why: "a child's children are asked for by their own path." };

  it("refuses the field inside itself, directly, through other fields and through fragments", () => {
    expect(cost("{ thing { children { children { name } } } }", undefined, options)).toEqual(refusal);
    expect(cost("{ thing { children { parent { children { name } } } } }", undefined, options)).toEqual(refusal);
    expect(cost("{ thing { children { ...F } } } fragment F on Thing { parent { children { name } } }", undefined, options)).toEqual(refusal);
  });

  it("allows it once on each path, side by side and in separate branches", () => {
    expect(cost("{ thing { children { name } parent { children { name } } } }", undefined, options)).toEqual(costs(1 + 10 + 1 + 10));
    expect(cost("{ a: thing { children { name } } b: thing { children { name } } }", undefined, options)).toEqual(costs(2 * 11));
  });
});

describe("the management schema's costs (the default limit is 5000)", () => {
  const schema = buildKeyscopeSchema({
    typeDefs: exampleTypeDefs,
    resolvers: exampleResolvers,
    managementResolvers: createManagementResolvers(() => {
      throw new Error("not executed");
    }),
  });
  const management = managementCost({ now: () => Date.parse("2026-03-01T12:30:00Z") });
  const costOf = (source: string, variables?: Record<string, unknown>) => verdict(schema, source, variables, management);

  // The README lists the same figures (section "Query limits").
  const ordinary: [string, string, number][] = [
    ["a page of 20 keys, each with its owner and 24 hourly usage buckets",
      "{ apiKeys(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name status owner { email } usage { start requests rejected } } } } }",
      1 + 1 + 20 * (1 + 1 + 1 + 24)],
    ["myApiKeys with usage (up to 100 keys × 24 buckets)", "{ myApiKeys { id name status lastUsedAt usage { start requests rejected } } }", 100 * (1 + 24)],
    ["apiKeys(first: 100) with owners", "{ apiKeys(first: 100) { totalCount edges { node { id name clientType owner { email } } } } }", 1 + 100 * (1 + 1 + 1)],
    ["auditEvents(first: 100)", "{ auditEvents(first: 100) { edges { node { id at action actorUserId targetKeyId changes } } } }", 1 + 100 * (1 + 1)],
    ["users(first: 20), each with its keys", "{ users(first: 20) { edges { node { email apiKeys { id name status } } } } }", 1 + 20 * (1 + 1 + 100)],
    ["one key with a week of usage", '{ apiKey(id: "7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a") { name usage(since: "2026-02-22T12:00:00Z") { requests } } }', 1 + 169],
    ["me, my user and my keys", "{ me { apiKey { id } user { email apiKeys { id name } } } }", 1 + 1 + 1 + 100],
    // The console's heaviest (console/src/api.ts): every key, 20 a page, with rate limit, owner and usage; a key's
    // detail with a day and a week of usage; the usage of 10 keys at once.
    ["the console's page of every key",
      "query ($f: ApiKeyFilter, $n: Int) { apiKeys(filter: $f, first: $n) { edges { node { id rateLimit { limit } owner { id email } usage { requests } } } pageInfo { hasNextPage } totalCount } }",
      1 + 20 * (1 + 1 + 1 + 1 + 24) + 1],
    ["the console's key detail",
      '{ apiKey(id: "7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a") { rateLimit { limit } owner { id } day: usage(since: "2026-02-28T13:00:00Z") { requests } week: usage(since: "2026-02-22T13:00:00Z") { requests } } }',
      1 + 1 + 1 + 24 + 168],
    ["the console's usage of 10 keys", `{ ${Array.from({ length: 10 }, (_, i) => `k${i}: apiKey(id: "7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a") { id usage { requests } }`).join(" ")} }`, 10 * 25],
  ];

  it.each(ordinary.map(([what, source, expected]) => ({ what, source, expected })))("$what costs $expected, at most half the limit", ({ source, expected }) => {
    expect(costOf(source, { n: 20 })).toEqual(costs(expected));
    expect(expected).toBeLessThanOrEqual(defaultConfig.limits.maxCost / 2);
  });

  it("the issue's fan-out query is refused whatever its cost: User.apiKeys inside User.apiKeys", () => {
    const attack = "{ me { user { apiKeys { owner { apiKeys { owner { apiKeys { id } } } } } } } }";
    expect(costOf(attack)).toEqual({
      kind: "inside-itself",
      coordinate: "User.apiKeys",
      why: "the owner of a user's key is that user, whose keys are the list being read.",
    });
    expect(costOf("{ me { apiKey { owner { apiKeys { owner { apiKeys { id } } } } } } }")).toMatchObject({ kind: "inside-itself" });
    // Without that rule the list sizes alone would refuse it, by a factor of 200.
    expect(verdict(schema, attack, undefined, { listSizes: management.listSizes })).toEqual(costs(1_020_202));
    // Through an admin's connections too.
    expect(costOf("{ users { edges { node { apiKeys { owner { apiKeys { id } } } } } } }")).toMatchObject({ kind: "inside-itself" });
  });

  it.each(([
    ["a page of 100 users with all their keys and their owners", "{ users(first: 100) { edges { node { apiKeys { owner { email } } } } } }", 1 + 100 * (1 + 1 + 100 * 2)],
    ["100 users' keys with 31 days of usage each", '{ users(first: 100) { edges { node { apiKeys { usage(since: "2026-01-29T13:00:00Z") { requests } } } } } }', 1 + 100 * (1 + 1 + 100 * (1 + 744))],
    ["three aliases of myApiKeys with usage", "{ a: myApiKeys { usage { requests } } b: myApiKeys { usage { requests } } c: myApiKeys { usage { requests } } }", 3 * 100 * 25],
  ] as [string, string, number][]).map(([what, source, expected]) => ({ what, source, expected })))("$what costs $expected, over the limit", ({ source, expected }) => {
    expect(costOf(source)).toEqual(costs(expected));
    expect(expected).toBeGreaterThan(defaultConfig.limits.maxCost);
  });
});
