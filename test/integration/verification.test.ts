// Verification: expiry judged at every request (cached keys too), eviction, imported keys, hashing.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, keySecrets } from "../../src/db/schema/index.ts";
import { hashKey } from "../../src/keys/key-format.ts";
import { insertKey } from "../../src/keys/key-repository.ts";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { oneConnection, type OneConnection } from "../helpers/http.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const GUARDED = "{ inventory { quantity } }";

describe.each(databaseKinds)("verification on %s", (kind) => {
  const clock = manualClock();
  const hashSecret = "a-server-secret-of-at-least-32-characters";
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind, { clock, hashSecret });
  });
  afterAll(() => server?.close());

  it("judges expiry at every request, even for a key served from the cache", async () => {
    const { secret } = await server.issueKey({ expiresAt: new Date(clock.now() + 60_000) });
    expect((await server.query(GUARDED, [apiKey(secret)])).status).toBe(200); // cached now
    clock.advance(59_000);
    expect((await server.query(GUARDED, [apiKey(secret)])).status).toBe(200);
    clock.advance(1_000);
    const res = await server.query(GUARDED, [apiKey(secret)]);
    expect(res.status).toBe(401);
    expect(res.json.errors[0].extensions.reason).toBe("KEY_EXPIRED");
  });

  it("a change written behind the cache's back shows once the key is evicted", async () => {
    const { secret, keyId } = await server.issueKey();
    expect((await server.query(GUARDED, [apiKey(secret)])).status).toBe(200);
    await server.app.database.db.update(apiKeys).set({ revokedAt: new Date(clock.now()) }).where(eq(apiKeys.id, keyId));
    // Within the cache lifetime the cached answer stands (services evict; this write did not).
    expect((await server.query(GUARDED, [apiKey(secret)])).status).toBe(200);
    server.app.cache.evictKey(keyId);
    const res = await server.query(GUARDED, [apiKey(secret)]);
    expect(res.json.errors[0].extensions.reason).toBe("KEY_REVOKED");
  });

  it("evicting a user drops all their keys at once", async () => {
    const a = await server.issueKey({ email: "evict-me@example.com" });
    const b = await server.issueKey({ email: "evict-me@example.com" });
    for (const k of [a, b]) expect((await server.query(GUARDED, [apiKey(k.secret)])).status).toBe(200);
    await server.app.database.db.update(apiKeys).set({ active: false }).where(eq(apiKeys.userId, a.userId));
    server.app.cache.evictUser(a.userId);
    for (const k of [a, b]) {
      expect((await server.query(GUARDED, [apiKey(k.secret)])).json.errors[0].extensions.reason).toBe("KEY_DISABLED");
    }
  });

  it("stores only the HMAC of the key, never the key", async () => {
    const { secret, keyId } = await server.issueKey();
    const [row] = await server.app.database.db.select().from(keySecrets).where(eq(keySecrets.keyId, keyId));
    expect(row!.hash).toBe(hashKey(secret, hashSecret));
    expect(row!.hash).not.toContain(secret.slice(3, 35));
    const [key] = await server.app.database.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
    expect(JSON.stringify(key)).not.toContain(secret.slice(7));
    expect(key!.start).toBe(secret.slice(0, 7));
  });

  it("keys:admin counts only while the owner is an ADMIN", async () => {
    const { secret } = await server.issueKey({ role: "ADMIN", email: "boss@example.com", scopes: ["keys:admin", "keys:self"] });
    const res = await server.query("{ me { apiKey { scopes } user { role } } }", [apiKey(secret)]);
    expect(res.json.data.me).toEqual({ apiKey: { scopes: ["keys:admin", "keys:self"] }, user: { role: "ADMIN" } });
  });

  // A connection remembers its last key so that repeats skip the checksum and the hash: none of
  // that may outlive a change, an expiry, or a different key on the same socket.
  describe("many requests on one keep-alive connection", () => {
    let connection: OneConnection;
    beforeAll(() => {
      connection = oneConnection(server.url);
    });
    afterAll(() => connection.close());

    const ME = "{ me { apiKey { id } } }";
    async function reasonOf(secret: string) {
      const res = await connection.post(GUARDED, [apiKey(secret)]);
      expect(res.reusedSocket).toBe(true);
      return res.status === 200 ? "OK" : res.json.errors[0].extensions.reason;
    }

    it("a key revoked through the service fails at its next request on the same socket", async () => {
      const { secret, keyId } = await server.issueKey();
      await connection.post("{ __typename }");
      expect(await reasonOf(secret)).toBe("OK");
      expect(await reasonOf(secret)).toBe("OK");
      await server.app.keys.revokeKey(CLI_PRINCIPAL, keyId);
      expect(await reasonOf(secret)).toBe("KEY_REVOKED");
    });

    it("a disabled owner's key fails at its next request on the same socket", async () => {
      const { secret, userId } = await server.issueKey({ email: "disable-on-socket@example.com" });
      expect(await reasonOf(secret)).toBe("OK");
      await server.app.users.updateUser(CLI_PRINCIPAL, userId, { disabled: true });
      expect(await reasonOf(secret)).toBe("KEY_DISABLED");
    });

    it("expiry is judged at every request on the same socket", async () => {
      const { secret } = await server.issueKey({ expiresAt: new Date(clock.now() + 5_000) });
      expect(await reasonOf(secret)).toBe("OK");
      clock.advance(4_999);
      expect(await reasonOf(secret)).toBe("OK");
      clock.advance(1);
      expect(await reasonOf(secret)).toBe("KEY_EXPIRED");
    });

    it("each request's own key counts: switching keys, a typo, then back", async () => {
      const a = await server.issueKey();
      const b = await server.issueKey();
      const idOf = async (secret: string) => (await connection.post(ME, [apiKey(secret)])).json.data.me.apiKey.id;
      expect(await idOf(a.secret)).toBe(a.keyId);
      expect(await idOf(b.secret)).toBe(b.keyId);
      const typo = a.secret.slice(0, -1) + (a.secret.endsWith("0") ? "1" : "0");
      expect(await reasonOf(typo)).toBe("KEY_MALFORMED");
      expect(await idOf(a.secret)).toBe(a.keyId);
      // And no key at all is no key, whatever came before on this socket.
      const res = await connection.post(ME);
      expect(res.json.errors[0].extensions.reason).toBe("KEY_MISSING");
    });

    it("a change behind the cache's back shows once the cache lifetime has passed", async () => {
      const { secret, keyId } = await server.issueKey();
      expect(await reasonOf(secret)).toBe("OK");
      await server.app.database.db.update(apiKeys).set({ active: false }).where(eq(apiKeys.id, keyId));
      expect(await reasonOf(secret)).toBe("OK"); // within the lifetime the cached answer stands
      clock.advance(server.app.config.cache.ttlSeconds * 1000 + 1);
      expect(await reasonOf(secret)).toBe("KEY_DISABLED");
    });
  });

  describe("imported keys", () => {
    const value = "legacy-system-key-0123456789";

    it("a non-prefixed string is malformed while no imported key exists", async () => {
      const res = await server.query(GUARDED, [apiKey(value)]);
      expect(res.json.errors[0].extensions.reason).toBe("KEY_MALFORMED");
    });

    it("is looked up once an imported key exists: the imported value works, others are KEY_INVALID", async () => {
      const { userId } = await server.issueKey({ email: "importer@example.com" });
      await insertKey(
        server.app.database.db,
        {
          userId, name: "imported", description: null, clientType: "mobile", scopes: [], start: value.slice(0, 4),
          expiresAt: null, rateLimitLimit: null, rateLimitWindowSeconds: null, imported: true,
        },
        hashKey(value, hashSecret),
      );
      server.app.verifier.forgetImportedKeys(); // what the import service does
      expect((await server.query(GUARDED, [apiKey(value)])).status).toBe(200);
      const unknown = await server.query(GUARDED, [apiKey("another-legacy-key-000000")]);
      expect(unknown.status).toBe(401);
      expect(unknown.json.errors[0].extensions.reason).toBe("KEY_INVALID");
      // Prefixed strings still need a valid checksum, imported keys or not.
      const typo = await server.query(GUARDED, [apiKey("ks_" + "a".repeat(38))]);
      expect(typo.json.errors[0].extensions.reason).toBe("KEY_MALFORMED");
    });
  });
});
