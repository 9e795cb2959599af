// No key in a log line: send keys through every source, good and bad, then scan all the logs.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "../../src/db/schema/index.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL, send } from "../helpers/http.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

describe.each(databaseKinds)("secrets never reach the logs on %s", (kind) => {
  let server: TestServer;
  const presented: string[] = [];

  beforeAll(async () => {
    server = await startServer(kind, {
      keySources: { queryParam: "api_key", cookie: "mia_client_key", headers: ["secret"], extensions: true },
    });
  });
  afterAll(() => server?.close());

  it("logs requests at trace level without any key presented in them", async () => {
    const good = (await server.issueKey({ clientType: "mobile" })).secret;
    const revoked = await server.issueKey();
    await server.app.database.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, revoked.keyId));
    const keys = {
      good,
      revoked: revoked.secret,
      unknown: generateKey("ks"),
      badChecksum: good.slice(0, 35) + (good[35] === "A" ? "B" : "A") + good.slice(36),
      foreign: "some-foreign-secret-value-123",
      short: "ks_tooShort",
    };
    presented.push(...Object.values(keys));

    const query = "{ inventory { quantity } salesReport { orders } nope: product(id: \"p1\") { name } }";
    for (const key of Object.values(keys)) {
      await postGraphQL(server.url, { query }, [["x-api-key", key]]);
      await postGraphQL(server.url, { query }, [["authorization", `Bearer ${key}`]]);
      await postGraphQL(server.url, { query }, [["cookie", `mia_client_key=${key}`]]);
      await postGraphQL(server.url, { query }, [["secret", key]]);
      await postGraphQL(server.url, { query, extensions: { apiKey: key } });
      await postGraphQL(`${server.url}?api_key=${key}`, { query });
      await send(`${server.url}?api_key=${encodeURIComponent(key)}&query=${encodeURIComponent(query)}`, {
        headers: [["apollo-require-preflight", "1"]],
      });
      // A broken request with a key in it, and an ambiguous one.
      await send(server.url, { method: "POST", headers: [["content-type", "application/json"], ["x-api-key", key]], body: "{not json" });
      await postGraphQL(server.url, { query: "{ notAField }" }, [["x-api-key", key], ["secret", keys.unknown]]);
    }
    // One line a request, written once the server has finished it (possibly after we read it).
    const requestLines = (logs: string) => logs.split("\n").filter((line) => line.includes('"msg":"request"'));
    await server.untilLogged((logs) => requestLines(logs).length >= Object.keys(keys).length * 9);

    const logs = server.logs();
    expect(requestLines(logs)).toHaveLength(Object.keys(keys).length * 9); // it did log, one line a request
    expect(logs).toContain('"status":401');
    for (const key of presented) {
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(encodeURIComponent(key));
      // Not even the secret part on its own.
      if (key.startsWith("ks_") && key.length === 41) expect(logs).not.toContain(key.slice(3, 35));
    }
    for (const line of logs.split("\n").filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });
});
