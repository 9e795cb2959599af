import { describe, expect, it } from "vitest";
import type { KeySources } from "../../src/config.ts";
import { cookieValues, readPresentedKey, type KeyCarrier, type PresentedKey } from "../../src/http/read-key.ts";

const KEY = "ks_0123456789abcdefghijABCDEFGHIJ00abcd";
const OTHER = "ks_ZYXWVUTSRQPONMLKJIHGFEDCBAzyxw00wxyz";

/** Only the sources that are on by default (X-API-Key, Authorization). */
const defaults: KeySources = { queryParam: undefined, cookie: undefined, headers: [], extensions: false };
/** Every opt-in source switched on. */
const all: KeySources = { queryParam: "api_key", cookie: "mia_client_key", headers: ["secret", "client-key"], extensions: true };

function request(parts: Partial<KeyCarrier>): KeyCarrier {
  return { rawHeaders: [], search: "", body: undefined, ...parts };
}

function read(parts: Partial<KeyCarrier>, sources: KeySources = defaults): PresentedKey {
  return readPresentedKey(request(parts), sources);
}

const none: PresentedKey = { kind: "none" };
const key = (value: string): PresentedKey => ({ kind: "key", key: value });
const ambiguous: PresentedKey = { kind: "rejected", reason: "AMBIGUOUS_KEY" };
const malformed: PresentedKey = { kind: "rejected", reason: "KEY_MALFORMED" };

describe("readPresentedKey: the default sources", () => {
  it("finds nothing in a request without a key", () => {
    expect(read({})).toEqual(none);
    expect(read({ rawHeaders: ["Host", "localhost", "Content-Type", "application/json"] }, all)).toEqual(none);
  });

  it.each(["X-API-Key", "x-api-key", "X-Api-Key", "X-API-KEY"])("reads header %s", (name) => {
    expect(read({ rawHeaders: ["Host", "localhost", name, KEY] })).toEqual(key(KEY));
  });

  it("trims blanks around the X-API-Key value", () => {
    expect(read({ rawHeaders: ["X-API-Key", `  ${KEY}\t`] })).toEqual(key(KEY));
  });

  it.each(["ApiKey", "apikey", "APIKEY", "Api-Key", "api-key", "API-KEY", "Bearer", "bearer", "BEARER", "bEaReR"])(
    "reads Authorization with scheme %s",
    (scheme) => {
      expect(read({ rawHeaders: ["Authorization", `${scheme} ${KEY}`] })).toEqual(key(KEY));
      expect(read({ rawHeaders: ["authorization", `${scheme} ${KEY}`] })).toEqual(key(KEY));
    },
  );

  it("tolerates extra blanks around the Authorization scheme and key", () => {
    expect(read({ rawHeaders: ["Authorization", `  Bearer   ${KEY}  `] })).toEqual(key(KEY));
  });

  it.each([`Basic ${KEY}`, "Basic dXNlcjpwYXNz", `Digest ${KEY}`, `Token ${KEY}`, `ApiKeys ${KEY}`, `Bearer-${KEY}`, KEY])(
    "ignores Authorization %j: not one of our schemes",
    (value) => {
      expect(read({ rawHeaders: ["Authorization", value] })).toEqual(none);
    },
  );

  it("reads X-API-Key even when Authorization carries another scheme", () => {
    expect(read({ rawHeaders: ["Authorization", "Basic dXNlcjpwYXNz", "X-API-Key", KEY] })).toEqual(key(KEY));
  });

  it("does not read headers that only look like key headers", () => {
    expect(read({ rawHeaders: ["X-API-Key-Extra", KEY, "Api-Key", KEY, "X-Authorization", `Bearer ${KEY}`] })).toEqual(none);
  });
});

describe("readPresentedKey: opt-in sources", () => {
  it("reads the query parameter only when switched on", () => {
    const search = `?a=b&api_key=${KEY}`;
    expect(read({ search })).toEqual(none);
    expect(read({ search }, { ...defaults, queryParam: "api_key" })).toEqual(key(KEY));
    expect(read({ search }, { ...defaults, queryParam: "other" })).toEqual(none);
  });

  it("decodes a percent-encoded query value", () => {
    expect(read({ search: "?api_key=abc%2Fdef%3D" }, all)).toEqual(key("abc/def="));
  });

  it("reads the cookie only when switched on", () => {
    const rawHeaders = ["Cookie", `mia_client_key=${KEY}`];
    expect(read({ rawHeaders })).toEqual(none);
    expect(read({ rawHeaders }, { ...defaults, cookie: "mia_client_key" })).toEqual(key(KEY));
    expect(read({ rawHeaders }, { ...defaults, cookie: "other" })).toEqual(none);
  });

  it("finds the cookie among several in one header, with any header-name case", () => {
    const sources = { ...defaults, cookie: "mia_client_key" };
    expect(read({ rawHeaders: ["cookie", `theme=dark; mia_client_key=${KEY}; session=xyz`] }, sources)).toEqual(key(KEY));
    expect(read({ rawHeaders: ["COOKIE", `a=1;mia_client_key=${KEY};b=2`] }, sources)).toEqual(key(KEY));
  });

  it("finds the cookie across several Cookie headers (as HTTP/2 sends them)", () => {
    const sources = { ...defaults, cookie: "mia_client_key" };
    expect(read({ rawHeaders: ["Cookie", "theme=dark", "Cookie", `mia_client_key=${KEY}`] }, sources)).toEqual(key(KEY));
  });

  it("unquotes and decodes a cookie value", () => {
    const sources = { ...defaults, cookie: "mia_client_key" };
    expect(read({ rawHeaders: ["Cookie", `mia_client_key="${KEY}"`] }, sources)).toEqual(key(KEY));
    expect(read({ rawHeaders: ["Cookie", "mia_client_key=abc%2Fdef"] }, sources)).toEqual(key("abc/def"));
    // Not valid percent-encoding: kept as it came.
    expect(read({ rawHeaders: ["Cookie", "mia_client_key=abc%zz"] }, sources)).toEqual(key("abc%zz"));
  });

  it("matches the cookie name exactly, not as a prefix or suffix", () => {
    const sources = { ...defaults, cookie: "mia_client_key" };
    expect(read({ rawHeaders: ["Cookie", `xmia_client_key=${KEY}; mia_client_key2=${KEY}; mia_client=${KEY}`] }, sources)).toEqual(none);
  });

  it("reads extra header names, in any case, only when configured", () => {
    expect(read({ rawHeaders: ["Secret", KEY] })).toEqual(none);
    expect(read({ rawHeaders: ["Client-Key", KEY] })).toEqual(none);
    const sources = { ...defaults, headers: ["secret", "client-key"] };
    expect(read({ rawHeaders: ["Secret", KEY] }, sources)).toEqual(key(KEY));
    expect(read({ rawHeaders: ["CLIENT-KEY", KEY] }, sources)).toEqual(key(KEY));
    expect(read({ rawHeaders: ["client-key", ` ${KEY} `] }, sources)).toEqual(key(KEY));
  });

  it("reads extensions.apiKey only when switched on", () => {
    const body = { query: "{ a }", extensions: { apiKey: KEY } };
    expect(read({ body })).toEqual(none);
    expect(read({ body }, { ...defaults, extensions: true })).toEqual(key(KEY));
  });

  it("ignores bodies without extensions.apiKey", () => {
    const sources = { ...defaults, extensions: true };
    for (const body of [undefined, null, "text", 42, [], [{ extensions: { apiKey: KEY } }], { query: "{ a }" }, { extensions: null }, { extensions: "x" }, { extensions: {} }, { extensions: { apiKey: null } }]) {
      expect(read({ body }, sources)).toEqual(none);
    }
  });

  it("never reads GraphQL variables", () => {
    const body = { query: "query ($apiKey: String) { a }", variables: { apiKey: KEY, api_key: KEY, key: KEY }, extensions: {} };
    expect(read({ body }, all)).toEqual(none);
    expect(read({ body: { variables: { extensions: { apiKey: KEY } } } }, all)).toEqual(none);
  });
});

describe("readPresentedKey: one key, or a rejection", () => {
  it("accepts the same key sent through several sources", () => {
    const rawHeaders = ["X-API-Key", KEY, "Authorization", `Bearer ${KEY}`, "Secret", KEY, "Cookie", `mia_client_key=${KEY}`];
    expect(read({ rawHeaders, search: `?api_key=${KEY}`, body: { extensions: { apiKey: KEY } } }, all)).toEqual(key(KEY));
  });

  it.each<[string, Partial<KeyCarrier>]>([
    ["X-API-Key vs Authorization", { rawHeaders: ["X-API-Key", KEY, "Authorization", `ApiKey ${OTHER}`] }],
    ["X-API-Key vs extra header", { rawHeaders: ["X-API-Key", KEY, "client-key", OTHER] }],
    ["two extra headers", { rawHeaders: ["secret", KEY, "client-key", OTHER] }],
    ["header vs query", { rawHeaders: ["X-API-Key", KEY], search: `?api_key=${OTHER}` }],
    ["header vs cookie", { rawHeaders: ["X-API-Key", KEY, "Cookie", `mia_client_key=${OTHER}`] }],
    ["header vs extensions", { rawHeaders: ["Authorization", `Bearer ${KEY}`], body: { extensions: { apiKey: OTHER } } }],
    ["query vs extensions", { search: `?api_key=${KEY}`, body: { extensions: { apiKey: OTHER } } }],
    ["cookie vs query", { rawHeaders: ["Cookie", `mia_client_key=${KEY}`], search: `?api_key=${OTHER}` }],
  ])("rejects two different keys: %s", (_, parts) => {
    expect(read(parts, all)).toEqual(ambiguous);
  });

  it.each([
    ["X-API-Key", KEY, "X-API-Key", KEY],
    ["X-API-Key", KEY, "x-api-key", OTHER],
    ["Authorization", `Bearer ${KEY}`, "authorization", `ApiKey ${KEY}`],
    ["Authorization", `Bearer ${KEY}`, "Authorization", `Bearer ${OTHER}`],
    ["Secret", KEY, "secret", KEY],
  ])("rejects a repeated key header: %s then %s", (...rawHeaders) => {
    expect(read({ rawHeaders }, all)).toEqual(ambiguous);
  });

  it("does not count a second Authorization header of a foreign scheme as a repeat", () => {
    expect(read({ rawHeaders: ["Authorization", "Basic dXNlcjpwYXNz", "Authorization", `Bearer ${KEY}`] })).toEqual(key(KEY));
  });

  it("rejects a repeated query parameter, even with the same value", () => {
    expect(read({ search: `?api_key=${KEY}&api_key=${KEY}` }, all)).toEqual(ambiguous);
    expect(read({ search: `?api_key=${KEY}&api_key=${OTHER}` }, all)).toEqual(ambiguous);
  });

  it("rejects a repeated cookie, in one header or across two", () => {
    expect(read({ rawHeaders: ["Cookie", `mia_client_key=${KEY}; mia_client_key=${KEY}`] }, all)).toEqual(ambiguous);
    expect(read({ rawHeaders: ["Cookie", `mia_client_key=${KEY}`, "Cookie", `mia_client_key=${OTHER}`] }, all)).toEqual(ambiguous);
  });

  it("ignores the repeats of a source that is switched off", () => {
    expect(read({ search: `?api_key=${KEY}&api_key=${OTHER}`, rawHeaders: ["X-API-Key", KEY] })).toEqual(key(KEY));
    expect(read({ rawHeaders: ["Cookie", `mia_client_key=${KEY}; mia_client_key=${OTHER}`, "X-API-Key", KEY] })).toEqual(key(KEY));
    expect(read({ rawHeaders: ["Secret", OTHER, "Secret", KEY, "X-API-Key", KEY] })).toEqual(key(KEY));
  });

  it("ignores a different key in a source that is switched off", () => {
    const parts: Partial<KeyCarrier> = {
      rawHeaders: ["X-API-Key", KEY, "Secret", OTHER, "Cookie", `mia_client_key=${OTHER}`],
      search: `?api_key=${OTHER}`,
      body: { extensions: { apiKey: OTHER } },
    };
    expect(read(parts)).toEqual(key(KEY));
  });
});

describe("readPresentedKey: malformed keys", () => {
  it.each<[string, Partial<KeyCarrier>]>([
    ["an empty X-API-Key", { rawHeaders: ["X-API-Key", ""] }],
    ["a blank X-API-Key", { rawHeaders: ["X-API-Key", "   "] }],
    ["a name without a value", { rawHeaders: ["X-API-Key"] }],
    ["Bearer with no key", { rawHeaders: ["Authorization", "Bearer"] }],
    ["Bearer and blanks", { rawHeaders: ["Authorization", "Bearer    "] }],
    ["ApiKey with no key", { rawHeaders: ["Authorization", "ApiKey"] }],
    ["an empty extra header", { rawHeaders: ["client-key", ""] }],
    ["an empty query value", { search: "?api_key=" }],
    ["a query parameter without a value", { search: "?a=b&api_key" }],
    ["an empty cookie", { rawHeaders: ["Cookie", "mia_client_key="] }],
    ["an empty quoted cookie", { rawHeaders: ["Cookie", 'mia_client_key=""'] }],
    ["an empty extensions.apiKey", { body: { extensions: { apiKey: "" } } }],
    ["a numeric extensions.apiKey", { body: { extensions: { apiKey: 12345 } } }],
    ["an object extensions.apiKey", { body: { extensions: { apiKey: { value: KEY } } } }],
    ["an array extensions.apiKey", { body: { extensions: { apiKey: [KEY] } } }],
    ["a boolean extensions.apiKey", { body: { extensions: { apiKey: true } } }],
  ])("rejects %s as KEY_MALFORMED", (_, parts) => {
    expect(read(parts, all)).toEqual(malformed);
  });
});

describe("cookieValues", () => {
  it("returns every value of the named cookie, unquoted and decoded", () => {
    expect(cookieValues(`a=1; k="x%20y"; b=2; k=z`, "k")).toEqual(["x y", "z"]);
    expect(cookieValues("a=1; b=2", "k")).toEqual([]);
    expect(cookieValues("k", "k")).toEqual([]);
    expect(cookieValues("k==v=", "k")).toEqual(["=v="]);
  });
});
