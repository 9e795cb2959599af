// The key reader at the door: the presented key, and the request without it (what Apollo and its
// plugins may be handed). Examples first, then a property over generated requests.
import type { IncomingHttpHeaders } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeySources } from "../../src/config.ts";
import { readKeyAtDoor, readPresentedKey, withoutKey, type VisibleRequest } from "../../src/http/read-key.ts";

const KEY = "ks_0123456789abcdefghijABCDEFGHIJ00abcd";
const defaults: KeySources = { queryParam: undefined, cookie: undefined, headers: [], extensions: false };
const all: KeySources = { queryParam: "api_key", cookie: "mia_client_key", headers: ["secret", "client-key"], extensions: true };

/** Node's `req.headers` for raw headers: lower-case names, repeats joined (cookies with "; "). */
function headersOf(rawHeaders: string[]): IncomingHttpHeaders {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return headers;
}

/** The raw headers a scrubbed request would arrive with, to read it again. */
function rawOf(headers: IncomingHttpHeaders): string[] {
  return Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [value].flat().flatMap((v) => [name, v])));
}

function request(rawHeaders: string[], search = "", body: unknown = undefined) {
  return { rawHeaders, headers: headersOf(rawHeaders), search, body };
}

describe("readKeyAtDoor", () => {
  it("returns the presented key and the request without it", () => {
    const req = request(
      ["Host", "localhost", "X-API-Key", KEY, "Content-Type", "application/json", "Cookie", `theme=dark; mia_client_key=${KEY}; lang=en`],
      `?a=1&api_key=${KEY}&b=2`,
      { query: "{ x }", variables: { v: 1 }, extensions: { apiKey: KEY, persistedQuery: { version: 1 } } },
    );
    expect(readKeyAtDoor(req, all)).toEqual({
      presented: { kind: "key", key: KEY },
      withoutKey: {
        headers: { host: "localhost", "content-type": "application/json", cookie: "theme=dark; lang=en" },
        search: "?a=1&b=2",
        body: { query: "{ x }", variables: { v: 1 }, extensions: { persistedQuery: { version: 1 } } },
      },
    });
  });

  it("leaves a request without a key as it is, and does not change the one it was given", () => {
    const req = request(["Host", "localhost", "Authorization", "Basic dXNlcjpwYXNz", "Cookie", "theme=dark"], "?a=1", { query: "{ x }" });
    const before = structuredClone(req);
    const { presented, withoutKey: rest } = readKeyAtDoor(req, all);
    expect(presented).toEqual({ kind: "none" });
    expect(rest).toEqual({ headers: req.headers, search: "?a=1", body: { query: "{ x }" } });
    expect(req).toEqual(before);
  });

  it("removes every key header: X-API-Key, Authorization with a key scheme, extra headers; other schemes stay", () => {
    const req = request(["X-API-Key", KEY, "secret", KEY, "Client-Key", KEY, "Authorization", `Bearer ${KEY}`, "Accept", "*/*"]);
    expect(withoutKey(req, all).headers).toEqual({ accept: "*/*" });
    expect(withoutKey(request(["Authorization", "Basic abc"]), all).headers).toEqual({ authorization: "Basic abc" });
    // An empty key header is a (malformed) key: it goes too.
    expect(withoutKey(request(["Authorization", "Bearer"]), defaults).headers).toEqual({});
  });

  it("removes only the sources that are switched on: others are not keys to Keyscope", () => {
    const req = request(["secret", KEY, "Cookie", `mia_client_key=${KEY}`], `?api_key=${KEY}`, { extensions: { apiKey: KEY } });
    expect(withoutKey(req, defaults)).toEqual({ headers: { secret: KEY, cookie: `mia_client_key=${KEY}` }, search: `?api_key=${KEY}`, body: req.body });
  });

  it("drops a Cookie header that held only the key, and a query string that held only the key", () => {
    expect(withoutKey(request(["Cookie", `mia_client_key=${KEY}`], `?api_key=${KEY}`), all)).toEqual({ headers: {}, search: "", body: undefined });
  });

  it("removes the key parameter however it is encoded, and every repeat of it", () => {
    expect(withoutKey(request([], `?api%5Fkey=${KEY}&x=%20y&api_key=2`), all).search).toBe("?x=%20y");
  });
});

describe("the request without the key, over generated requests", () => {
  const name = fc.constantFrom("X-API-Key", "x-api-key", "Authorization", "secret", "client-key", "Cookie", "Accept", "X-Trace", "Host");
  const value = fc.oneof(
    fc.constant(KEY),
    fc.constantFrom(`Bearer ${KEY}`, `ApiKey ${KEY}`, "Basic abc", "", `mia_client_key=${KEY}`, `a=1; mia_client_key=${KEY}`, "a=1"),
    fc.stringMatching(/^[ -~]{0,20}$/),
  );
  const rawHeaders = fc.array(fc.tuple(name, value), { maxLength: 8 }).map((pairs) => pairs.flat());
  const search = fc
    .array(fc.tuple(fc.constantFrom("api_key", "api%5Fkey", "a", "b"), fc.stringMatching(/^[A-Za-z0-9%]{0,8}$/)), { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`));
  const body = fc.option(fc.record({ query: fc.constant("{ x }"), extensions: fc.option(fc.record({ apiKey: fc.option(fc.constant(KEY)), other: fc.boolean() })) }));
  const sources = fc.constantFrom(defaults, all);

  it("never presents a key, whatever the request presented, and keeps everything else", () => {
    fc.assert(
      fc.property(rawHeaders, search, body, sources, (raw, query, payload, keySources) => {
        const req = request(raw, query, payload ?? undefined);
        const rest: VisibleRequest = withoutKey(req, keySources);
        expect(readPresentedKey({ rawHeaders: rawOf(rest.headers), search: rest.search, body: rest.body }, keySources)).toEqual({ kind: "none" });
        // Headers that are no key source pass untouched.
        for (const header of ["accept", "x-trace", "host"]) expect(rest.headers[header]).toBe(req.headers[header]);
        // Parameters other than the key's keep their order and spelling.
        const others = (s: string) => s.slice(1).split("&").filter((p) => p !== "" && !(keySources.queryParam && new URLSearchParams(p).has(keySources.queryParam)));
        expect(others(rest.search)).toEqual(others(query));
        expect((rest.body as { query?: string } | undefined)?.query).toBe(payload?.query);
      }),
      { numRuns: 500 },
    );
  });

  it("copies nothing when no key was presented: what withoutKey would leave is the request itself", () => {
    fc.assert(
      fc.property(rawHeaders, search, body, sources, (raw, query, payload, keySources) => {
        const req = request(raw, query, payload ?? undefined);
        const door = readKeyAtDoor(req, keySources);
        if (door.presented.kind !== "none") return;
        expect(door.withoutKey.headers).toBe(req.headers);
        expect(door.withoutKey.body).toBe(req.body);
        expect(door.withoutKey.search).toBe(req.search);
      }),
      { numRuns: 500 },
    );
  });
});
