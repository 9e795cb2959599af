// Hidden credentials (as Kong's hide_credentials): once Keyscope has read the key, Apollo, your
// plugins and your context function see the request without it, from every source switched on,
// while the key still authenticates. With hideCredentials off they see it (so the test can fail).
import type { ApolloServerPlugin, GraphQLRequestContext } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyscopeContext } from "../../src/auth/context.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL, send, type HttpResponse } from "../helpers/http.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let cases = 0;
/** A guarded query, different each time: Apollo skips parsing and validation for documents it knows. */
const guarded = () => `{ inventory { quantity } } # ${++cases}`;
const allSources = { queryParam: "api_key", cookie: "mia_client_key", headers: ["secret", "client-key"], extensions: true };

/** What one hook saw of the request. */
interface View {
  hook: string;
  headers: [string, string][];
  search: string | undefined;
  extensions: unknown;
  body: unknown;
}

/** A plugin that records, at every request hook, what the request looks like to it. */
function recordingPlugin(views: View[]): ApolloServerPlugin<KeyscopeContext> {
  const see = (hook: string, rc: GraphQLRequestContext<KeyscopeContext>) =>
    views.push({
      hook,
      headers: [...(rc.request.http?.headers ?? [])],
      search: rc.request.http?.search,
      extensions: structuredClone(rc.request.extensions),
      body: structuredClone(rc.request.http?.body),
    });
  return {
    async requestDidStart(rc) {
      see("requestDidStart", rc);
      return {
        didResolveSource: async (c) => void see("didResolveSource", c),
        parsingDidStart: async (c) => void see("parsingDidStart", c),
        validationDidStart: async (c) => void see("validationDidStart", c),
        didResolveOperation: async (c) => void see("didResolveOperation", c),
        responseForOperation: async (c) => (see("responseForOperation", c), null),
        executionDidStart: async (c) => void see("executionDidStart", c),
        didEncounterErrors: async (c) => void see("didEncounterErrors", c),
        willSendResponse: async (c) => void see("willSendResponse", c),
      };
    },
  };
}

/** Each source, the request that carries the key in it, and what else must still be visible. */
const sources: [string, (url: string, key: string) => Promise<HttpResponse>, (view: View) => void][] = [
  ["X-API-Key", (url, key) => postGraphQL(url, { query: guarded() }, [["x-api-key", key], ["x-trace", "t1"]]), keepsHeader("x-trace", "t1")],
  ["Authorization: Bearer", (url, key) => postGraphQL(url, { query: guarded() }, [["authorization", `Bearer ${key}`], ["x-trace", "t1"]]), keepsHeader("x-trace", "t1")],
  ["Authorization: ApiKey", (url, key) => postGraphQL(url, { query: guarded() }, [["Authorization", `apikey ${key}`]]), lacksHeader("authorization")],
  ["the extra header secret", (url, key) => postGraphQL(url, { query: guarded() }, [["Secret", key], ["x-trace", "t1"]]), keepsHeader("x-trace", "t1")],
  ["the extra header client-key", (url, key) => postGraphQL(url, { query: guarded() }, [["client-key", key]]), lacksHeader("client-key")],
  [
    "the cookie, among others",
    (url, key) => postGraphQL(url, { query: guarded() }, [["cookie", `theme=dark; mia_client_key=${key}; lang=en`]]),
    keepsHeader("cookie", "theme=dark; lang=en"),
  ],
  ["the cookie alone", (url, key) => postGraphQL(url, { query: guarded() }, [["cookie", `mia_client_key=${key}`]]), lacksHeader("cookie")],
  [
    "the query parameter (GET)",
    (url, key) => send(`${url}?query=${encodeURIComponent("{ inventory { quantity } }")}&api_key=${key}&lang=en`, { headers: [["apollo-require-preflight", "1"]] }),
    (view) => expect(view.search).toBe(`?query=${encodeURIComponent("{ inventory { quantity } }")}&lang=en`),
  ],
  ["the query parameter (POST)", (url, key) => postGraphQL(`${url}?api_key=${key}`, { query: guarded() }), (view) => expect(view.search).toBe("")],
  [
    "extensions.apiKey",
    (url, key) => postGraphQL(url, { query: guarded(), extensions: { apiKey: key, trace: true } }),
    (view) => expect(view.extensions).toEqual({ trace: true }),
  ],
];

function keepsHeader(name: string, value: string) {
  return (view: View) => expect(view.headers).toContainEqual([name, value]);
}
function lacksHeader(name: string) {
  return (view: View) => expect(view.headers.map(([n]) => n)).not.toContain(name);
}

describe.each(databaseKinds)("hidden credentials on %s", (kind) => {
  const views: View[] = [];
  /** What your context function was handed. */
  const contexts: unknown[] = [];
  const openViews: View[] = [];
  let hidden: TestServer;
  let shown: TestServer;
  beforeAll(async () => {
    [hidden, shown] = await Promise.all([
      startServer(kind, {
        keySources: allSources,
        plugins: [recordingPlugin(views)],
        context: ({ request }) => (contexts.push(structuredClone({ ...request, connection: undefined })), {}),
      }),
      startServer(kind, { keySources: allSources, hideCredentials: false, plugins: [recordingPlugin(openViews)] }),
    ]);
  });
  afterAll(async () => {
    await hidden?.close();
    await shown?.close();
  });

  it.each(sources)("a key in %s authenticates, and no hook nor the context function sees it", async (_, sendKey, othersStay) => {
    const { secret } = await hidden.issueKey();
    views.length = 0;
    contexts.length = 0;
    const res = await sendKey(hidden.url, secret);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: { inventory: [{ quantity: 12 }, { quantity: 40 }, { quantity: 0 }] } });
    // Every hook ran that a successful operation runs, and none saw the key.
    expect(new Set(views.map((v) => v.hook))).toEqual(
      new Set(["requestDidStart", "didResolveSource", "parsingDidStart", "validationDidStart", "didResolveOperation", "responseForOperation", "executionDidStart", "willSendResponse"]),
    );
    expect(JSON.stringify(views)).not.toContain(secret);
    for (const view of views) othersStay(view);
    expect(contexts).toHaveLength(1);
    expect(JSON.stringify(contexts)).not.toContain(secret);
  });

  it.each(sources)("with hideCredentials off, plugins see the key in %s (what the switch changes)", async (_, sendKey) => {
    const { secret } = await shown.issueKey();
    openViews.length = 0;
    expect((await sendKey(shown.url, secret)).status).toBe(200);
    expect(JSON.stringify(openViews)).toContain(secret);
  });

  it("a refused key (two different ones, or a malformed one) is not shown to any hook either", async () => {
    const { secret } = await hidden.issueKey();
    const other = (await hidden.issueKey()).secret;
    views.length = 0;
    const ambiguous = await postGraphQL(hidden.url, { query: guarded() }, [["x-api-key", secret], ["secret", other]]);
    expect(ambiguous.status).toBe(401);
    const malformed = await postGraphQL(`${hidden.url}?api_key=${secret.slice(0, -2)}`, { query: guarded() });
    expect(malformed.status).toBe(401);
    const seen = JSON.stringify(views);
    for (const value of [secret, other, secret.slice(0, -2)]) expect(seen).not.toContain(value);
  });

  it("a request without a key reaches the hooks as it was sent", async () => {
    views.length = 0;
    const res = await postGraphQL(`${hidden.url}?lang=en`, { query: "{ products { id } }", extensions: { trace: true } }, [["cookie", "theme=dark"], ["authorization", "Basic dXNlcjpwYXNz"]]);
    expect(res.status).toBe(200);
    expect(res.json.data.products.length).toBeGreaterThan(0);
    expect(views.length).toBeGreaterThan(3);
    for (const view of views) {
      expect(view.search).toBe("?lang=en");
      expect(view.extensions).toEqual({ trace: true });
      expect(view.headers).toContainEqual(["cookie", "theme=dark"]);
      expect(view.headers).toContainEqual(["authorization", "Basic dXNlcjpwYXNz"]);
    }
  });
});
