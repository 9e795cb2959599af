// A request whose presented key is refused (401, 429) is answered at the door, before Apollo
// (http/door-refusal.ts), and must be answered exactly as Apollo answers the same refusal thrown
// from its context: same status, headers and body, whatever the Accept header. The comparison is
// with the same request sent so that it goes through Apollo (a JSON content type other than
// application/json: Apollo builds the context first for it too). A plugin's contextCreationDidFail
// tells which way each went: Apollo calls it, the door does not.
import { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { createGraphQLRoute } from "../../src/http/graphql-route.ts";
import { createHttpServer } from "../../src/http/server.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { createLogger } from "../../src/logger.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { send, type HttpResponse } from "../helpers/http.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { defaultConfig } from "../../src/config.ts";
import type { AddressInfo } from "node:net";

const THROTTLE_LIMIT = 3;
const BODY = JSON.stringify({ query: "{ __typename }" });
const ACCEPTS = [
  undefined,
  "*/*",
  "application/json",
  "application/graphql-response+json",
  "application/graphql-response+json, application/json;q=0.9",
  "application/json;q=0.5, application/graphql-response+json",
  "text/html",
  "application/xml",
];

/** Status, headers but the date, and body: what must be the same both ways. */
function answerOf(response: HttpResponse) {
  const { date: _, ...headers } = response.headers;
  return { status: response.status, headers, text: response.text };
}

/** The figures that move with the clock (seconds to wait, what is left of a window). */
const withoutTimes = (answer: ReturnType<typeof answerOf>) =>
  JSON.parse(JSON.stringify(answer).replace(/Retry in \d+ s/g, "Retry in N s").replace(/"(retry-after|ratelimit-reset)":"\d+"/g, '"$1":"N"'));

describe.each(databaseKinds)("refusals answered at the door on %s", (kind) => {
  let server: TestServer;
  let apolloFailures = 0;
  beforeAll(async () => {
    server = await startServer(kind, {
      limits: { failedAuth: { limit: THROTTLE_LIMIT, windowSeconds: 60 }, rateLimit: { limit: 100_000, windowSeconds: 60 } },
      plugins: [{ contextCreationDidFail: async () => void apolloFailures++ }],
    });
  });
  afterAll(() => server?.close());

  let nextAddress = 10;
  /** A loopback address of its own per case: the failed-check throttle counts per address. */
  const freshAddress = () => `127.0.3.${nextAddress++}`;

  async function bothWays(keyHeaders: [string, string][], accept: string | undefined, localAddress: string) {
    const headers = (contentType: string): [string, string][] => [["content-type", contentType], ...keyHeaders, ...(accept ? [["accept", accept] as [string, string]] : [])];
    const before = apolloFailures;
    const door = await send(server.url, { method: "POST", headers: headers("application/json"), body: BODY, localAddress });
    const doorWentThroughApollo = apolloFailures > before;
    const apollo = await send(server.url, { method: "POST", headers: headers("application/vnd.keyscope+json"), body: BODY, localAddress });
    const apolloWentThroughApollo = apolloFailures > before + (doorWentThroughApollo ? 1 : 0);
    expect(doorWentThroughApollo, "the door answered the application/json request").toBe(false);
    expect(apolloWentThroughApollo, "Apollo answered the other content type").toBe(true);
    return { door: answerOf(door), apollo: answerOf(apollo) };
  }

  const cases: { name: string; keyHeaders: () => Promise<[string, string][]>; status: number }[] = [
    { name: "a malformed key", keyHeaders: async () => [["x-api-key", "ks_not-a-key"]], status: 401 },
    { name: "a forged well-formed key", keyHeaders: async () => [["x-api-key", generateKey("ks")]], status: 401 },
    { name: "two keys at once", keyHeaders: async () => [["x-api-key", generateKey("ks")], ["authorization", `Bearer ${generateKey("ks")}`]], status: 401 },
    {
      name: "a revoked key",
      keyHeaders: async () => {
        const { secret, keyId } = await server.issueKey();
        await server.app.keys.revokeKey(CLI_PRINCIPAL, keyId);
        return [["x-api-key", secret]];
      },
      status: 401,
    },
    {
      name: "a switched-off key",
      keyHeaders: async () => {
        const { secret, keyId } = await server.issueKey();
        await server.app.keys.updateKey(CLI_PRINCIPAL, keyId, { active: false });
        return [["x-api-key", secret]];
      },
      status: 401,
    },
  ];

  for (const { name, keyHeaders, status } of cases) {
    it(`${name}: ${status}, the same as Apollo's answer for every Accept`, async () => {
      const headers = await keyHeaders();
      for (const accept of ACCEPTS) {
        const { door, apollo } = await bothWays(headers, accept, freshAddress());
        expect(door.status).toBe(status);
        expect(door, `Accept: ${accept}`).toEqual(apollo);
      }
    });
  }

  it("an address past its failed checks: 429 with Retry-After, the same as Apollo's", async () => {
    const address = freshAddress();
    for (let i = 0; i < THROTTLE_LIMIT; i++) {
      await send(server.url, { method: "POST", headers: [["content-type", "application/json"], ["x-api-key", generateKey("ks")]], body: BODY, localAddress: address });
    }
    for (const accept of ACCEPTS) {
      const { door, apollo } = await bothWays([["x-api-key", generateKey("ks")]], accept, address);
      expect(door.status).toBe(429);
      expect(door.headers["retry-after"]).toMatch(/^\d+$/);
      expect(withoutTimes(door), `Accept: ${accept}`).toEqual(withoutTimes(apollo));
    }
  });

  it("a key over its rate limit: 429 with the RateLimit headers, the same as Apollo's", async () => {
    const { secret, keyId } = await server.issueKey();
    await server.app.keys.updateKey(CLI_PRINCIPAL, keyId, { rateLimit: { limit: 1, windowSeconds: 3600 } });
    const address = freshAddress();
    await send(server.url, { method: "POST", headers: [["content-type", "application/json"], ["x-api-key", secret]], body: BODY, localAddress: address });
    for (const accept of ACCEPTS) {
      const { door, apollo } = await bothWays([["x-api-key", secret]], accept, address);
      expect(door.status).toBe(429);
      expect(door.headers["ratelimit-limit"]).toBe("1");
      expect(withoutTimes(door), `Accept: ${accept}`).toEqual(withoutTimes(apollo));
    }
  });

  it("a valid key is admitted at the door and answered by Apollo as before", async () => {
    const { secret } = await server.issueKey();
    const response = await send(server.url, { method: "POST", headers: [["content-type", "application/json"], ["x-api-key", secret]], body: BODY, localAddress: freshAddress() });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ data: { __typename: "Query" } });
    expect(response.headers["ratelimit-limit"]).toBe("100000");
  });
});

describe.each(databaseKinds)("a key header named content-type on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind, { keySources: { headers: ["content-type"] } });
  });
  afterAll(() => server?.close());

  it("is judged as Apollo judges the request without it: no content type, so CSRF prevention refuses it (400)", async () => {
    const response = await send(server.url, { method: "POST", headers: [["content-type", "application/json"]], body: BODY });
    expect(response.status).toBe(400);
    expect(response.json.errors[0].message).toMatch(/Cross-Site Request Forgery/);
  });
});

describe("a fault (not a refusal) in the door's check", () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const apollo = new ApolloServer({ typeDefs: "type Query { ok: Boolean }", includeStacktraceInErrorResponses: false });
    await apollo.start();
    const server = createHttpServer({
      routes: [],
      graphql: createGraphQLRoute({
        apollo,
        admit: async () => {
          throw new Error("the check broke: select * from key_secrets where hash = 'secret'");
        },
        context: async () => ({}),
        keySources: defaultConfig.keySources,
        maxBodyBytes: 100_000,
      }),
      logger: createLogger("silent"),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await apollo.stop();
    };
  });
  afterAll(() => close?.());

  it("is answered by Apollo as a context that threw it (500), not at the door", async () => {
    const response = await send(url, { method: "POST", headers: [["content-type", "application/json"], ["x-api-key", generateKey("ks")]], body: BODY });
    expect(response.status).toBe(500);
    expect(response.json.errors[0].message).toMatch(/^Context creation failed: /);
  });
});
