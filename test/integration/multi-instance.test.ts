// SPEC §8: a revoked, disabled or rotated-away key stops on every instance within one second.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { KeyCache } from "../../src/auth/key-cache.ts";
import { createKeyscopeServer, type KeyscopeServer } from "../../src/keyscope-server.ts";
import { createKeyService } from "../../src/keys/key-service.ts";
import { createUserService } from "../../src/users/user-service.ts";
import { systemClock } from "../../src/clock.ts";
import { exampleResolvers, exampleTypeDefs } from "../../src/example/catalogue.ts";
import { databaseKinds, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import { postGraphQL } from "../helpers/http.ts";
import { waitFor } from "../helpers/wait-for.ts";

const GUARDED = "{ inventory { quantity } }";

/**
 * SPEC §8's promise: a change reaches other instances "within one second". The bound is the
 * SPEC's; the hour-long cache lifetime below is what makes the notification its only explanation.
 */
const within = (ms: number, check: () => Promise<boolean>) => waitFor(`a change seen within ${ms} ms`, check, ms, 25);

describe.each(databaseKinds)("changes reach other instances on %s", (kind) => {
  let database: TestDatabase;
  let a: KeyscopeServer;
  let urlA: string;
  /** Another instance's services: a cache of their own, the same database. */
  let other: { keys: ReturnType<typeof createKeyService>; users: ReturnType<typeof createUserService> };

  beforeAll(async () => {
    database = await freshDatabase(kind);
    // A long cache lifetime: only a notification can explain a change seen within a second.
    a = await createKeyscopeServer({ ...database.options, typeDefs: exampleTypeDefs, resolvers: exampleResolvers, logLevel: "silent", cache: { ttlSeconds: 3600 } });
    urlA = (await a.listen({ port: 0, host: "127.0.0.1" })).url;
    const cache = new KeyCache({ ttlSeconds: 3600, maxEntries: 100 });
    const deps = { db: a.database.db, cache, clock: systemClock };
    other = { keys: createKeyService({ ...deps, keyPrefix: "ks", hashSecret: undefined, maxKeysPerUser: 100 }), users: createUserService(deps) };
  });
  afterAll(async () => {
    await a?.close();
    await database?.drop();
  });

  async function freshKey(email: string) {
    const user = await other.users.createUser(CLI_PRINCIPAL, { email, clientTypes: ["mobile"] });
    const issued = await other.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "k", clientType: "mobile" });
    const res = await postGraphQL(urlA, { query: GUARDED }, [["x-api-key", issued.secret]]);
    expect(res.status).toBe(200); // now cached on A for an hour
    return { ...issued, userId: user.id };
  }
  const reasonOnA = async (secret: string) =>
    (await postGraphQL(urlA, { query: GUARDED }, [["x-api-key", secret]])).json.errors?.[0]?.extensions?.reason;

  it("a key revoked elsewhere fails on this instance within one second", async () => {
    const { secret, apiKey } = await freshKey("revoked@example.com");
    await other.keys.revokeKey(CLI_PRINCIPAL, apiKey.id);
    await within(1000, async () => (await reasonOnA(secret)) === "KEY_REVOKED");
  });

  it("a key rotated elsewhere (no grace) stops within one second, and the new secret works", async () => {
    const { secret, apiKey } = await freshKey("rotated@example.com");
    const rotated = await other.keys.rotateKey(CLI_PRINCIPAL, apiKey.id, 0);
    await within(1000, async () => (await reasonOnA(secret)) === "KEY_REVOKED");
    expect((await postGraphQL(urlA, { query: GUARDED }, [["x-api-key", rotated.secret]])).status).toBe(200);
  });

  it("a user disabled elsewhere has their keys fail within one second", async () => {
    const { secret, userId } = await freshKey("disabled@example.com");
    await other.users.updateUser(CLI_PRINCIPAL, userId, { disabled: true });
    await within(1000, async () => (await reasonOnA(secret)) === "KEY_DISABLED");
  });

  it("a key switched off elsewhere fails within one second", async () => {
    const { secret, apiKey } = await freshKey("off@example.com");
    await other.keys.updateKey(CLI_PRINCIPAL, apiKey.id, { active: false });
    await within(1000, async () => (await reasonOnA(secret)) === "KEY_DISABLED");
  });
});
