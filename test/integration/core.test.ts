// The core (createCore): the services, the verifier and the request path's auth, built once on one
// database; and the parts beneath it taking partial options merged with the server's defaults.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import {
  countRefusal, createAuthResolver, createCore, createKeyService, createKeyVerifier, KeyCache, openMigratedDatabase,
  requiresKeyTransform, requiresKeyTypeDefs, type Auth, type Database,
} from "../../src/index.ts";
import { postGraphQL } from "../helpers/http.ts";
import { keyUsage } from "../../src/db/schema/index.ts";
import { createLogger } from "../../src/logger.ts";
import { databaseKinds, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

const silent = createLogger("silent");

describe.each(databaseKinds)("the core on %s", (kind) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await freshDatabase(kind);
    database = await openMigratedDatabase({ databaseUrl: test.options.databaseUrl, dataDir: test.options.dataDir ?? "memory://" }, "test");
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("takes any part of the configuration: the rest are the server's defaults", async () => {
    const core = await createCore({ database, config: { keyPrefix: "acme" }, logger: silent });
    try {
      expect(core.config.keyPrefix).toBe("acme");
      expect(core.config.limits.maxKeysPerUser).toBe(100);
      expect(core.config.cache).toEqual({ ttlSeconds: 30, maxEntries: 10_000 });
      const user = await core.users.createUser(CLI_PRINCIPAL, { email: "core-defaults@example.com", clientTypes: ["mobile"] });
      const { secret, apiKey } = await core.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile", scopes: ["a:b"] });
      expect(secret).toMatch(/^acme_[0-9A-Za-z]{38}$/);
      const auth = await core.authenticate({ rawHeaders: ["X-API-Key", secret], search: "", body: undefined, clientAddress: "192.0.2.1" });
      expect(auth).toEqual({
        key: { id: apiKey.id, secretId: expect.any(String), userId: user.id, clientType: "mobile", scopes: new Set(["a:b"]), ownerRole: "MEMBER", rateLimit: null },
        clientAddress: "192.0.2.1",
        rateLimit: { allowed: true, limit: 1000, remaining: 999, resetSeconds: 60 },
        refusals: 0,
      });
    } finally {
      await core.close();
    }
  });

  it("close() writes the usage counted so far, and is the same promise when called twice", async () => {
    const core = await createCore({ database, logger: silent });
    const user = await core.users.createUser(CLI_PRINCIPAL, { email: "core-close@example.com", clientTypes: ["mobile"] });
    const { apiKey } = await core.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });
    core.usage.record(apiKey.id, false);
    core.usage.record(apiKey.id, true);
    const closing = core.close();
    expect(core.close()).toBe(closing);
    await closing;
    const rows = await database.db.select().from(keyUsage).where(eq(keyUsage.keyId, apiKey.id));
    expect(rows.map(({ requests, rejected }) => ({ requests, rejected }))).toEqual([{ requests: 2, rejected: 1 }]);
  });

  it("a change made by a command-line core (serving: false) reaches a serving core's cache on the same database (LISTEN)", async () => {
    const serving = await createCore({ database, logger: silent });
    const commandLine = await createCore({ database, logger: silent, serving: false });
    try {
      const user = await commandLine.users.createUser(CLI_PRINCIPAL, { email: "core-listen@example.com", clientTypes: ["mobile"] });
      const { secret, apiKey } = await commandLine.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });
      const present = (core: typeof serving) => core.authenticate({ rawHeaders: ["X-API-Key", secret], search: "", body: undefined, clientAddress: null });
      await present(serving); // now cached
      await present(commandLine);
      await commandLine.keys.revokeKey(CLI_PRINCIPAL, apiKey.id);
      await expect.poll(() => present(serving).then(() => "works", (e: Error) => e.message), { timeout: 5000 }).toBe("The API key has been revoked.");
    } finally {
      await serving.close();
      await commandLine.close();
    }
  });
});

describe("the parts beneath, with partial options", () => {
  let database: Database;
  beforeAll(async () => {
    database = await openMigratedDatabase({ databaseUrl: undefined, dataDir: "memory://" }, "test");
  });
  afterAll(() => database?.close());

  it("a verifier, a key service and an auth resolver need only the database and one shared cache", async () => {
    const cache = new KeyCache();
    const verifier = createKeyVerifier({ db: database.db, cache });
    const keys = createKeyService({ db: database.db, cache, verifier });
    const core = await createCore({ database, logger: silent, serving: false });
    const user = await core.users.createUser(CLI_PRINCIPAL, { email: "parts@example.com", clientTypes: ["mobile"] });
    await core.close();
    const { secret, apiKey } = await keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });
    expect(secret.startsWith("ks_")).toBe(true);
    const resolveAuth = createAuthResolver({ verifier });
    const auth = await resolveAuth({ rawHeaders: ["Authorization", `Bearer ${secret}`], search: "", body: undefined, clientAddress: null });
    expect(auth.key?.id).toBe(apiKey.id);
    // The cache is the one the service evicts from: a revoke is seen at once.
    await keys.revokeKey(CLI_PRINCIPAL, apiKey.id);
    await expect(resolveAuth({ rawHeaders: ["X-API-Key", secret], search: "", body: undefined, clientAddress: null })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", reason: "KEY_REVOKED" },
    });
  });
});

describe("the README's parts example, as written", () => {
  it("guards your own Apollo server with the core's authenticate and counts refused requests", async () => {
    const typeDefs = `type Query { hello: String! reports: [String!] @requiresKey(scopes: ["reports:read"]) }`;
    const resolvers = { Query: { hello: () => "world", reports: () => ["q3"] } };
    const config = { dataDir: "memory://", hashSecret: undefined };
    const database = await openMigratedDatabase(config, "my server");
    const core = await createCore({ database, config });
    const schema = requiresKeyTransform(makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, typeDefs], resolvers }), {
      onRefusal: ({ auth }) => countRefusal(auth),
    });
    const seen: Auth[] = [];
    const server = new ApolloServer<{ auth: Auth }>({ schema });
    const { url } = await startStandaloneServer(server, {
      listen: { port: 0, host: "127.0.0.1" },
      context: async ({ req }) => {
        const auth = await core.authenticate({
          rawHeaders: req.rawHeaders, search: "", body: undefined,
          clientAddress: req.socket.remoteAddress ?? null,
          connection: req.socket,
        });
        seen.push(auth);
        return { auth };
      },
    });
    try {
      const user = await core.users.createUser(CLI_PRINCIPAL, { email: "readme@example.com", clientTypes: ["mobile"] });
      const { secret } = await core.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });
      const res = await postGraphQL(url, { query: "{ hello reports }" }, [["x-api-key", secret]]);
      expect(res.json).toEqual({
        data: { hello: "world", reports: null },
        errors: [{
          message: "Query.reports requires scope 'reports:read', which this key does not hold.",
          locations: [{ line: 1, column: 9 }],
          path: ["reports"],
          extensions: { code: "FORBIDDEN", reason: "SCOPE_MISSING" },
        }],
      });
      expect(seen.map((auth) => auth.refusals)).toEqual([1]);
      const bad = await postGraphQL(url, { query: "{ hello }" }, [["x-api-key", "ks_typo"]]);
      expect(bad.status).toBe(401);
      expect(bad.json).toEqual({
        errors: [{ message: "The API key is not in a valid format. Check that it was copied whole.", extensions: { code: "UNAUTHENTICATED", reason: "KEY_MALFORMED" } }],
      });
    } finally {
      await server.stop();
      await core.close();
      await database.close();
    }
  });
});
