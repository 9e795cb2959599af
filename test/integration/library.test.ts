// SPEC §9: Keyscope in your own server, both ways: createKeyscopeServer, and the parts beneath it.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import {
  createAuthResolver,
  createKeyscopeServer,
  createKeyService,
  createKeyVerifier,
  createUserService,
  DirectiveError,
  KeyCache,
  openDatabase,
  requiresKeyTransform,
  requiresKeyTypeDefs,
  systemClock,
  type Auth,
} from "../../src/index.ts";
import { databaseKinds, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { postGraphQL } from "../helpers/http.ts";

const typeDefs = /* GraphQL */ `
  type Query {
    hello: String!
    whoami: String @requiresKey
    reports: [String!] @requiresKey(clientTypes: ["partner"], scopes: ["reports:read"])
  }
`;

describe.each(databaseKinds)("library use on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(kind);
  });
  afterAll(() => database?.drop());

  it("createKeyscopeServer: your schema guarded, management merged in, your context added, close() stops it", async () => {
    const seen: unknown[] = [];
    const app = await createKeyscopeServer({
      ...database.options,
      logLevel: "silent",
      typeDefs,
      resolvers: {
        Query: {
          hello: () => "world",
          whoami: (_: unknown, __: unknown, ctx: { auth: Auth; tenant: string }) => {
            seen.push(ctx.tenant);
            return ctx.auth.key!.id;
          },
          reports: () => ["q3"],
        },
      },
      context: async () => ({ tenant: "acme" }),
    });
    const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const user = await app.users.createUser(CLI_PRINCIPAL, { email: "lib@example.com", clientTypes: ["partner"] });
      const { secret, apiKey } = await app.keys.createKey(
        CLI_PRINCIPAL,
        { userId: user.id, name: "partner key", clientType: "partner", scopes: ["reports:read"] },
      );
      const res = await postGraphQL(url, { query: "{ hello whoami reports me { user { email } } }" }, [["x-api-key", secret]]);
      expect({ status: res.status, json: res.json }).toEqual({
        status: 200,
        json: { data: { hello: "world", whoami: apiKey.id, reports: ["q3"], me: { user: { email: "lib@example.com" } } } },
      });
      expect(seen).toEqual(["acme"]);
      const anonymous = await postGraphQL(url, { query: "{ hello reports }" });
      expect({ status: anonymous.status, json: anonymous.json }).toEqual({
        status: 200,
        json: {
          data: { hello: "world", reports: null },
          errors: [
            {
              message: "Query.reports requires an API key. Send one in the X-API-Key header.",
              locations: [{ line: 1, column: 9 }],
              path: ["reports"],
              extensions: { code: "UNAUTHENTICATED", reason: "KEY_MISSING" },
            },
          ],
        },
      });
    } finally {
      await app.close();
    }
    await expect(postGraphQL(url, { query: "{ hello }" })).rejects.toThrow();
  });

  it("refuses to start with an invalid directive, naming Type.field", async () => {
    await expect(
      createKeyscopeServer({ ...database.options, logLevel: "silent", typeDefs: `type Query { x: Int @requiresKey(scopes: []) }` }),
    ).rejects.toThrow(new DirectiveError("@requiresKey on Query.x: scopes must not be an empty list (leave it out instead)."));
    await expect(
      createKeyscopeServer({ ...database.options, logLevel: "silent", typeDefs: `type Query { y: Int @requiresKey(clientTypes: ["two words"]) }` }),
    ).rejects.toThrow(new DirectiveError(`@requiresKey on Query.y: clientTypes entry "two words" must match ^[A-Za-z0-9._:-]{1,64}$.`));
  });

  it("the parts beneath: directive SDL and transform, verifier and context in your own Apollo server", async () => {
    const { db, migrate, close } = await openDatabase(database.options);
    await migrate();
    const cache = new KeyCache({ ttlSeconds: 30, maxEntries: 1000 });
    const verifier = createKeyVerifier({ db, cache, clock: systemClock, keyPrefix: "ks", hashSecret: undefined, cacheTtlSeconds: 30 });
    const users = createUserService({ db, cache, clock: systemClock });
    const keys = createKeyService({ db, cache, clock: systemClock, keyPrefix: "ks", hashSecret: undefined, maxKeysPerUser: 100 });
    const user = await users.createUser(CLI_PRINCIPAL, { email: "parts@example.com" });
    const { secret } = await keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });

    const schema = requiresKeyTransform(
      makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, typeDefs], resolvers: { Query: { hello: () => "hi", whoami: () => "you", reports: () => [] } } }),
    );
    const server = new ApolloServer<{ auth: Auth }>({ schema });
    const resolveAuth = createAuthResolver({ verifier, keySources: { queryParam: undefined, cookie: undefined, headers: [], extensions: false } });
    const { url } = await startStandaloneServer(server, {
      listen: { port: 0, host: "127.0.0.1" },
      context: async ({ req }) => ({
        auth: await resolveAuth({ rawHeaders: req.rawHeaders, search: "", body: undefined, clientAddress: req.socket.remoteAddress ?? null }),
      }),
    });
    try {
      const ok = await postGraphQL(url, { query: "{ whoami reports }" }, [["x-api-key", secret]]);
      expect({ status: ok.status, json: ok.json }).toEqual({
        status: 200,
        json: {
          data: { whoami: "you", reports: null },
          errors: [
            {
              message: "Query.reports requires a key of client type 'partner'.",
              locations: [{ line: 1, column: 10 }],
              path: ["reports"],
              extensions: { code: "FORBIDDEN", reason: "CLIENT_TYPE_NOT_ALLOWED" },
            },
          ],
        },
      });
      // A broken checksum: the whole request is refused, nothing runs.
      const bad = await postGraphQL(url, { query: "{ hello }" }, [["x-api-key", secret.slice(0, -1) + (secret.endsWith("x") ? "y" : "x")]]);
      expect({ status: bad.status, json: bad.json }).toEqual({
        status: 401,
        json: {
          errors: [
            {
              message: "The API key is not in a valid format. Check that it was copied whole.",
              extensions: { code: "UNAUTHENTICATED", reason: "KEY_MALFORMED" },
            },
          ],
        },
      });
      expect(bad.headers["www-authenticate"]).toBe('ApiKey realm="keyscope", header="X-API-Key"');
    } finally {
      await server.stop();
      await close();
    }
  });
});
