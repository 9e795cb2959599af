import { makeExecutableSchema } from "@graphql-tools/schema";
import {
  execute,
  graphql,
  graphqlSync,
  parse,
  type ExecutionResult,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { beforeEach, describe, expect, it } from "vitest";
import type { AuthenticatedKey } from "../../src/auth/credential.ts";
import { DirectiveError, requiresKeyTransform, requiresKeyTypeDefs } from "../../src/graphql/requires-key.ts";
import { errorsOf, keyOf, missingKey, missingScope, wrongClientType } from "../helpers/guard-results.ts";

const sdl = /* GraphQL */ `
  type Query {
    public: String
    echo(text: String): String @requiresKey
    anyKey: String @requiresKey
    partnerOrMobile: String @requiresKey(clientTypes: ["mobile", "partner"])
    ordersWrite: String @requiresKey(scopes: ["orders:read", "orders:write"])
    both: String @requiresKey(clientTypes: ["partner"], scopes: ["orders:read"])
    secret: Secret
    node: Node
    gadget: Gadget
    animal: Animal
    search: [SearchResult]!
  }

  type Mutation {
    placeOrder: String @requiresKey(scopes: ["orders:write"])
    ping: String
  }

  "Every field needs secret:read; b also a backoffice key."
  type Secret @requiresKey(scopes: ["secret:read"]) {
    a: String
    b: String @requiresKey(clientTypes: ["backoffice"])
  }

  "Every field of every implementation needs a backoffice or partner key."
  interface Node @requiresKey(clientTypes: ["backoffice", "partner"]) {
    id: ID
  }

  type Thing implements Node {
    id: ID
    extra: String
  }

  type Gadget implements Node @requiresKey(scopes: ["gadget:read"]) {
    id: ID
    name: String @requiresKey(clientTypes: ["partner"])
  }

  interface Animal {
    name: String
    sound: String @requiresKey(scopes: ["zoo:listen"])
  }

  type Dog implements Animal {
    name: String
    sound: String
    bark: String
  }

  union SearchResult = Secret | Dog
`;

/** How often each resolver ran: a refused field's resolver must never run. */
let calls: Map<string, number>;
/** What Query.echo was last called with, as the directive's wrapper handed it on. */
let echoCall: { source: unknown; args: unknown; context: unknown; info: GraphQLResolveInfo } | undefined;

function spy(coordinate: string, value: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    calls.set(coordinate, (calls.get(coordinate) ?? 0) + 1);
    return value(source, args, context, info);
  };
}

const constant = (coordinate: string, value: unknown) => spy(coordinate, () => value);

const resolvers = {
  Query: {
    public: constant("Query.public", "public value"),
    echo: spy("Query.echo", (source, args: { text?: string }, context, info) => {
      echoCall = { source, args, context, info };
      return `echo: ${args.text}`;
    }),
    anyKey: constant("Query.anyKey", "any key value"),
    partnerOrMobile: constant("Query.partnerOrMobile", "partner or mobile value"),
    ordersWrite: constant("Query.ordersWrite", "orders value"),
    both: constant("Query.both", "both value"),
    secret: constant("Query.secret", { b: "b from source" }),
    node: constant("Query.node", { __typename: "Thing", id: "thing-1", extra: "thing extra" }),
    gadget: constant("Query.gadget", { id: "gadget-1", name: "gadget name" }),
    animal: constant("Query.animal", { name: "Rex", sound: "woof", bark: "WOOF" }),
    search: constant("Query.search", [{ kind: "secret" }, { kind: "dog", name: "Rex", sound: "woof", bark: "WOOF" }]),
  },
  Mutation: {
    placeOrder: constant("Mutation.placeOrder", "order placed"),
    ping: constant("Mutation.ping", "pong"),
  },
  Secret: {
    a: constant("Secret.a", "a value"),
    // b: the default resolver, reading the source object.
  },
  Animal: { __resolveType: () => "Dog" },
  Node: { __resolveType: (node: { __typename?: string }) => node.__typename ?? "Gadget" },
  SearchResult: { __resolveType: (value: { kind: string }) => (value.kind === "secret" ? "Secret" : "Dog") },
};

function buildRaw(typeDefs: string = sdl, withResolvers = true): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, typeDefs], resolvers: withResolvers ? resolvers : {} });
}

const schema = requiresKeyTransform(buildRaw());

/** Runs a query synchronously: graphqlSync throws if anything returned a promise. */
function run(source: string, key: AuthenticatedKey | null): ExecutionResult {
  return graphqlSync({ schema, source, contextValue: { auth: { key, clientAddress: null } } });
}

beforeEach(() => {
  calls = new Map();
  echoCall = undefined;
});

describe("@requiresKey on fields: who gets through", () => {
  it("leaves unguarded fields public", () => {
    const result = run("{ public }", null);
    expect(result).toEqual({ data: { public: "public value" } });
    expect(calls.get("Query.public")).toBe(1);
  });

  it("without arguments, refuses a request without a key and lets any key through", () => {
    const refused = run("{ public anyKey }", null);
    expect(refused.data).toEqual({ public: "public value", anyKey: null });
    expect(errorsOf(refused)).toEqual([missingKey("Query.anyKey", ["anyKey"])]);
    expect(calls.get("Query.anyKey")).toBeUndefined();

    expect(run("{ anyKey }", keyOf("whatever"))).toEqual({ data: { anyKey: "any key value" } });
    expect(calls.get("Query.anyKey")).toBe(1);
  });

  it("treats a context without auth like a request without a key", () => {
    const result = graphqlSync({ schema, source: "{ public anyKey }", contextValue: {} });
    expect(result.data).toEqual({ public: "public value", anyKey: null });
    expect(errorsOf(result)).toEqual([missingKey("Query.anyKey", ["anyKey"])]);
    const noContext = graphqlSync({ schema, source: "{ anyKey }" });
    expect(errorsOf(noContext)).toEqual([missingKey("Query.anyKey", ["anyKey"])]);
    expect(calls.get("Query.anyKey")).toBeUndefined();
  });

  it("hands the resolver its source, arguments, context and info", () => {
    const rootValue = { root: true };
    const contextValue = { auth: { key: keyOf("mobile"), clientAddress: null }, extra: "from the caller" };
    const document = parse('query Echo { said: echo(text: "hi") }');
    const result = execute({ schema, document, rootValue, contextValue });
    expect(result).toEqual({ data: { said: "echo: hi" } });

    expect(echoCall).toBeDefined();
    const { source, args, context, info } = echoCall!;
    expect(source).toBe(rootValue);
    expect(args).toEqual({ text: "hi" });
    expect(context).toBe(contextValue);
    expect(info.fieldName).toBe("echo");
    expect(info.path).toEqual({ prev: undefined, key: "said", typename: "Query" });
    expect(info.parentType).toBe(schema.getQueryType());
    expect(info.returnType).toBe(schema.getQueryType()!.getFields().echo!.type);
    expect(info.schema).toBe(schema);
    expect(info.rootValue).toBe(rootValue);
    expect(info.operation.name?.value).toBe("Echo");
    expect(info.fieldNodes).toHaveLength(1);
    expect(info.fieldNodes[0]).toBe((document.definitions[0] as OperationDefinitionNode).selectionSet.selections[0]);
    expect(info.variableValues).toEqual({});
  });

  it("clientTypes: the key's client type must be one of them", () => {
    expect(run("{ partnerOrMobile }", keyOf("mobile"))).toEqual({ data: { partnerOrMobile: "partner or mobile value" } });
    expect(run("{ partnerOrMobile }", keyOf("partner"))).toEqual({ data: { partnerOrMobile: "partner or mobile value" } });
    expect(calls.get("Query.partnerOrMobile")).toBe(2);

    for (const clientType of ["backoffice", "Mobile", "mobile2"]) {
      const refused = run("{ public partnerOrMobile }", keyOf(clientType, "orders:read", "orders:write"));
      expect(refused.data).toEqual({ public: "public value", partnerOrMobile: null });
      expect(errorsOf(refused)).toEqual([wrongClientType("Query.partnerOrMobile", ["partnerOrMobile"], "mobile", "partner")]);
    }
    expect(calls.get("Query.partnerOrMobile")).toBe(2);
  });

  it("clientTypes: no key is KEY_MISSING, not a client type refusal", () => {
    expect(errorsOf(run("{ partnerOrMobile }", null))).toEqual([missingKey("Query.partnerOrMobile", ["partnerOrMobile"])]);
  });

  it("scopes: the key must hold every one of them", () => {
    expect(run("{ ordersWrite }", keyOf("mobile", "orders:read", "orders:write", "other"))).toEqual({
      data: { ordersWrite: "orders value" },
    });

    const onlyRead = run("{ ordersWrite }", keyOf("mobile", "orders:read"));
    expect(onlyRead.data).toEqual({ ordersWrite: null });
    expect(errorsOf(onlyRead)).toEqual([missingScope("Query.ordersWrite", ["ordersWrite"], "orders:write")]);
    expect(onlyRead.errors?.[0]?.message).not.toContain("'orders:read'");

    const none = run("{ ordersWrite }", keyOf("mobile"));
    expect(errorsOf(none)).toEqual([missingScope("Query.ordersWrite", ["ordersWrite"], "orders:read", "orders:write")]);

    // Scopes are matched exactly, not by prefix or case.
    const lookalike = run("{ ordersWrite }", keyOf("mobile", "orders:read", "orders:Write", "orders:write:all"));
    expect(errorsOf(lookalike)).toEqual([missingScope("Query.ordersWrite", ["ordersWrite"], "orders:write")]);
    expect(calls.get("Query.ordersWrite")).toBe(1);
  });

  it("clientTypes and scopes together: both must hold", () => {
    expect(run("{ both }", keyOf("partner", "orders:read"))).toEqual({ data: { both: "both value" } });
    expect(errorsOf(run("{ both }", keyOf("mobile", "orders:read")))).toEqual([wrongClientType("Query.both", ["both"], "partner")]);
    expect(errorsOf(run("{ both }", keyOf("partner")))).toEqual([missingScope("Query.both", ["both"], "orders:read")]);
    expect(errorsOf(run("{ both }", keyOf("mobile")))).toHaveLength(1);
    expect(errorsOf(run("{ both }", null))).toEqual([missingKey("Query.both", ["both"])]);
    expect(calls.get("Query.both")).toBe(1);
  });

  it("guards mutations the same way", () => {
    const refused = graphqlSync({
      schema,
      source: "mutation { ping placeOrder }",
      contextValue: { auth: { key: keyOf("mobile"), clientAddress: null } },
    });
    expect(refused.data).toEqual({ ping: "pong", placeOrder: null });
    expect(errorsOf(refused)).toEqual([missingScope("Mutation.placeOrder", ["placeOrder"], "orders:write")]);
    expect(calls.get("Mutation.placeOrder")).toBeUndefined();

    const allowed = graphqlSync({
      schema,
      source: "mutation { placeOrder }",
      contextValue: { auth: { key: keyOf("mobile", "orders:write"), clientAddress: null } },
    });
    expect(allowed).toEqual({ data: { placeOrder: "order placed" } });
  });

  it("returns every refusal of a request, each with its own path, next to the allowed data", () => {
    const result = run("{ public anyKey partnerOrMobile ordersWrite both }", keyOf("mobile", "orders:read"));
    expect(result.data).toEqual({
      public: "public value",
      anyKey: "any key value",
      partnerOrMobile: "partner or mobile value",
      ordersWrite: null,
      both: null,
    });
    expect(errorsOf(result)).toEqual([
      missingScope("Query.ordersWrite", ["ordersWrite"], "orders:write"),
      wrongClientType("Query.both", ["both"], "partner"),
    ]);
  });
});

describe("@requiresKey on types and interfaces", () => {
  it("on an object, hides it: the field returning it is refused and its resolver never runs", () => {
    const refused = run("{ public secret { a b } }", null);
    expect(refused.data).toEqual({ public: "public value", secret: null });
    expect(errorsOf(refused)).toEqual([missingKey("Query.secret", ["secret"])]);
    expect(calls.get("Query.secret")).toBeUndefined();
    expect(calls.get("Secret.a")).toBeUndefined();
  });

  it("adds a type's guard and a field's guard up", () => {
    // secret:read but not backoffice: a is allowed, b is not.
    const mobile = run("{ secret { a b } }", keyOf("mobile", "secret:read"));
    expect(mobile.data).toEqual({ secret: { a: "a value", b: null } });
    expect(errorsOf(mobile)).toEqual([wrongClientType("Secret.b", ["secret", "b"], "backoffice")]);

    // backoffice but not secret:read: not even the object.
    const noScope = run("{ secret { a b } }", keyOf("backoffice"));
    expect(noScope.data).toEqual({ secret: null });
    expect(errorsOf(noScope)).toEqual([missingScope("Query.secret", ["secret"], "secret:read")]);

    expect(run("{ secret { a b } }", keyOf("backoffice", "secret:read"))).toEqual({
      data: { secret: { a: "a value", b: "b from source" } },
    });
    expect(calls.get("Secret.a")).toBe(2);
  });

  it("on an interface, hides every implementation: a field returning the interface is refused", () => {
    const refused = run("{ node { id ... on Thing { extra } } }", keyOf("mobile"));
    expect(refused.data).toEqual({ node: null });
    expect(errorsOf(refused)).toEqual([wrongClientType("Query.node", ["node"], "backoffice", "partner")]);
    expect(errorsOf(run("{ node { id } }", null))).toEqual([missingKey("Query.node", ["node"])]);
    expect(calls.get("Query.node")).toBeUndefined();

    expect(run("{ node { __typename id ... on Thing { extra } } }", keyOf("backoffice"))).toEqual({
      data: { node: { __typename: "Thing", id: "thing-1", extra: "thing extra" } },
    });
  });

  it("adds an interface's guard, the implementing type's guard and a field's guard up", () => {
    // Node: backoffice or partner. Gadget: gadget:read. Gadget.name: partner.
    const backoffice = run("{ gadget { id name } }", keyOf("backoffice", "gadget:read"));
    expect(backoffice.data).toEqual({ gadget: { id: "gadget-1", name: null } });
    expect(errorsOf(backoffice)).toEqual([wrongClientType("Gadget.name", ["gadget", "name"], "partner")]);

    const noScope = run("{ gadget { id name } }", keyOf("partner"));
    expect(noScope.data).toEqual({ gadget: null });
    expect(errorsOf(noScope)).toEqual([missingScope("Query.gadget", ["gadget"], "gadget:read")]);

    // Gadget's own guard says nothing of client types, but the interface's still holds.
    const mobile = run("{ gadget { id } }", keyOf("mobile", "gadget:read"));
    expect(errorsOf(mobile)).toEqual([wrongClientType("Query.gadget", ["gadget"], "backoffice", "partner")]);

    expect(run("{ gadget { id name } }", keyOf("partner", "gadget:read"))).toEqual({
      data: { gadget: { id: "gadget-1", name: "gadget name" } },
    });
  });

  it("applies an interface field's guard to the implementing type's field, and only to it", () => {
    const refused = run("{ animal { name sound ... on Dog { bark } } }", keyOf("mobile"));
    expect(refused.data).toEqual({ animal: { name: "Rex", sound: null, bark: "WOOF" } });
    expect(errorsOf(refused)).toEqual([missingScope("Dog.sound", ["animal", "sound"], "zoo:listen")]);
    expect(errorsOf(run("{ animal { sound } }", null))).toEqual([missingKey("Dog.sound", ["animal", "sound"])]);

    expect(run("{ animal { name sound } }", keyOf("mobile", "zoo:listen"))).toEqual({
      data: { animal: { name: "Rex", sound: "woof" } },
    });
  });
});

describe("@requiresKey cannot be got around", () => {
  it("through aliases", () => {
    const result = run("{ first: anyKey second: anyKey open: public }", null);
    expect(result.data).toEqual({ first: null, second: null, open: "public value" });
    expect(errorsOf(result)).toEqual([missingKey("Query.anyKey", ["first"]), missingKey("Query.anyKey", ["second"])]);
    expect(calls.get("Query.anyKey")).toBeUndefined();
  });

  it("through named fragments", () => {
    const result = run(
      `query { ...Root secret { ...SecretFields } }
       fragment Root on Query { anyKey }
       fragment SecretFields on Secret { a }`,
      null,
    );
    expect(result.data).toEqual({ anyKey: null, secret: null });
    expect(errorsOf(result)).toEqual([missingKey("Query.anyKey", ["anyKey"]), missingKey("Query.secret", ["secret"])]);
    expect(calls.get("Query.anyKey")).toBeUndefined();
    expect(calls.get("Secret.a")).toBeUndefined();
  });

  it("through inline fragments", () => {
    const result = run("{ ... on Query { renamed: ordersWrite } node { ... on Thing { extra } } }", keyOf("mobile"));
    expect(result.data).toEqual({ renamed: null, node: null });
    expect(errorsOf(result)).toEqual([
      missingScope("Query.ordersWrite", ["renamed"], "orders:read", "orders:write"),
      wrongClientType("Query.node", ["node"], "backoffice", "partner"),
    ]);
    expect(calls.get("Query.ordersWrite")).toBeUndefined();
  });

  it("through unions", () => {
    const result = run("{ search { __typename ... on Secret { a } ... on Dog { name sound } } }", keyOf("mobile"));
    expect(result.data).toEqual({ search: [null, { __typename: "Dog", name: "Rex", sound: null }] });
    expect(errorsOf(result)).toEqual([
      missingScope("An element of Query.search", ["search", 0], "secret:read"),
      missingScope("Dog.sound", ["search", 1, "sound"], "zoo:listen"),
    ]);
    expect(calls.get("Secret.a")).toBeUndefined();
  });

  it("through __typename: a guarded object is hidden whole, an unguarded one still names its type", () => {
    expect(errorsOf(run("{ secret { __typename } }", null))).toEqual([missingKey("Query.secret", ["secret"])]);
    expect(run("{ animal { __typename } }", null)).toEqual({ data: { animal: { __typename: "Dog" } } });
  });
});

describe("requiresKeyTransform: what it leaves alone", () => {
  const raw = buildRaw();
  const guarded = requiresKeyTransform(raw);
  const fieldsOf = (s: GraphQLSchema, type: string) => (s.getType(type) as GraphQLObjectType).getFields();

  it("keeps the resolver of every unguarded field as it was", () => {
    for (const [type, field] of [["Query", "public"], ["Query", "animal"], ["Mutation", "ping"], ["Dog", "name"], ["Dog", "bark"]] as const) {
      const before = fieldsOf(raw, type)[field]!.resolve;
      expect(fieldsOf(guarded, type)[field]!.resolve, `${type}.${field}`).toBe(before);
    }
    expect(fieldsOf(raw, "Query").public!.resolve).toBeTypeOf("function");
    // A field on the default resolver stays on it, unwrapped.
    expect(fieldsOf(guarded, "Dog").name!.resolve).toBeUndefined();
  });

  it("wraps exactly the guarded fields", () => {
    for (const [type, field] of [
      ["Query", "anyKey"], ["Query", "secret"], ["Query", "node"], ["Query", "gadget"], ["Secret", "a"], ["Secret", "b"],
      ["Thing", "extra"], ["Gadget", "id"], ["Dog", "sound"], ["Mutation", "placeOrder"],
      // Unguarded itself, but its union has a guarded member (Secret): its elements are screened.
      ["Query", "search"],
    ] as const) {
      const after = fieldsOf(guarded, type)[field]!.resolve;
      expect(after, `${type}.${field}`).toBeTypeOf("function");
      expect(after, `${type}.${field}`).not.toBe(fieldsOf(raw, type)[field]!.resolve);
    }
  });

  it("does not change the schema it was given", () => {
    const before = buildRaw();
    const original = fieldsOf(before, "Query").anyKey!.resolve;
    requiresKeyTransform(before);
    expect(fieldsOf(before, "Query").anyKey!.resolve).toBe(original);
    const unguarded = graphqlSync({ schema: before, source: "{ anyKey }", contextValue: { auth: { key: null, clientAddress: null } } });
    expect(unguarded).toEqual({ data: { anyKey: "any key value" } });
  });
});

describe("the guard is synchronous", () => {
  it("returns a plain result, not a promise, for an all-synchronous schema", () => {
    const document = parse("{ public anyKey ordersWrite secret { a b } }");
    const refused = execute({ schema, document, contextValue: { auth: { key: null, clientAddress: null } } });
    expect(refused).not.toBeInstanceOf(Promise);
    expect((refused as ExecutionResult).data).toEqual({ public: "public value", anyKey: null, ordersWrite: null, secret: null });

    const key = keyOf("backoffice", "orders:read", "orders:write", "secret:read");
    const allowed = execute({ schema, document, contextValue: { auth: { key, clientAddress: null } } });
    expect(allowed).not.toBeInstanceOf(Promise);
    expect(allowed).toEqual({
      data: { public: "public value", anyKey: "any key value", ordersWrite: "orders value", secret: { a: "a value", b: "b from source" } },
    });
  });

  it("still works with asynchronous resolvers through graphql()", async () => {
    const asyncSchema = requiresKeyTransform(
      makeExecutableSchema({
        typeDefs: [requiresKeyTypeDefs, "type Query { later: String @requiresKey(scopes: [\"s\"]) }"],
        resolvers: { Query: { later: spy("Query.later", async () => "later value") } },
      }),
    );
    const refused = await graphql({ schema: asyncSchema, source: "{ later }", contextValue: { auth: { key: keyOf("mobile"), clientAddress: null } } });
    expect(refused.data).toEqual({ later: null });
    expect(errorsOf(refused)).toEqual([missingScope("Query.later", ["later"], "s")]);
    expect(calls.get("Query.later")).toBeUndefined();

    const allowed = await graphql({ schema: asyncSchema, source: "{ later }", contextValue: { auth: { key: keyOf("mobile", "s"), clientAddress: null } } });
    expect(allowed).toEqual({ data: { later: "later value" } });
  });
});

describe("requiresKeyTransform: invalid directive arguments stop the start", () => {
  function transform(typeDefs: string): () => GraphQLSchema {
    return () => requiresKeyTransform(makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, typeDefs] }));
  }

  function thrown(typeDefs: string): Error {
    try {
      transform(typeDefs)();
    } catch (error) {
      return error as Error;
    }
    throw new Error("expected a DirectiveError, nothing was thrown");
  }

  const tooLong = "a".repeat(65);

  it.each([
    ["an empty clientTypes list", `type Query { field: String @requiresKey(clientTypes: []) }`, "clientTypes"],
    ["an empty scopes list", `type Query { field: String @requiresKey(scopes: []) }`, "scopes"],
    ["a scope with a blank", `type Query { field: String @requiresKey(scopes: ["orders:read", "has space"]) }`, "scopes"],
    ["a client type of 65 characters", `type Query { field: String @requiresKey(clientTypes: ["${tooLong}"]) }`, "clientTypes"],
    ["an empty client type", `type Query { field: String @requiresKey(clientTypes: [""]) }`, "clientTypes"],
    ["a scope with a slash", `type Query { field: String @requiresKey(scopes: ["orders/read"]) }`, "scopes"],
    ["a scope with a non-ASCII letter", `type Query { field: String @requiresKey(scopes: ["caf\u00e9"]) }`, "scopes"],
  ])("a field with %s names Query.field", (_, typeDefs, argument) => {
    const error = thrown(typeDefs);
    expect(error).toBeInstanceOf(DirectiveError);
    expect(error.name).toBe("DirectiveError");
    expect(error.message).toContain("Query.field");
    expect(error.message).toContain(argument);
  });

  it("accepts names of 1 and 64 characters from the whole alphabet", () => {
    const ok = `a`.repeat(64);
    const schema = transform(
      `type Query { field: String @requiresKey(clientTypes: ["${ok}", "x"], scopes: ["Az09._:-", "orders:write"]) }`,
    )();
    expect(schema.getQueryType()?.getFields().field).toBeDefined();
  });

  it("names the type for a type-level guard", () => {
    const error = thrown(`type Query { open: String  secret: Secret }  type Secret @requiresKey(scopes: []) { a: String }`);
    expect(error).toBeInstanceOf(DirectiveError);
    expect(error.message).toContain("Secret");
    expect(error.message).not.toContain("Secret.");
    expect(error.message).toContain("scopes");
  });

  it("names the interface for an interface-level guard, with or without implementations", () => {
    for (const typeDefs of [
      `type Query { n: Node } interface Node @requiresKey(clientTypes: ["has space"]) { id: ID } type T implements Node { id: ID }`,
      `type Query { a: String } interface Node @requiresKey(clientTypes: ["has space"]) { id: ID }`,
    ]) {
      const error = thrown(typeDefs);
      expect(error).toBeInstanceOf(DirectiveError);
      expect(error.message).toContain("Node");
      expect(error.message).not.toContain("Node.");
      expect(error.message).not.toContain("T.");
    }
  });

  it("names Interface.field for an interface field, with or without implementations", () => {
    for (const typeDefs of [
      `type Query { a: Animal } interface Animal { sound: String @requiresKey(scopes: ["${tooLong}"]) } type Dog implements Animal { sound: String }`,
      `type Dog implements Animal { sound: String } interface Animal { sound: String @requiresKey(scopes: ["${tooLong}"]) } type Query { a: Animal }`,
      `type Query { a: String } interface Animal { sound: String @requiresKey(scopes: []) }`,
    ]) {
      const error = thrown(typeDefs);
      expect(error).toBeInstanceOf(DirectiveError);
      expect(error.message).toContain("Animal.sound");
      expect(error.message).not.toContain("Dog.sound");
    }
  });

  it("names the object field when the object is not reachable from Query", () => {
    const error = thrown(`type Query { a: String } type Orphan { f: String @requiresKey(clientTypes: []) }`);
    expect(error).toBeInstanceOf(DirectiveError);
    expect(error.message).toContain("Orphan.f");
  });
});
