// SPEC §4: each situation's HTTP status, code and reason, over real HTTP on each database.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, keySecrets, users } from "../../src/db/schema/index.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";


describe.each(databaseKinds)("outcomes of SPEC §4 on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(() => server?.close());

  it("no key, only public fields: 200 with the data", async () => {
    const res = await server.query("{ products { id name } }");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: { products: [{ id: "p1", name: "Oak desk" }, { id: "p2", name: "Steel shelf" }, { id: "p3", name: "Birch stool" }] },
    });
  });

  it("no key, a guarded field: 200, that field null with KEY_MISSING, the rest returned", async () => {
    const res = await server.query("{ product(id: \"p1\") { name } inventory { quantity } }");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: { product: { name: "Oak desk" }, inventory: null },
      errors: [
        {
          message: "Query.inventory requires an API key. Send one in the X-API-Key header.",
          locations: [{ line: 1, column: 30 }],
          path: ["inventory"],
          extensions: { code: "UNAUTHENTICATED", reason: "KEY_MISSING" },
        },
      ],
    });
  });

  it("a valid key reaches key-only fields", async () => {
    const { secret } = await server.issueKey();
    const res = await server.query("{ inventory { productId quantity } }", [apiKey(secret)]);
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data.inventory).toHaveLength(3);
  });

  it.each([
    ["not in the format", "not a key"],
    ["a bad checksum", (() => { const k = generateKey("ks"); return k.slice(0, 35) + (k[35] === "0" ? "1" : "0") + k.slice(36); })()],
    ["the wrong length", "ks_abc"],
    ["an unknown non-prefixed string while no imported key exists", "legacy-key-from-elsewhere-123"],
  ])("a key %s: 401 KEY_MALFORMED with WWW-Authenticate", async (_, presented) => {
    const res = await server.query("{ products { id } }", [apiKey(presented)]);
    expectUnauthenticated(res, "KEY_MALFORMED");
  });

  it("an empty key header is malformed", async () => {
    expectUnauthenticated(await server.query("{ products { id } }", [["x-api-key", ""]]), "KEY_MALFORMED");
  });

  it("an unknown key: 401 KEY_INVALID", async () => {
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(generateKey("ks"))]), "KEY_INVALID");
  });

  it("an expired key: 401 KEY_EXPIRED", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, keyId));
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret)]), "KEY_EXPIRED");
  });

  it("a revoked key: 401 KEY_REVOKED", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.database.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId));
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret)]), "KEY_REVOKED");
  });

  it("an old secret after its rotation's grace period: 401 KEY_REVOKED", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.database.db.update(keySecrets).set({ expiresAt: new Date(Date.now() - 1) }).where(eq(keySecrets.keyId, keyId));
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret)]), "KEY_REVOKED");
  });

  it("an inactive key: 401 KEY_DISABLED", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.database.db.update(apiKeys).set({ active: false }).where(eq(apiKeys.id, keyId));
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret)]), "KEY_DISABLED");
  });

  it("a key whose owner is disabled: 401 KEY_DISABLED", async () => {
    const { secret, userId } = await server.issueKey();
    await server.app.database.db.update(users).set({ disabled: true }).where(eq(users.id, userId));
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret)]), "KEY_DISABLED");
  });

  it("two different keys in one request: 401 AMBIGUOUS_KEY", async () => {
    const a = await server.issueKey();
    const b = await server.issueKey();
    const res = await server.query("{ products { id } }", [apiKey(a.secret), ["authorization", `Bearer ${b.secret}`]]);
    expectUnauthenticated(res, "AMBIGUOUS_KEY");
  });

  it("the same key header twice: 401 AMBIGUOUS_KEY, even with the same value", async () => {
    const { secret } = await server.issueKey();
    expectUnauthenticated(await server.query("{ products { id } }", [apiKey(secret), apiKey(secret)]), "AMBIGUOUS_KEY");
  });

  it("the same key in X-API-Key and Authorization is one key, not two", async () => {
    const { secret } = await server.issueKey();
    const res = await server.query("{ inventory { quantity } }", [apiKey(secret), ["authorization", `ApiKey ${secret}`]]);
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
  });

  it("wrong client type: 200, field null with FORBIDDEN / CLIENT_TYPE_NOT_ALLOWED, the rest returned", async () => {
    const { secret } = await server.issueKey({ clientType: "mobile", scopes: ["orders:read"] });
    const res = await server.query("{ salesReport { orders } inventory { quantity } }", [apiKey(secret)]);
    expect(res.status).toBe(200);
    expect(res.json.data.salesReport).toBeNull();
    expect(res.json.data.inventory).toHaveLength(3);
    expect(res.json.errors).toEqual([
      {
        message: "Query.salesReport requires a key of client type 'backoffice'.",
        locations: [{ line: 1, column: 3 }],
        path: ["salesReport"],
        extensions: { code: "FORBIDDEN", reason: "CLIENT_TYPE_NOT_ALLOWED" },
      },
    ]);
  });

  it("missing scope: 200, field null with FORBIDDEN / SCOPE_MISSING naming the field and scope", async () => {
    const { secret } = await server.issueKey({ clientType: "backoffice", scopes: [] });
    const res = await server.query("{ orders { id } salesReport { orders } }", [apiKey(secret)]);
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({ orders: null, salesReport: { orders: 2 } });
    expect(res.json.errors).toEqual([
      {
        message: "Query.orders requires scope 'orders:read', which this key does not hold.",
        locations: [{ line: 1, column: 3 }],
        path: ["orders"],
        extensions: { code: "FORBIDDEN", reason: "SCOPE_MISSING" },
      },
    ]);
  });

  it("a key that meets every guard gets everything", async () => {
    const { secret } = await server.issueKey({ clientType: "backoffice", scopes: ["orders:read", "suppliers:read"] });
    const res = await server.query(
      "{ orders { id internalNote } products { cost supplier { name } } salesReport { revenue } }",
      [apiKey(secret)],
    );
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data.orders[0]).toEqual({ id: "o1", internalNote: "Gift wrap" });
    expect(res.json.data.products[0]).toEqual({ cost: 260, supplier: { name: "Nordic Timber" } });
  });

  it("the key store unreachable and the key not cached: 503 KEY_STORE_UNAVAILABLE", async () => {
    const other = await startServer(kind);
    const { secret } = await other.issueKey();
    const cached = await other.issueKey();
    await other.query("{ inventory { quantity } }", [apiKey(cached.secret)]); // now in the cache
    await other.app.database.close();
    try {
      const res = await other.query("{ inventory { quantity } }", [apiKey(secret)]);
      expect(res.status).toBe(503);
      expect(res.json.errors[0].extensions).toEqual({ code: "SERVICE_UNAVAILABLE", reason: "KEY_STORE_UNAVAILABLE" });
      expect(res.text).not.toContain(secret);
      // A key known from the cache still works, and a malformed one never needed the store.
      const known = await other.query("{ inventory { quantity } }", [apiKey(cached.secret)]);
      expect(known.status).toBe(200);
      expect(known.json.data.inventory).toHaveLength(3);
      const typo = await other.query("{ products { id } }", [apiKey(secret.slice(0, -1) + (secret.endsWith("a") ? "b" : "a"))]);
      expectUnauthenticated(typo, "KEY_MALFORMED");
      const ready = await fetch(other.url.replace("/graphql", "/readyz"));
      expect(ready.status).toBe(503);
    } finally {
      await other.app.close().catch(() => {});
      await other.database.drop();
    }
  });

  it("no message or header of a refusal contains the key", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.database.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId));
    const res = await server.query("{ products { id } }", [apiKey(secret)]);
    expect(res.text).not.toContain(secret);
    expect(JSON.stringify(res.headers)).not.toContain(secret);
  });
});

