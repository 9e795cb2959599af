// KEYSCOPE_TRUSTED_PROXIES over real sockets: X-Forwarded-For counts only from a trusted peer,
// for the failed-check throttle and the audit trail alike. Peers are chosen by binding the
// client to an address of 127/8 (Linux routes all of it to a server on 127.0.0.1).
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL, type HttpResponse } from "../helpers/http.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const PROXY = "127.0.0.2";
/** A second proxy, in front of PROXY: its address is one of ours too. */
const INNER_PROXY = "10.20.30.40";
const LIMIT = 3;

describe.each(databaseKinds)("trusted proxies on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string };
  beforeAll(async () => {
    server = await startServer(kind, {
      trustedProxies: [`${PROXY}/32`, "10.0.0.0/8"],
      limits: { failedAuth: { limit: LIMIT, windowSeconds: 60 } },
    });
    admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  const from = (peer: string, forwardedFor: string | undefined, headers: [string, string][] = [], query = "{ products { id } }") =>
    postGraphQL(server.url, { query }, [...headers, ...(forwardedFor === undefined ? [] : ([["x-forwarded-for", forwardedFor]] as [string, string][]))], {
      localAddress: peer,
    });
  const fail = (peer: string, forwardedFor?: string) => from(peer, forwardedFor, [apiKey(generateKey("ks"))]);

  /** Throttled (429) after LIMIT failures from what the server takes to be one address. */
  async function throttledAfterFailures(failures: () => Promise<HttpResponse>, check: () => Promise<HttpResponse>): Promise<void> {
    for (let i = 0; i < LIMIT; i++) expect((await failures()).status).toBe(401);
    expect((await check()).status).toBe(429);
  }

  it("from an untrusted peer, X-Forwarded-For is ignored: changing it does not dodge the throttle", async () => {
    const peer = randomLoopback();
    const { secret } = await server.issueKey();
    await throttledAfterFailures(() => fail(peer, randomPublic()), () => from(peer, randomPublic(), [apiKey(secret)]));
    // Claiming to be the proxy, or to come through it, changes nothing either.
    expect((await from(peer, `${randomPublic()}, ${PROXY}`, [apiKey(secret)])).status).toBe(429);
    // Another socket address is not affected.
    expect((await from(randomLoopback(), undefined, [apiKey(secret)])).status).toBe(200);
  });

  it("from the trusted proxy, each forwarded client has its own count, and the proxy itself is not throttled", async () => {
    const { secret } = await server.issueKey();
    const client = randomPublic();
    await throttledAfterFailures(() => fail(PROXY, client), () => from(PROXY, client, [apiKey(secret)]));
    // What the client writes to the left of its address is its own claim.
    expect((await from(PROXY, `${randomPublic()}, ${client}`, [apiKey(secret)])).status).toBe(429);
    expect((await from(PROXY, randomPublic(), [apiKey(secret)])).status).toBe(200);
    expect((await from(PROXY, undefined, [apiKey(secret)])).status).toBe(200);
  });

  it("through two trusted proxies, the address the outer one saw counts", async () => {
    const { secret } = await server.issueKey();
    const client = randomPublic();
    await throttledAfterFailures(() => fail(PROXY, `${client}, ${INNER_PROXY}`), () => from(PROXY, `${client}, ${INNER_PROXY}`, [apiKey(secret)]));
    // The same client straight through the first proxy is the same address.
    expect((await from(PROXY, client, [apiKey(secret)])).status).toBe(429);
  });

  it("the audit trail records the same address as the throttle counts", async () => {
    const peer = randomLoopback();
    const client = randomPublic();
    const cases: [string, string | undefined, string][] = [
      [peer, client, peer], // untrusted: the socket
      [PROXY, client, client], // trusted: the client it forwarded
      [PROXY, `${client}, ${INNER_PROXY}`, client], // two hops
      [PROXY, "unknown", PROXY], // malformed: the proxy that passed it on
      [PROXY, `${client}, garbage`, PROXY],
      [`${PROXY}`, "[2001:db8::7]:443", "2001:db8::7"], // IPv6 with a port, as some proxies write it
    ];
    for (const [socket, forwardedFor, expected] of cases) {
      const res = await from(socket, forwardedFor, [apiKey(admin.secret)], 'mutation { createUser(input: { email: "p' + randomInt(1e9) + '@example.com" }) { id } }');
      expect(res.status).toBe(200);
      const userId = res.json.data.createUser.id;
      const events = await from(randomLoopback(), undefined, [apiKey(admin.secret)], `{ auditEvents(filter: { userId: "${userId}" }) { edges { node { ip } } } }`);
      expect(events.json.data.auditEvents.edges, `${socket} / ${forwardedFor}`).toEqual([{ node: { ip: expected } }]);
    }
  });
});

function randomLoopback(): string {
  return `127.${randomInt(1, 255)}.${randomInt(256)}.${randomInt(3, 255)}`;
}

let clients = randomInt(1, 60_000);
/** A new client address each time (198.18.0.0/15, the benchmarking range), never a trusted proxy. */
function randomPublic(): string {
  const n = ++clients;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}
