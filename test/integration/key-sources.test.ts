// SPEC §3: the default sources, each opt-in source only when switched on, variables never.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL, send } from "../helpers/http.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const GUARDED = "{ inventory { quantity } }";

const allSources = {
  queryParam: "api_key",
  cookie: "mia_client_key",
  headers: ["secret", "client-key"],
  extensions: true,
};

describe.each(databaseKinds)("key sources on %s", (kind) => {
  let withSources: TestServer;
  let defaults: TestServer;
  let secret: string;
  let other: string;

  beforeAll(async () => {
    [withSources, defaults] = await Promise.all([startServer(kind, { keySources: allSources }), startServer(kind)]);
    secret = (await withSources.issueKey()).secret;
    other = (await withSources.issueKey()).secret;
  });
  afterAll(async () => {
    await withSources?.close();
    await defaults?.close();
  });

  const ok = (res: { status: number; json: any }) => {
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: { inventory: [{ quantity: 12 }, { quantity: 40 }, { quantity: 0 }] } });
  };
  const missing = (res: { status: number; json: any }) => {
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({ inventory: null });
    expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_MISSING" });
  };
  const rejected = (res: { status: number; json: any }, reason: string) => {
    expect(res.status).toBe(401);
    expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason });
  };

  describe("on by default", () => {
    it.each(["X-API-Key", "x-api-key", "X-Api-Key"])("header %s", async (name) => {
      const key = (await defaults.issueKey()).secret;
      ok(await defaults.query(GUARDED, [[name, key]]));
    });

    it.each(["ApiKey", "Api-Key", "Bearer", "bearer", "APIKEY", "api-key"])("Authorization: %s <key>", async (scheme) => {
      const key = (await defaults.issueKey()).secret;
      ok(await defaults.query(GUARDED, [["authorization", `${scheme} ${key}`]]));
    });

    it("an Authorization header of another scheme is not a key", async () => {
      missing(await defaults.query(GUARDED, [["authorization", "Basic dXNlcjpwYXNz"]]));
    });

    it("Authorization with the scheme and no key is malformed", async () => {
      rejected(await defaults.query(GUARDED, [["authorization", "Bearer"]]), "KEY_MALFORMED");
    });
  });

  describe("off by default", () => {
    it("query parameter, cookie, extra headers and extensions.apiKey are ignored", async () => {
      const key = (await defaults.issueKey()).secret;
      missing(await send(`${defaults.url}?api_key=${key}&query=${encodeURIComponent(GUARDED)}`, { headers: [["apollo-require-preflight", "1"]] }).then(parse));
      missing(await defaults.query(GUARDED, [["cookie", `mia_client_key=${key}`]]));
      missing(await defaults.query(GUARDED, [["secret", key]]));
      missing(await postGraphQL(defaults.url, { query: GUARDED, extensions: { apiKey: key } }));
    });
  });

  describe("switched on", () => {
    it("a query parameter (GET)", async () => {
      const res = await send(`${withSources.url}?query=${encodeURIComponent(GUARDED)}&api_key=${secret}`, {
        headers: [["apollo-require-preflight", "1"]],
      });
      ok(parse(res));
    });

    it("a query parameter (POST to a URL carrying it)", async () => {
      ok(await postGraphQL(`${withSources.url}?api_key=${secret}`, { query: GUARDED }));
    });

    it("a cookie, among others", async () => {
      ok(await withSources.query(GUARDED, [["cookie", `theme=dark; mia_client_key=${secret}; lang=en`]]));
    });

    it.each(["secret", "client-key", "Client-Key"])("extra header %s", async (name) => {
      ok(await withSources.query(GUARDED, [[name, secret]]));
    });

    it("extensions.apiKey in the body", async () => {
      ok(await postGraphQL(withSources.url, { query: GUARDED, extensions: { apiKey: secret } }));
    });

    it("the same key through several sources is one key", async () => {
      ok(
        await postGraphQL(`${withSources.url}?api_key=${secret}`, { query: GUARDED, extensions: { apiKey: secret } }, [
          ["x-api-key", secret],
          ["cookie", `mia_client_key=${secret}`],
          ["secret", secret],
        ]),
      );
    });

    it.each([
      ["header and query parameter", (a: string, b: string) => postGraphQL(`${withSources.url}?api_key=${b}`, { query: GUARDED }, [["x-api-key", a]])],
      ["header and cookie", (a: string, b: string) => postGraphQL(withSources.url, { query: GUARDED }, [["x-api-key", a], ["cookie", `mia_client_key=${b}`]])],
      ["two extra headers", (a: string, b: string) => postGraphQL(withSources.url, { query: GUARDED }, [["secret", a], ["client-key", b]])],
      ["header and extensions", (a: string, b: string) => postGraphQL(withSources.url, { query: GUARDED, extensions: { apiKey: b } }, [["x-api-key", a]])],
    ])("two different keys (%s): AMBIGUOUS_KEY", async (_, request) => {
      rejected(await request(secret, other), "AMBIGUOUS_KEY");
    });

    it.each([
      ["query parameter", () => postGraphQL(`${withSources.url}?api_key=${secret}&api_key=${secret}`, { query: GUARDED })],
      ["cookie", () => postGraphQL(withSources.url, { query: GUARDED }, [["cookie", `mia_client_key=${secret}; mia_client_key=${secret}`]])],
      ["extra header", () => postGraphQL(withSources.url, { query: GUARDED }, [["secret", secret], ["secret", secret]])],
    ])("a repeated %s: AMBIGUOUS_KEY", async (_, request) => {
      rejected(await request(), "AMBIGUOUS_KEY");
    });

    it.each([
      ["query parameter", () => postGraphQL(`${withSources.url}?api_key=`, { query: GUARDED })],
      ["cookie", () => postGraphQL(withSources.url, { query: GUARDED }, [["cookie", "mia_client_key="]])],
      ["extra header", () => postGraphQL(withSources.url, { query: GUARDED }, [["client-key", ""]])],
      ["extensions (not a string)", () => postGraphQL(withSources.url, { query: GUARDED, extensions: { apiKey: 42 } })],
    ])("an empty %s: KEY_MALFORMED", async (_, request) => {
      rejected(await request(), "KEY_MALFORMED");
    });

    it("GraphQL variables are never a key source", async () => {
      const res = await postGraphQL(withSources.url, {
        query: "query ($apiKey: String!) { inventory { quantity } search(text: $apiKey) { __typename } }",
        variables: { apiKey: secret, api_key: secret, key: secret },
      });
      expect(res.status).toBe(200);
      expect(res.json.data).toEqual({ inventory: null, search: [] });
      expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_MISSING" });
    });
  });
});

function parse(res: { status: number; text: string }) {
  return { status: res.status, json: JSON.parse(res.text) };
}
