import { describe, expect, it } from "vitest";
import {
  ConfigError,
  defaultConfig,
  envVariables,
  loadConfig,
  resolveConfig,
  type EnvVariable,
  type KeyscopeConfig,
} from "../../src/config.ts";

const SECRET = "0123456789abcdef0123456789abcdef"; // 32 characters: the shortest allowed

const defaults: KeyscopeConfig = {
  production: false,
  port: 4000,
  host: undefined,
  databaseUrl: undefined,
  dataDir: "./data",
  redisUrl: undefined,
  hashSecret: undefined,
  keyPrefix: "ks",
  logLevel: "info",
  keySources: { queryParam: undefined, cookie: undefined, headers: [], extensions: false },
  cache: { ttlSeconds: 30, maxEntries: 10_000 },
  limits: {
    maxBodyBytes: 102_400, maxDepth: 12, maxAliases: 15, maxTokens: 1000, maxCost: 5000, maxKeysPerUser: 100,
    rateLimit: { limit: 1000, windowSeconds: 60 },
    failedAuth: { limit: 20, windowSeconds: 60 },
  },
  trustProxyHops: 0,
  trustedProxies: [],
  hideCredentials: true,
  http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000, maxConnections: 10_000 },
  databaseTimeouts: { connectMs: 3000, statementMs: 5000 },
  usageFlushSeconds: 5,
  introspection: true,
  metricsEnabled: true,
  metricsPort: undefined,
  console: true,
  executor: "graphql-js",
};

/** The error loadConfig throws for this environment (fails the test if it throws none). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

function expectDeeplyFrozen(value: unknown, path = "config"): void {
  if (!value || typeof value !== "object") return;
  expect(Object.isFrozen(value), path).toBe(true);
  for (const [name, inner] of Object.entries(value)) expectDeeplyFrozen(inner, `${path}.${name}`);
}

describe("loadConfig: defaults", () => {
  it("gives the documented defaults for an empty environment", () => {
    expect(loadConfig({})).toStrictEqual(defaults);
  });

  it("agrees with the exported defaultConfig", () => {
    expect(loadConfig({})).toStrictEqual(defaultConfig);
  });

  it("treats empty variables as unset", () => {
    const env = Object.fromEntries(envVariables.map((name) => [name, ""]));
    expect(loadConfig(env)).toStrictEqual(defaults);
  });

  it("ignores variables it does not know", () => {
    expect(loadConfig({ PATH: "/usr/bin", KEYSCOPE_UNKNOWN: "x", port: "1" })).toStrictEqual(defaults);
  });
});

describe("loadConfig: every variable", () => {
  it("reads all of them into their places", () => {
    const env = {
      NODE_ENV: "production",
      PORT: "8080",
      HOST: "127.0.0.1",
      DATABASE_URL: "postgres://keyscope:pw@db.internal:5432/keyscope",
      KEYSCOPE_DATA_DIR: "/var/lib/keyscope",
      REDIS_URL: "redis://cache.internal:6379/0",
      KEYSCOPE_HASH_SECRET: SECRET,
      KEYSCOPE_KEY_PREFIX: "acme2",
      LOG_LEVEL: "debug",
      KEYSCOPE_KEY_QUERY_PARAM: "api_key",
      KEYSCOPE_KEY_COOKIE: "mia_client_key",
      KEYSCOPE_KEY_HEADERS: " Secret ,Client-Key,x-token",
      KEYSCOPE_KEY_IN_EXTENSIONS: "true",
      KEYSCOPE_CACHE_TTL_SECONDS: "60",
      KEYSCOPE_CACHE_MAX_ENTRIES: "500",
      KEYSCOPE_MAX_KEYS_PER_USER: "7",
      KEYSCOPE_INTROSPECTION: "true",
      KEYSCOPE_MAX_BODY_BYTES: "2048",
      KEYSCOPE_MAX_DEPTH: "5",
      KEYSCOPE_MAX_ALIASES: "3",
      KEYSCOPE_MAX_TOKENS: "200",
      KEYSCOPE_MAX_QUERY_COST: "900",
      KEYSCOPE_RATE_LIMIT_REQUESTS: "50",
      KEYSCOPE_RATE_LIMIT_WINDOW_SECONDS: "10",
      KEYSCOPE_FAILED_AUTH_LIMIT: "5",
      KEYSCOPE_FAILED_AUTH_WINDOW_SECONDS: "300",
      KEYSCOPE_TRUST_PROXY_HOPS: "1",
      KEYSCOPE_TRUSTED_PROXIES: "10.0.0.0/8, fd00::/8,loopback",
      KEYSCOPE_HIDE_CREDENTIALS: "false",
      KEYSCOPE_HEADERS_TIMEOUT_MS: "2000",
      KEYSCOPE_REQUEST_TIMEOUT_MS: "15000",
      KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS: "1000",
      KEYSCOPE_MAX_CONNECTIONS: "300",
      KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS: "1500",
      KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS: "2500",
      KEYSCOPE_USAGE_FLUSH_SECONDS: "2",
      KEYSCOPE_METRICS: "false",
      KEYSCOPE_METRICS_PORT: "9464",
      KEYSCOPE_CONSOLE: "false",
      KEYSCOPE_EXECUTOR: "graphql-jit",
    };
    expect(loadConfig(env)).toStrictEqual({
      production: true,
      port: 8080,
      host: "127.0.0.1",
      databaseUrl: "postgres://keyscope:pw@db.internal:5432/keyscope",
      dataDir: "/var/lib/keyscope",
      redisUrl: "redis://cache.internal:6379/0",
      hashSecret: SECRET,
      keyPrefix: "acme2",
      logLevel: "debug",
      keySources: { queryParam: "api_key", cookie: "mia_client_key", headers: ["secret", "client-key", "x-token"], extensions: true },
      cache: { ttlSeconds: 60, maxEntries: 500 },
      limits: {
        maxBodyBytes: 2048, maxDepth: 5, maxAliases: 3, maxTokens: 200, maxCost: 900, maxKeysPerUser: 7,
        rateLimit: { limit: 50, windowSeconds: 10 },
        failedAuth: { limit: 5, windowSeconds: 300 },
      },
      trustProxyHops: 1,
      trustedProxies: ["10.0.0.0/8", "fd00::/8", "loopback"],
      hideCredentials: false,
      http: { headersTimeoutMs: 2000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 1000, maxConnections: 300 },
      databaseTimeouts: { connectMs: 1500, statementMs: 2500 },
      usageFlushSeconds: 2,
      introspection: true,
      metricsEnabled: false,
      metricsPort: 9464,
      console: false,
      executor: "graphql-jit",
    } satisfies KeyscopeConfig);
  });

  it("lists every variable it reads", () => {
    expect(envVariables).toEqual(
      expect.arrayContaining([
        "NODE_ENV", "PORT", "HOST", "DATABASE_URL", "KEYSCOPE_DATA_DIR", "REDIS_URL", "KEYSCOPE_HASH_SECRET",
        "KEYSCOPE_KEY_PREFIX", "LOG_LEVEL", "KEYSCOPE_KEY_QUERY_PARAM", "KEYSCOPE_KEY_COOKIE", "KEYSCOPE_KEY_HEADERS",
        "KEYSCOPE_KEY_IN_EXTENSIONS", "KEYSCOPE_CACHE_TTL_SECONDS", "KEYSCOPE_CACHE_MAX_ENTRIES",
        "KEYSCOPE_MAX_KEYS_PER_USER", "KEYSCOPE_INTROSPECTION", "KEYSCOPE_MAX_BODY_BYTES", "KEYSCOPE_MAX_DEPTH",
        "KEYSCOPE_MAX_ALIASES", "KEYSCOPE_MAX_TOKENS", "KEYSCOPE_TRUST_PROXY_HOPS", "KEYSCOPE_TRUSTED_PROXIES",
        "KEYSCOPE_HIDE_CREDENTIALS", "KEYSCOPE_HEADERS_TIMEOUT_MS", "KEYSCOPE_REQUEST_TIMEOUT_MS",
        "KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS", "KEYSCOPE_MAX_CONNECTIONS", "KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS",
        "KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS", "KEYSCOPE_MAX_QUERY_COST", "KEYSCOPE_CONSOLE",
        "KEYSCOPE_EXECUTOR",
      ]),
    );
    expect(new Set(envVariables).size).toBe(envVariables.length);
  });

  it.each<[string, Record<string, string>, Partial<KeyscopeConfig>]>([
    ["the lowest port", { PORT: "0" }, { port: 0 }],
    ["the highest port", { PORT: "65535" }, { port: 65535 }],
    ["a port with leading zeros", { PORT: "0080" }, { port: 80 }],
    ["a postgresql:// URL", { DATABASE_URL: "postgresql://localhost/keyscope" }, { databaseUrl: "postgresql://localhost/keyscope" }],
    ["a rediss:// URL", { REDIS_URL: "rediss://user:pw@cache:6380" }, { redisUrl: "rediss://user:pw@cache:6380" }],
    ["a one-letter prefix", { KEYSCOPE_KEY_PREFIX: "k" }, { keyPrefix: "k" }],
    ["a 16-character prefix", { KEYSCOPE_KEY_PREFIX: "abcdefghijklmnop" }, { keyPrefix: "abcdefghijklmnop" }],
    ["a long hash secret", { KEYSCOPE_HASH_SECRET: SECRET.repeat(4) }, { hashSecret: SECRET.repeat(4) }],
    ["a data dir with blanks", { KEYSCOPE_DATA_DIR: "./my data" }, { dataDir: "./my data" }],
    ["a host name", { HOST: "localhost" }, { host: "localhost" }],
    ["introspection on in development", { KEYSCOPE_INTROSPECTION: "1" }, { introspection: true }],
    ["introspection off in development", { KEYSCOPE_INTROSPECTION: "false" }, { introspection: false }],
    ["another NODE_ENV", { NODE_ENV: "development" }, { production: false, introspection: true }],
    ["NODE_ENV is case-sensitive", { NODE_ENV: "Production" }, { production: false, introspection: true }],
    ["one trusted proxy", { KEYSCOPE_TRUSTED_PROXIES: "10.1.2.3" }, { trustedProxies: ["10.1.2.3"] }],
    [
      "trusted proxies of every spelling",
      { KEYSCOPE_TRUSTED_PROXIES: " 192.168.0.0/16 ,2001:db8::/32,::ffff:10.0.0.0/104,::1,private, LinkLocal" },
      { trustedProxies: ["192.168.0.0/16", "2001:db8::/32", "::ffff:10.0.0.0/104", "::1", "private", "LinkLocal"] },
    ],
    ["a whole IPv4 space as proxies", { KEYSCOPE_TRUSTED_PROXIES: "0.0.0.0/0" }, { trustedProxies: ["0.0.0.0/0"] }],
    ["hidden credentials off", { KEYSCOPE_HIDE_CREDENTIALS: "0" }, { hideCredentials: false }],
    ["hidden credentials on", { KEYSCOPE_HIDE_CREDENTIALS: "true" }, { hideCredentials: true }],
    [
      "the shortest HTTP timeouts",
      { KEYSCOPE_HEADERS_TIMEOUT_MS: "100", KEYSCOPE_REQUEST_TIMEOUT_MS: "100", KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS: "100" },
      { http: { ...defaults.http, headersTimeoutMs: 100, requestTimeoutMs: 100, keepAliveTimeoutMs: 100 } },
    ],
    ["one connection at most", { KEYSCOPE_MAX_CONNECTIONS: "1" }, { http: { ...defaults.http, maxConnections: 1 } }],
    [
      "the shortest database timeouts",
      { KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS: "100", KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS: "100" },
      { databaseTimeouts: { connectMs: 100, statementMs: 100 } },
    ],
    ["metrics off", { KEYSCOPE_METRICS: "0" }, { metricsEnabled: false }],
    ["metrics on their own port", { KEYSCOPE_METRICS_PORT: "9464" }, { metricsPort: 9464 }],
    ["the console switched off", { KEYSCOPE_CONSOLE: "false" }, { console: false }],
    ["the console switched off with 0", { KEYSCOPE_CONSOLE: "0" }, { console: false }],
    ["the console switched on", { KEYSCOPE_CONSOLE: "true" }, { console: true }],
  ])("accepts %s", (_, env, expected) => {
    expect(loadConfig(env)).toStrictEqual({ ...defaults, ...expected });
  });

  it.each(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const)("accepts LOG_LEVEL=%s", (level) => {
    expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it.each([
    ["true", true],
    ["1", true],
    ["false", false],
    ["0", false],
  ] as const)("reads KEYSCOPE_KEY_IN_EXTENSIONS=%s as %s", (value, expected) => {
    expect(loadConfig({ KEYSCOPE_KEY_IN_EXTENSIONS: value }).keySources).toStrictEqual({ ...defaults.keySources, extensions: expected });
  });

  it("lower-cases and trims KEYSCOPE_KEY_HEADERS", () => {
    expect(loadConfig({ KEYSCOPE_KEY_HEADERS: "SECRET" }).keySources.headers).toEqual(["secret"]);
    expect(loadConfig({ KEYSCOPE_KEY_HEADERS: "Secret,  Client-Key  " }).keySources.headers).toEqual(["secret", "client-key"]);
  });

  it.each<[EnvVariable, string, keyof KeyscopeConfig["cache"] | keyof KeyscopeConfig["limits"], number]>([
    ["KEYSCOPE_CACHE_TTL_SECONDS", "1", "ttlSeconds", 1],
    ["KEYSCOPE_CACHE_TTL_SECONDS", "3600", "ttlSeconds", 3600],
    ["KEYSCOPE_CACHE_MAX_ENTRIES", "1", "maxEntries", 1],
    ["KEYSCOPE_CACHE_MAX_ENTRIES", "10000000", "maxEntries", 10_000_000],
    ["KEYSCOPE_MAX_KEYS_PER_USER", "1", "maxKeysPerUser", 1],
    ["KEYSCOPE_MAX_KEYS_PER_USER", "100000", "maxKeysPerUser", 100_000],
    ["KEYSCOPE_MAX_BODY_BYTES", "1024", "maxBodyBytes", 1024],
    ["KEYSCOPE_MAX_BODY_BYTES", "104857600", "maxBodyBytes", 104_857_600],
    ["KEYSCOPE_MAX_DEPTH", "1", "maxDepth", 1],
    ["KEYSCOPE_MAX_DEPTH", "1000", "maxDepth", 1000],
    ["KEYSCOPE_MAX_ALIASES", "0", "maxAliases", 0],
    ["KEYSCOPE_MAX_ALIASES", "10000", "maxAliases", 10_000],
    ["KEYSCOPE_MAX_TOKENS", "10", "maxTokens", 10],
    ["KEYSCOPE_MAX_TOKENS", "1000000", "maxTokens", 1_000_000],
    ["KEYSCOPE_MAX_QUERY_COST", "1", "maxCost", 1],
    ["KEYSCOPE_MAX_QUERY_COST", "1000000000", "maxCost", 1_000_000_000],
  ])("accepts %s=%s at the edge of its range", (name, value, field, expected) => {
    const config = loadConfig({ [name]: value });
    const group = name.startsWith("KEYSCOPE_CACHE_") ? "cache" : "limits";
    expect(config[group]).toStrictEqual({ ...defaults[group], [field]: expected });
  });
});

describe("loadConfig: production", () => {
  it("NODE_ENV=production turns production on and introspection off", () => {
    expect(loadConfig({ NODE_ENV: "production" })).toStrictEqual({ ...defaults, production: true, introspection: false });
  });

  it("KEYSCOPE_INTROSPECTION=true switches introspection back on in production", () => {
    expect(loadConfig({ NODE_ENV: "production", KEYSCOPE_INTROSPECTION: "true" })).toStrictEqual({
      ...defaults,
      production: true,
      introspection: true,
    });
    expect(loadConfig({ NODE_ENV: "production", KEYSCOPE_INTROSPECTION: "false" }).introspection).toBe(false);
  });
});

/** Variables whose every non-empty value is valid: there is nothing to reject. */
const freeForm: EnvVariable[] = ["NODE_ENV", "HOST", "KEYSCOPE_DATA_DIR"];

const badValues: [EnvVariable, string][] = [
  ["PORT", "abc"],
  ["PORT", "-1"],
  ["PORT", "65536"],
  ["PORT", "80.5"],
  ["PORT", "8080 "],
  ["PORT", "1e3"],
  ["DATABASE_URL", "mysql://keyscope:hunter2hunter2@db/keyscope"],
  ["DATABASE_URL", "db.internal:5432/keyscope"],
  ["DATABASE_URL", "postgres://[::1"],
  ["REDIS_URL", "http://cache.internal:6379"],
  ["REDIS_URL", "cache.internal:6379"],
  ["KEYSCOPE_HASH_SECRET", "hunter2-is-too-short-31-chars!!"],
  ["KEYSCOPE_KEY_PREFIX", "Acme"],
  ["KEYSCOPE_KEY_PREFIX", "9acme"],
  ["KEYSCOPE_KEY_PREFIX", "acme_"],
  ["KEYSCOPE_KEY_PREFIX", "acme-corp"],
  ["KEYSCOPE_KEY_PREFIX", "abcdefghijklmnopq"],
  ["LOG_LEVEL", "verbose"],
  ["LOG_LEVEL", "INFO"],
  ["KEYSCOPE_KEY_QUERY_PARAM", "api key"],
  ["KEYSCOPE_KEY_QUERY_PARAM", "a&b"],
  ["KEYSCOPE_KEY_QUERY_PARAM", "q".repeat(65)],
  ["KEYSCOPE_KEY_COOKIE", "a=b"],
  ["KEYSCOPE_KEY_COOKIE", "a;b"],
  ["KEYSCOPE_KEY_HEADERS", "bad header"],
  ["KEYSCOPE_KEY_HEADERS", "secret,,client-key"],
  ["KEYSCOPE_KEY_HEADERS", "x:y"],
  ["KEYSCOPE_KEY_IN_EXTENSIONS", "yes"],
  ["KEYSCOPE_KEY_IN_EXTENSIONS", "TRUE"],
  ["KEYSCOPE_CACHE_TTL_SECONDS", "0"],
  ["KEYSCOPE_CACHE_TTL_SECONDS", "3601"],
  ["KEYSCOPE_CACHE_MAX_ENTRIES", "0"],
  ["KEYSCOPE_CACHE_MAX_ENTRIES", "10000001"],
  ["KEYSCOPE_MAX_KEYS_PER_USER", "0"],
  ["KEYSCOPE_MAX_KEYS_PER_USER", "100001"],
  ["KEYSCOPE_INTROSPECTION", "enabled"],
  ["KEYSCOPE_MAX_BODY_BYTES", "1023"],
  ["KEYSCOPE_MAX_BODY_BYTES", "104857601"],
  ["KEYSCOPE_MAX_DEPTH", "0"],
  ["KEYSCOPE_MAX_DEPTH", "1001"],
  ["KEYSCOPE_MAX_ALIASES", "-1"],
  ["KEYSCOPE_MAX_ALIASES", "10001"],
  ["KEYSCOPE_MAX_TOKENS", "9"],
  ["KEYSCOPE_MAX_TOKENS", "1000001"],
  ["KEYSCOPE_MAX_QUERY_COST", "0"],
  ["KEYSCOPE_MAX_QUERY_COST", "1000000001"],
  ["KEYSCOPE_MAX_QUERY_COST", "5e3"],
  ["KEYSCOPE_MAX_QUERY_COST", "off"],
  ["KEYSCOPE_METRICS", "enabled"],
  ["KEYSCOPE_METRICS_PORT", "65536"],
  ["KEYSCOPE_METRICS_PORT", "metrics"],
  ["KEYSCOPE_MAX_TOKENS", "99999999999999999999999"],
  ["KEYSCOPE_RATE_LIMIT_REQUESTS", "0"],
  ["KEYSCOPE_RATE_LIMIT_REQUESTS", "ten"],
  ["KEYSCOPE_RATE_LIMIT_WINDOW_SECONDS", "0"],
  ["KEYSCOPE_RATE_LIMIT_WINDOW_SECONDS", "86401"],
  ["KEYSCOPE_FAILED_AUTH_LIMIT", "0"],
  ["KEYSCOPE_FAILED_AUTH_LIMIT", "-5"],
  ["KEYSCOPE_FAILED_AUTH_WINDOW_SECONDS", "1.5"],
  ["KEYSCOPE_TRUST_PROXY_HOPS", "11"],
  ["KEYSCOPE_TRUST_PROXY_HOPS", "yes"],
  ["KEYSCOPE_TRUSTED_PROXIES", "proxy.internal"],
  ["KEYSCOPE_TRUSTED_PROXIES", "10.0.0.0/33"],
  ["KEYSCOPE_TRUSTED_PROXIES", "10.0.0.0/-1"],
  ["KEYSCOPE_TRUSTED_PROXIES", "192.168.0.0/"],
  ["KEYSCOPE_TRUSTED_PROXIES", "10.0.0.0/8/8"],
  ["KEYSCOPE_TRUSTED_PROXIES", "2001:db8::/129"],
  ["KEYSCOPE_TRUSTED_PROXIES", "::ffff:10.0.0.0/95"],
  ["KEYSCOPE_TRUSTED_PROXIES", "10.0.0.1,,10.0.0.2"],
  ["KEYSCOPE_TRUSTED_PROXIES", "10.0.0.1:8080"],
  ["KEYSCOPE_TRUSTED_PROXIES", "[::1]"],
  ["KEYSCOPE_TRUSTED_PROXIES", "fe80::1%eth0"],
  ["KEYSCOPE_TRUSTED_PROXIES", "256.0.0.1"],
  ["KEYSCOPE_TRUSTED_PROXIES", "010.0.0.1"],
  ["KEYSCOPE_TRUSTED_PROXIES", "everyone"],
  ["KEYSCOPE_HIDE_CREDENTIALS", "no"],
  ["KEYSCOPE_HEADERS_TIMEOUT_MS", "99"],
  ["KEYSCOPE_HEADERS_TIMEOUT_MS", "3600001"],
  ["KEYSCOPE_REQUEST_TIMEOUT_MS", "-1"],
  ["KEYSCOPE_REQUEST_TIMEOUT_MS", "30s"],
  ["KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS", "-5"],
  ["KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS", "1.5"],
  ["KEYSCOPE_MAX_CONNECTIONS", "-2"],
  ["KEYSCOPE_MAX_CONNECTIONS", "1000001"],
  ["KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS", "99"],
  ["KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS", "600001"],
  ["KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS", "-3"],
  ["KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS", "5 s"],
  ["KEYSCOPE_USAGE_FLUSH_SECONDS", "0"],
  ["KEYSCOPE_USAGE_FLUSH_SECONDS", "61"],
  ["KEYSCOPE_CONSOLE", "off"],
  ["KEYSCOPE_CONSOLE", "False"],
  ["KEYSCOPE_EXECUTOR", "fast"],
  ["KEYSCOPE_EXECUTOR", "GRAPHQL-JIT"],
];

describe("loadConfig: bad values", () => {
  it.each(badValues)("%s=%j throws a ConfigError naming the variable", (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe("ConfigError");
    expect(error.message).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it.each(badValues)("%s=%j is not echoed in the message", (name, value) => {
    expect(configError({ [name]: value }).message).not.toContain(value.trim());
  });

  it("never shows the secrets' values, not even in part", () => {
    const url = configError({ DATABASE_URL: "mysql://keyscope:hunter2hunter2@db/keyscope" }).message;
    expect(url).toContain("DATABASE_URL");
    for (const part of ["hunter2", "mysql", "keyscope:", "@db"]) expect(url).not.toContain(part);

    const secret = configError({ KEYSCOPE_HASH_SECRET: "hunter2-is-too-short-31-chars!!" }).message;
    expect(secret).toContain("KEYSCOPE_HASH_SECRET");
    expect(secret).not.toContain("hunter2");
  });

  it("has a bad value in this suite for every variable that can be wrong", () => {
    const covered = new Set<EnvVariable>([...freeForm, ...badValues.map(([name]) => name)]);
    expect(envVariables.filter((name) => !covered.has(name))).toEqual([]);
  });

  it("accepts any non-empty value for the free-form variables", () => {
    expect(loadConfig({ NODE_ENV: "anything", HOST: "::", KEYSCOPE_DATA_DIR: "." })).toStrictEqual({ ...defaults, host: "::", dataDir: "." });
  });

  it("names every bad variable at once, and none of the good ones", () => {
    const error = configError({ PORT: "x", LOG_LEVEL: "loud", KEYSCOPE_MAX_DEPTH: "0", KEYSCOPE_KEY_PREFIX: "ok" });
    expect(error.message).toContain("PORT");
    expect(error.message).toContain("LOG_LEVEL");
    expect(error.message).toContain("KEYSCOPE_MAX_DEPTH");
    expect(error.message).not.toContain("KEYSCOPE_KEY_PREFIX");
  });

  it("names the bad entry of KEYSCOPE_TRUSTED_PROXIES by its position, and what entries may be", () => {
    const message = configError({ KEYSCOPE_TRUSTED_PROXIES: "10.0.0.1, loopback, gateway.internal" }).message;
    expect(message).toContain("KEYSCOPE_TRUSTED_PROXIES");
    expect(message).toContain("entry 3");
    expect(message).toContain("CIDR");
    expect(message).not.toContain("gateway");
  });

  it("refuses a header timeout longer than the request timeout, naming both", () => {
    const message = configError({ KEYSCOPE_HEADERS_TIMEOUT_MS: "20000", KEYSCOPE_REQUEST_TIMEOUT_MS: "10000" }).message;
    expect(message).toContain("KEYSCOPE_HEADERS_TIMEOUT_MS");
    expect(message).toContain("KEYSCOPE_REQUEST_TIMEOUT_MS");
    // Against the default request timeout (30 s) too.
    expect(configError({ KEYSCOPE_HEADERS_TIMEOUT_MS: "30001" }).message).toContain("KEYSCOPE_REQUEST_TIMEOUT_MS");
    expect(loadConfig({ KEYSCOPE_HEADERS_TIMEOUT_MS: "30000" }).http.headersTimeoutMs).toBe(30_000);
  });

  it("says what the value must be", () => {
    expect(configError({ PORT: "x" }).message).toContain("65535");
    expect(configError({ KEYSCOPE_HASH_SECRET: "short" }).message).toContain("32");
    expect(configError({ LOG_LEVEL: "loud" }).message).toContain("debug");
  });
});

describe("loadConfig: the result", () => {
  it("is frozen all the way down", () => {
    const config = loadConfig({ KEYSCOPE_KEY_HEADERS: "secret", PORT: "1" });
    expectDeeplyFrozen(config);
    expect(() => {
      (config as { port: number }).port = 2;
    }).toThrow(TypeError);
    expect(() => {
      (config.keySources.headers as string[]).push("x");
    }).toThrow(TypeError);
    expect(() => {
      (config.limits as { maxDepth: number }).maxDepth = 99;
    }).toThrow(TypeError);
    expect(config.port).toBe(1);
    expect(config.keySources.headers).toEqual(["secret"]);
  });

  it("is frozen with defaults too, without freezing the environment", () => {
    const env: Record<string, string | undefined> = {};
    expectDeeplyFrozen(loadConfig(env));
    expect(Object.isFrozen(env)).toBe(false);
  });
});

describe("resolveConfig", () => {
  it("gives the defaults for no options", () => {
    expect(resolveConfig({})).toStrictEqual(defaults);
  });

  it("merges partial options, nested ones too, with the defaults", () => {
    const config = resolveConfig({
      port: 0,
      keyPrefix: "acme",
      keySources: { cookie: "mia_client_key" },
      cache: { ttlSeconds: 5 },
      limits: { maxDepth: 3 },
    });
    expect(config).toStrictEqual({
      ...defaults,
      port: 0,
      keyPrefix: "acme",
      keySources: { ...defaults.keySources, cookie: "mia_client_key" },
      cache: { ...defaults.cache, ttlSeconds: 5 },
      limits: { ...defaults.limits, maxDepth: 3 },
    });
  });

  it("lets undefined options take their defaults", () => {
    expect(
      resolveConfig({ port: undefined, keyPrefix: undefined, keySources: { extensions: undefined }, cache: { maxEntries: undefined } }),
    ).toStrictEqual(defaults);
  });

  it("turns introspection off in production unless asked for", () => {
    expect(resolveConfig({ production: true })).toStrictEqual({ ...defaults, production: true, introspection: false });
    expect(resolveConfig({ production: true, introspection: true })).toStrictEqual({ ...defaults, production: true, introspection: true });
    expect(resolveConfig({ introspection: false })).toStrictEqual({ ...defaults, introspection: false });
  });

  it("serves the console unless told not to", () => {
    expect(resolveConfig({}).console).toBe(true);
    expect(resolveConfig({ console: false })).toStrictEqual({ ...defaults, console: false });
  });

  it("drops options it does not know, without freezing them", () => {
    const logger = { info: () => undefined, child: {} };
    const typeDefs = ["type Query { a: String }"];
    const input = { port: 1234, logger, typeDefs, resolvers: { Query: {} } };
    const config = resolveConfig(input);
    expect(config).toStrictEqual({ ...defaults, port: 1234 });
    expect(Object.isFrozen(logger)).toBe(false);
    expect(Object.isFrozen(logger.child)).toBe(false);
    expect(Object.isFrozen(typeDefs)).toBe(false);
    expect(Object.isFrozen(input)).toBe(false);
    expect(Object.isFrozen(input.resolvers)).toBe(false);
  });

  it("does not freeze the nested option objects it was given", () => {
    const cache = { ttlSeconds: 1 };
    const limits = { maxTokens: 50 };
    const config = resolveConfig({ cache, limits });
    expect(Object.isFrozen(cache)).toBe(false);
    expect(Object.isFrozen(limits)).toBe(false);
    expect(config.cache).not.toBe(cache);
  });

  it("returns a deeply frozen configuration", () => {
    const config = resolveConfig({ keySources: { headers: ["secret"] }, limits: { maxAliases: 1 } });
    expectDeeplyFrozen(config);
    expect(() => {
      (config.cache as { ttlSeconds: number }).ttlSeconds = 1;
    }).toThrow(TypeError);
  });

  it.each(["", "KS", "ks_", "9ks", "k-s", "abcdefghijklmnopq"])("rejects keyPrefix %j", (keyPrefix) => {
    expect(() => resolveConfig({ keyPrefix })).toThrow(ConfigError);
    expect(() => resolveConfig({ keyPrefix })).toThrow(/keyPrefix/);
  });

  it("checks trustedProxies like KEYSCOPE_TRUSTED_PROXIES, and keeps a copy of the list", () => {
    expect(() => resolveConfig({ trustedProxies: ["10.0.0.0/8", "not an address"] })).toThrow(/trustedProxies: entry 2 is not/);
    const given = ["10.0.0.0/8", "::1"];
    const config = resolveConfig({ trustedProxies: given });
    expect(config.trustedProxies).toEqual(given);
    expect(Object.isFrozen(given)).toBe(false);
  });

  it("merges partial http limits and database timeouts, and checks the timeouts' order", () => {
    expect(resolveConfig({ http: { maxConnections: 5 }, databaseTimeouts: { statementMs: 200 } })).toStrictEqual({
      ...defaults,
      http: { ...defaults.http, maxConnections: 5 },
      databaseTimeouts: { ...defaults.databaseTimeouts, statementMs: 200 },
    });
    expect(() => resolveConfig({ http: { headersTimeoutMs: 40_000 } })).toThrow(/headersTimeoutMs/);
  });

  it("rejects a hash secret shorter than 32 characters, without showing it", () => {
    const short = "hunter2-is-too-short-31-chars!!";
    expect(short).toHaveLength(31);
    let error: unknown;
    try {
      resolveConfig({ hashSecret: short });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("hashSecret");
    expect((error as Error).message).not.toContain("hunter2");
    expect(() => resolveConfig({ hashSecret: "" })).toThrow(ConfigError);
    expect(resolveConfig({ hashSecret: SECRET }).hashSecret).toBe(SECRET);
  });
});

describe("resolveConfig: metrics", () => {
  it("refuses a metrics port equal to the public port, and accepts any other (0: both chosen by the system)", () => {
    expect(() => resolveConfig({ port: 9464, metricsPort: 9464 })).toThrow(/KEYSCOPE_METRICS_PORT must differ from PORT/);
    expect(resolveConfig({ port: 4000, metricsPort: 9464 }).metricsPort).toBe(9464);
    expect(resolveConfig({ port: 0, metricsPort: 0 }).metricsPort).toBe(0);
    expect(resolveConfig({ metricsEnabled: false }).metricsEnabled).toBe(false);
  });
});
