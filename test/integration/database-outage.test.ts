// SPEC §4's last row for management too: with the key store unreachable, `me`, management queries
// and mutations answer 503 SERVICE_UNAVAILABLE / KEY_STORE_UNAVAILABLE, within a time set by
// configuration (connect and statement timeouts), and work again when the database is back. The
// database is made unreachable for real: a TCP proxy in front of PostgreSQL that drops every
// connection and refuses (a stopped server) or accepts and never answers (an unreachable host),
// and a lock that holds a table (a stuck server). Nothing is timed: each request is shown to end
// (the test's own timeout is only the backstop), which it would not without the timeouts.
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { classify } from "../../src/errors.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { sql } from "drizzle-orm";
import { databaseKinds, freshDatabase, type TestDatabase } from "../helpers/databases.ts";
import type { HttpResponse } from "../helpers/http.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

const TIMEOUTS = { connectMs: 500, statementMs: 1000 };
const UNAVAILABLE = { code: "SERVICE_UNAVAILABLE", reason: "KEY_STORE_UNAVAILABLE" };

function expectUnavailable(res: HttpResponse, field: string): void {
  expect(res.status).toBe(503);
  expect(res.headers["retry-after"]).toBe("5");
  expect(res.json).toEqual({
    data: null,
    errors: [{ message: "The key store cannot be reached right now. Try again shortly.", path: [field], locations: expect.any(Array), extensions: UNAVAILABLE }],
  });
}

describe("a database that does not answer, seen by postgres.js (no server needed)", () => {
  it("a refused connection is SERVICE_UNAVAILABLE, not an internal error", async () => {
    const closedPort = await freePort();
    const database = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${closedPort}/none`, databaseTimeouts: TIMEOUTS });
    try {
      const error = await database.db.execute(sql`select 1`).then(() => undefined, (e: unknown) => e);
      expect(classify(error)).toEqual({ code: "SERVICE_UNAVAILABLE", reason: "KEY_STORE_UNAVAILABLE", message: expect.any(String) });
    } finally {
      await database.close();
    }
  });

  it("a host that accepts and never answers fails at the connect timeout, as SERVICE_UNAVAILABLE", async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as AddressInfo;
    const database = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`, databaseTimeouts: TIMEOUTS });
    try {
      // Without connect_timeout this would wait for ever; it ends, and says why.
      const error = await database.db.execute(sql`select 1`).then(() => undefined, (e: unknown) => e);
      expect(classify(error)?.reason).toBe("KEY_STORE_UNAVAILABLE");
    } finally {
      await database.close();
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it("errors a database gives on purpose stay what they are (bad SQL is not an outage)", async () => {
    const database = await openDatabase({ dataDir: "memory://" });
    try {
      const error = await database.db.execute(sql`select * from no_such_table`).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(classify(error)).toBeUndefined();
    } finally {
      await database.close();
    }
  });
});

if (databaseKinds.includes("postgres")) {
  describe("the key store unreachable, over HTTP, on PostgreSQL", () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let server: TestServer;
    let admin: { secret: string; keyId: string; userId: string };
    let member: { secret: string; keyId: string; userId: string };
    beforeAll(async () => {
      database = await freshDatabase("postgres");
      const target = new URL(database.options.databaseUrl!);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      server = await startServer("pglite", { databaseUrl: proxy.urlFor(database.options.databaseUrl!), databaseTimeouts: TIMEOUTS });
      admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES, email: "outage-admin@example.com" });
      member = await server.issueKey({ scopes: ["keys:self"], email: "outage-member@example.com" });
    });
    afterAll(async () => {
      await proxy?.forward();
      await server?.app.close();
      await proxy?.close();
      await database?.drop();
    });

    const ME = "{ me { apiKey { id } } }";
    const USERS = "{ users { totalCount } }";
    const CREATE = 'mutation { createApiKey(input: { name: "during outage", clientType: "mobile" }) { secret } }';
    const asAdmin = (query: string) => server.query(query, [apiKey(admin.secret)]);

    /** Both keys answered once, so that they are in the verification cache. */
    async function warmUp(): Promise<void> {
      expect((await asAdmin(ME)).status).toBe(200);
      expect((await server.query(ME, [apiKey(member.secret)])).status).toBe(200);
    }

    async function expectEverythingUnavailable(): Promise<void> {
      expectUnavailable(await asAdmin(ME), "me");
      expectUnavailable(await server.query(ME, [apiKey(member.secret)]), "me");
      expectUnavailable(await asAdmin(USERS), "users");
      expectUnavailable(await server.query("{ myApiKeys { id } }", [apiKey(member.secret)]), "myApiKeys");
      expectUnavailable(await asAdmin(CREATE), "createApiKey");
      expectUnavailable(await server.query(CREATE, [apiKey(member.secret)]), "createApiKey");
    }

    async function expectBack(): Promise<void> {
      const me = await asAdmin(ME);
      expect(me.status).toBe(200);
      expect(me.json).toEqual({ data: { me: { apiKey: { id: admin.keyId } } } });
      expect((await asAdmin(USERS)).json.data.users.totalCount).toBeGreaterThanOrEqual(2);
      const created = await server.query(CREATE, [apiKey(member.secret)]);
      expect(created.status).toBe(200);
      expect(created.json.data.createApiKey.secret).toMatch(/^ks_/);
      expect((await fetch(server.url.replace("/graphql", "/readyz"))).status).toBe(200);
    }

    it("stopped (connections reset, new ones refused): 503 for me, management queries and mutations; back when it returns", async () => {
      await warmUp();
      await proxy.refuse();
      try {
        await expectEverythingUnavailable();
        // Partial data stays 200 (GraphQL over HTTP): the public field answers, the other says why it did not.
        const partial = await asAdmin(`{ products { id } apiKey(id: "${member.keyId}") { id } }`);
        expect(partial.status).toBe(200);
        expect(partial.json.data.products.length).toBeGreaterThan(0);
        expect(partial.json.data.apiKey).toBeNull();
        expect(partial.json.errors).toEqual([expect.objectContaining({ path: ["apiKey"], extensions: UNAVAILABLE })]);
        // A key the cache does not know cannot be checked: 503 from the request path, as before.
        const unknown = await server.query(ME, [apiKey(generateKey("ks"))]);
        expect(unknown.status).toBe(503);
        expect(unknown.json.errors[0].extensions).toEqual(UNAVAILABLE);
        expect((await fetch(server.url.replace("/graphql", "/readyz"))).status).toBe(503);
      } finally {
        await proxy.forward();
      }
      await expectBack();
    });

    it("unreachable (accepts, never answers): 503 once the connect timeout passes, for each request; back when it returns", async () => {
      await warmUp();
      await proxy.blackhole();
      try {
        await expectEverythingUnavailable();
      } finally {
        await proxy.forward();
      }
      await expectBack();
    });

    it("stuck (a table locked by someone else): 503 once the statement timeout passes; back when the lock goes", async () => {
      await warmUp();
      const locker = postgres(database.options.databaseUrl!, { max: 1, onnotice: () => {} });
      const holding = await locker.reserve();
      try {
        await holding`begin`;
        await holding`lock table api_keys, users in access exclusive mode`;
        expectUnavailable(await asAdmin(ME), "me");
        expectUnavailable(await asAdmin(USERS), "users");
        expectUnavailable(await server.query(CREATE, [apiKey(member.secret)]), "createApiKey");
      } finally {
        await holding`rollback`;
        holding.release();
        await locker.end();
      }
      await expectBack();
    });

    it("the log says the database is unreachable, without the failed query or its parameters", async () => {
      const lines = server.logs().split("\n").filter((line) => line.includes("the database is unreachable"));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toMatch(/select|insert|params|outage-(admin|member)@example\.com/i);
        expect(JSON.parse(line).code).toMatch(/^[A-Z0-9_]+$/);
      }
    });
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
