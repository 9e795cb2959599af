// SPEC §8, production: no introspection unless switched on, no stack traces, no suggestions, no
// batches, and configurable limits on body size, depth, aliases and tokens, checked before execution.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { send, type HttpResponse } from "../helpers/http.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const LOW = { maxBodyBytes: 2048, maxDepth: 2, maxAliases: 2, maxTokens: 40 };
const HIGH = { maxBodyBytes: 1024 * 1024, maxDepth: 20, maxAliases: 50, maxTokens: 5000 };

/** Depth 3: products → supplier → name. */
const DEEP = "{ products { supplier { name } } }";
/** Depth 3 too: a fragment neither hides a level nor adds one. */
const DEEP_IN_FRAGMENT = "{ products { ...WithSupplier } } fragment WithSupplier on Product { supplier { name } }";
const THREE_ALIASES = "{ a: products { id } b: products { id } c: products { id } }";
const THREE_ALIASES_IN_FRAGMENT = "{ products { ...Ids } } fragment Ids on Product { a: id b: id c: id }";
/** 4 + 45 = 49 tokens. */
const MANY_TOKENS = `{ products { ${"id ".repeat(45)}} }`;
/** Within every LOW limit: depth 2, two aliases, a fragment, 24 tokens. */
const WITHIN = "{ first: products { ...Name } second: product(id: \"p2\") { id } } fragment Name on Product { name }";
const PRODUCTS = [{ id: "p1" }, { id: "p2" }, { id: "p3" }];

describe.each(databaseKinds)("production hardening on %s", (kind) => {
  /** Production, introspection off, low limits. */
  let prod: TestServer;
  /** Production, introspection switched on, high limits. */
  let roomy: TestServer;
  /** Development defaults. */
  let dev: TestServer;

  beforeAll(async () => {
    [prod, roomy, dev] = await Promise.all([
      startServer(kind, { production: true, introspection: false, limits: LOW }),
      startServer(kind, { production: true, introspection: true, limits: HIGH }),
      startServer(kind, { production: false }),
    ]);
  });
  afterAll(() => Promise.all([prod?.close(), roomy?.close(), dev?.close()]));

  describe("introspection", () => {
    it.each([
      ["__schema", "{ __schema { types { name } } }"],
      ["__type", '{ __type(name: "Query") { name } }'],
    ])("%s is refused in production", async (_, query) => {
      const res = await prod.query(query);
      expect({ status: res.status, json: res.json }).toEqual({
        status: 400,
        json: {
          errors: [
            {
              message:
                "GraphQL introspection is not allowed by Apollo Server, but the query contained __schema or __type. To enable introspection, pass introspection: true to ApolloServer in production",
              locations: [{ line: 1, column: 3 }],
              extensions: { validationErrorCode: "INTROSPECTION_DISABLED", code: "GRAPHQL_VALIDATION_FAILED" },
            },
          ],
        },
      });
    });

    it("__typename is no introspection and still works in production", async () => {
      expect((await prod.query("{ __typename }")).json).toEqual({ data: { __typename: "Query" } });
    });

    it("is allowed in production when switched on", async () => {
      const res = await roomy.query("{ __schema { types { name } } }");
      expect(res.status).toBe(200);
      expect(res.json.errors).toBeUndefined();
      const names = res.json.data.__schema.types.map((t: { name: string }) => t.name);
      expect(names).toEqual(expect.arrayContaining(["Product", "ApiKey", "Query", "Mutation"]));
    });

    it("is on by default in development", async () => {
      const res = await dev.query('{ __type(name: "Supplier") { name } }');
      expect(res.json).toEqual({ data: { __type: { name: "Supplier" } } });
    });
  });

  describe("suggestions", () => {
    const misspelt: [string, string, Record<string, unknown> | undefined, string][] = [
      ["a field", "{ products { nmae } }", undefined, 'Cannot query field "nmae" on type "Product".'],
      ["a root field", "{ produts { id } }", undefined, 'Cannot query field "produts" on type "Query".'],
      ["an argument", '{ product(idd: "p1", id: "p1") { id } }', undefined, 'Unknown argument "idd" on field "Query.product".'],
      ["a type condition", "{ products { ... on Prodcut { id } } }", undefined, 'Unknown type "Prodcut".'],
      ["an input field", 'mutation { createUser(input: { email: "x@example.com", nmae: "X" }) { id } }', undefined,
        'Field "nmae" is not defined by type "CreateUserInput".'],
      ["an enum value", "{ myApiKeys(status: ACTIV) { id } }", undefined, 'Value "ACTIV" does not exist in "ApiKeyStatus" enum.'],
      ["an enum value in a variable", "query ($s: ApiKeyStatus) { myApiKeys(status: $s) { id } }", { s: "ACTIV" },
        'Variable "$s" got invalid value "ACTIV"; Value "ACTIV" does not exist in "ApiKeyStatus" enum.'],
    ];

    it.each(misspelt)("%s: none in production, the plain message kept", async (_, query, variables, message) => {
      const res = await prod.query(query, [], variables);
      expect(res.status).toBe(400);
      expect(res.json.data).toBeUndefined();
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].message).toBe(message);
      expect(res.text).not.toMatch(/Did you mean|Suggestion/i);
    });

    it.each(misspelt)("%s: suggested in development", async (_, query, variables, message) => {
      const res = await dev.query(query, [], variables);
      expect(res.status).toBe(400);
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].message).toMatch(new RegExp(`^${escapeRegExp(message)} Did you mean (the enum value )?"\\w+"`));
    });
  });

  it("no error carries a stack trace or an internal detail: each answer is exactly its status and plain errors", async () => {
    const admin = await prod.issueKey({ role: "ADMIN", scopes: ["keys:admin", "keys:self"] });
    const cases: [string, Promise<HttpResponse>, number, unknown][] = [
      ["validation", prod.query("{ products { nmae } }"), 400, {
        errors: [{ message: 'Cannot query field "nmae" on type "Product".', locations: [{ line: 1, column: 14 }], extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }],
      }],
      ["syntax", prod.query("{ products { id } "), 400, {
        errors: [{ message: "Syntax Error: Expected Name, found <EOF>.", locations: [{ line: 1, column: 19 }], extensions: { code: "GRAPHQL_PARSE_FAILED" } }],
      }],
      ["a guarded field without a key", prod.query("{ inventory { quantity } }"), 200, {
        data: { inventory: null },
        errors: [{
          message: "Query.inventory requires an API key. Send one in the X-API-Key header.",
          locations: [{ line: 1, column: 3 }],
          path: ["inventory"],
          extensions: { code: "UNAUTHENTICATED", reason: "KEY_MISSING" },
        }],
      }],
      ["a malformed key", prod.query("{ products { id } }", [apiKey("ks_not-a-key")]), 401, {
        errors: [{ message: "The API key is not in a valid format. Check that it was copied whole.", extensions: { code: "UNAUTHENTICATED", reason: "KEY_MALFORMED" } }],
      }],
      ["a bad variable", prod.query("query ($id: ID!) { product(id: $id) { id } }", [], { id: { not: "an id" } }), 400, {
        errors: [{
          message: 'Variable "$id" got invalid value { not: "an id" }; ID cannot represent value: { not: "an id" }',
          locations: [{ line: 1, column: 8 }],
          extensions: { code: "BAD_USER_INPUT" },
        }],
      }],
      ["bad input", prod.query('mutation { createUser(input: { email: "not-an-email" }) { id } }', [apiKey(admin.secret)]), 200, {
        data: null,
        errors: [{
          message: "The email address is not valid.",
          locations: [{ line: 1, column: 12 }],
          path: ["createUser"],
          extensions: { code: "BAD_USER_INPUT", field: "email" },
        }],
      }],
      ["a limit", prod.query(DEEP), 400, {
        errors: [{ message: "Syntax Error: Query depth limit of 2 exceeded, found 3.", extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }],
      }],
      ["a batch", sendRaw(prod, "[]"), 400, { errors: [{ message: "Operation batching disabled.", extensions: { code: "BAD_REQUEST" } }] }],
      ["not JSON", sendRaw(prod, "{nope"), 400, { errors: [{ message: "The request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] }],
      ["an unknown operation", sendRaw(prod, JSON.stringify({ query: "{ products { id } }", operationName: "Missing" })), 400, {
        errors: [{ message: 'Unknown operation named "Missing".', extensions: { code: "OPERATION_RESOLUTION_FAILURE" } }],
      }],
    ];
    const answers = await Promise.all(cases.map(([, res]) => res));
    cases.forEach(([what, , status, json], i) => {
      const res = answers[i]!;
      expect({ status: res.status, json: res.json }, what).toEqual({ status, json });
      expect(res.text, what).not.toMatch(/stacktrace|\bat .+\.(ts|js):\d+/);
    });
  });

  it("an unexpected failure is a plain 'Internal server error', without stack or cause", async () => {
    const broken = await startServer(kind, { production: true });
    try {
      const { secret } = await broken.issueKey({ scopes: ["keys:self"] });
      expect((await broken.query("{ me { apiKey { id } } }", [apiKey(secret)])).status).toBe(200); // now cached
      await broken.app.database.close();
      const res = await broken.query("{ myApiKeys { id name } }", [apiKey(secret)]);
      expect(res.json.data).toBeNull();
      expect(res.json.errors).toEqual([
        { message: "Internal server error", locations: [{ line: 1, column: 3 }], path: ["myApiKeys"], extensions: { code: "INTERNAL_SERVER_ERROR" } },
      ]);
    } finally {
      await broken.app.close().catch(() => {});
      await broken.database.drop();
    }
  });

  it("a batch (a JSON array) is refused and runs none of its operations", async () => {
    const admin = await prod.issueKey({ role: "ADMIN", scopes: ["keys:admin", "keys:self"] });
    const create = (email: string) => ({ query: `mutation { createUser(input: { email: "${email}" }) { email } }` });
    const batch = [create("batched-1@example.com"), create("batched-2@example.com")];
    const res = await sendRaw(prod, JSON.stringify(batch), [apiKey(admin.secret)]);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: [{ message: "Operation batching disabled.", extensions: { code: "BAD_REQUEST" } }] });
    expect(await userExists(prod, "batched-1@example.com")).toBe(false);
    expect(await userExists(prod, "batched-2@example.com")).toBe(false);

    // The same operation alone runs: the probe above could have seen a user.
    const single = await sendRaw(prod, JSON.stringify(batch[0]), [apiKey(admin.secret)]);
    expect(single.json).toEqual({ data: { createUser: { email: "batched-1@example.com" } } });
    expect(await userExists(prod, "batched-1@example.com")).toBe(true);
  });

  describe("limits", () => {
    it("a query within every limit runs", async () => {
      const res = await prod.query(WITHIN);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        data: { first: [{ name: "Oak desk" }, { name: "Steel shelf" }, { name: "Birch stool" }], second: { id: "p2" } },
      });
    });

    // The messages are graphql-armor's own, spelling included.
    const depth = { message: "Syntax Error: Query depth limit of 2 exceeded, found 3.", extensions: { code: "GRAPHQL_VALIDATION_FAILED" } };
    const aliases = { message: "Syntax Error: Aliases limit of 2 exceeded, found 3.", extensions: { code: "GRAPHQL_VALIDATION_FAILED" } };
    const tokens = {
      message: "Syntax Error: Document contains more that 40 tokens. Parsing aborted.",
      locations: [{ line: 1, column: 125 }],
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    };
    it.each<[string, string, object]>([
      ["deeper than maxDepth", DEEP, depth],
      ["deeper than maxDepth through a fragment", DEEP_IN_FRAGMENT, depth],
      ["with more aliases than maxAliases", THREE_ALIASES, aliases],
      ["with more aliases than maxAliases in a fragment", THREE_ALIASES_IN_FRAGMENT, aliases],
      ["with more tokens than maxTokens", MANY_TOKENS, tokens],
    ])("a query %s: 400 before it runs, no data", async (_, query, error) => {
      const res = await prod.query(query);
      expect({ status: res.status, json: res.json }).toEqual({ status: 400, json: { errors: [error] } });
    });

    const suppliers = { products: [{ supplier: { name: "Nordic Timber" } }, { supplier: { name: "Atlas Metals" } }, { supplier: { name: "Nordic Timber" } }] };
    it.each<[string, string, unknown]>([
      ["depth", DEEP, suppliers],
      ["depth (through a fragment)", DEEP_IN_FRAGMENT, suppliers],
      ["aliases", THREE_ALIASES, { a: PRODUCTS, b: PRODUCTS, c: PRODUCTS }],
      ["aliases in a fragment", THREE_ALIASES_IN_FRAGMENT, { products: PRODUCTS.map(({ id }) => ({ a: id, b: id, c: id })) }],
      ["tokens", MANY_TOKENS, { products: PRODUCTS }],
    ])("the %s limit is configurable: the same query runs on a server with a higher one", async (_, query, data) => {
      const { secret } = await roomy.issueKey({ scopes: ["suppliers:read"] });
      const res = await roomy.query(query, [apiKey(secret)]);
      expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: { data } });
    });

    it("a body over maxBodyBytes: 413 with a JSON error, whether streamed or declared", async () => {
      const body = JSON.stringify({ query: `{ products { id } }${" ".repeat(LOW.maxBodyBytes)}` });
      const expected = { errors: [{ message: "The request body is larger than 2048 bytes.", extensions: { code: "PAYLOAD_TOO_LARGE" } }] };
      const streamed = await sendRaw(prod, body); // chunked: no content-length
      expect(streamed.status).toBe(413);
      expect(streamed.headers["content-type"]).toMatch(/^application\/json/);
      expect(streamed.json).toEqual(expected);
      const declared = await sendRaw(prod, body, [["content-length", String(Buffer.byteLength(body))]]);
      expect(declared.status).toBe(413);
      expect(declared.json).toEqual(expected);

      const roomyRes = await sendRaw(roomy, body);
      expect(roomyRes.status).toBe(200);
      expect(roomyRes.json).toEqual({ data: { products: PRODUCTS } });
    });

    it("a body just under maxBodyBytes runs", async () => {
      const base = JSON.stringify({ query: "{ products { id } }" });
      const body = JSON.stringify({ query: `{ products { id } }${" ".repeat(LOW.maxBodyBytes - base.length)}` });
      expect(Buffer.byteLength(body)).toBe(LOW.maxBodyBytes);
      const res = await sendRaw(prod, body);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ data: { products: PRODUCTS } });
    });
  });

  describe("HTTP", () => {
    it.each(["/", "/nope", "/graphql/extra", "/healthz/more"])("an unknown path %s: 404 with a JSON body", async (path) => {
      const res = await send(new URL(path, prod.url).toString());
      expect(res.status).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.json).toEqual({ error: "Not found. GraphQL is served at /graphql." });
    });

    it("a body that is not JSON: 400 with a JSON error", async () => {
      const res = await sendRaw(prod, '{"query": "{ products { id } }"');
      expect(res.status).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.json).toEqual({ errors: [{ message: "The request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] });
    });
  });
});

/** POST /graphql with a JSON content type and the body exactly as given. */
function sendRaw(server: TestServer, body: string, headers: [string, string][] = []): Promise<HttpResponse> {
  return send(server.url, { method: "POST", headers: [["content-type", "application/json"], ...headers], body });
}

async function userExists(server: TestServer, email: string): Promise<boolean> {
  const rows = await server.app.database.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  return rows.length > 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
