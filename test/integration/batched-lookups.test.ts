// Cache misses that arrive together reach the key store as one query (auth/batched-lookup.ts),
// on the real databases, and every request still gets its own key's answer: no mix-up between
// keys looked up together, a forged one among them included.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateKey, hashKey } from "../../src/keys/key-format.ts";
import { findCredentialsByHashes } from "../../src/keys/key-repository.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

// The real function underneath, counted (not a mock: the query still runs against the database).
const calls = vi.hoisted(() => [] as number[]);
vi.mock("../../src/keys/key-repository.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/keys/key-repository.ts")>();
  return {
    ...real,
    findCredentialsByHashes: (...args: Parameters<typeof real.findCredentialsByHashes>) => {
      calls.push(args[1].length);
      return real.findCredentialsByHashes(...args);
    },
  };
});

const KEYS = 30;

describe.each(databaseKinds)("batched key look-ups on %s", (kind) => {
  let server: TestServer;
  let issued: { secret: string; keyId: string; userId: string }[];
  beforeAll(async () => {
    server = await startServer(kind);
    issued = [];
    for (let i = 0; i < KEYS; i++) issued.push(await server.issueKey({ email: `batch-${i % 3}@example.com`, scopes: ["keys:self"] }));
  });
  afterAll(() => server?.close());

  it(`${KEYS} uncached keys, forged ones among them and a repeat, checked in one turn: one query, each its own answer`, async () => {
    server.app.cache.clear();
    calls.length = 0;
    // Not in the order they were issued (the order the database may give its rows back in),
    // forged keys first and in the middle: an answer matched by position would be caught.
    const mixed = [...issued].reverse();
    const presented: ({ secret: string; keyId: string; userId: string } | null)[] = [null, ...mixed.slice(0, 10), null, ...mixed.slice(10), mixed[3]!];
    const results = await Promise.all(presented.map((k) => server.app.core.verifier.verify(k ? k.secret : generateKey("ks"))));
    expect(calls).toEqual([KEYS + 2]);
    expect(results.map((r) => (r.ok ? { id: r.key.id, userId: r.key.userId } : r))).toEqual(
      presented.map((k) => (k ? { id: k.keyId, userId: k.userId } : { ok: false, reason: "KEY_INVALID" })),
    );
  });

  it("more misses in one turn than a query takes: several queries of at most 100, each answered", async () => {
    calls.length = 0;
    const forged = Array.from({ length: 250 }, () => generateKey("ks"));
    const results = await Promise.all(forged.map((secret) => server.app.core.verifier.verify(secret)));
    expect(calls).toEqual([100, 100, 50]);
    expect(results.every((r) => !r.ok && r.reason === "KEY_INVALID")).toBe(true);
  });

  it("the store's answer for several hashes is matched by hash, whatever their order", async () => {
    const hashes = issued.map((k) => hashKey(k.secret, undefined));
    const order = [hashes[7]!, hashKey(generateKey("ks"), undefined), hashes[0]!, hashes[29]!, hashes[7]!];
    const found = await findCredentialsByHashes(server.app.database.db, order);
    expect(found.size).toBe(3);
    for (const i of [0, 7, 29]) expect(found.get(hashes[i]!)).toMatchObject({ keyId: issued[i]!.keyId, userId: issued[i]!.userId });
  });

  it("simultaneous requests with uncached keys: each is answered as its own key, over HTTP", async () => {
    server.app.cache.clear();
    calls.length = 0;
    const forged = generateKey("ks");
    const answers = await Promise.all([
      ...issued.map((k) => server.query("{ me { apiKey { id } user { id } } }", [apiKey(k.secret)])),
      server.query("{ __typename }", [apiKey(forged)]),
    ]);
    expect(answers.slice(0, KEYS).map((a) => a.json)).toEqual(issued.map((k) => ({ data: { me: { apiKey: { id: k.keyId }, user: { id: k.userId } } } })));
    expect(answers[KEYS]!.status).toBe(401);
    expect(answers[KEYS]!.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_INVALID" });
    // Every key asked for once, however the requests fell into turns.
    expect(calls.reduce((a, b) => a + b, 0)).toBe(KEYS + 1);
  });
});
