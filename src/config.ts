import { z } from "zod";
import { parseTrustedProxies, TRUSTED_PROXY_FORMAT } from "./http/trusted-proxies.ts";
import { KEY_PREFIX_PATTERN } from "./keys/key-format.ts";

/** Everything Keyscope can be told. Library users pass parts of it; the server reads it from env. */
export interface KeyscopeConfig {
  /** NODE_ENV=production: no introspection (unless switched on), stack traces or field suggestions. */
  production: boolean;
  /** @default 4000 */
  port: number;
  /** @default undefined (all interfaces) */
  host: string | undefined;
  /** postgres://… — unset: embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** @default "./data" */
  dataDir: string;
  redisUrl: string | undefined;
  /** Keys are stored as HMAC-SHA256 with it; unset: plain SHA-256. */
  hashSecret: string | undefined;
  /** @default "ks" */
  keyPrefix: string;
  /** @default "info" */
  logLevel: LogLevel;
  keySources: KeySources;
  cache: { /** @default 30 */ ttlSeconds: number; /** @default 10000 */ maxEntries: number };
  limits: QueryLimits & {
    /** Live keys one user may hold. @default 100 */
    maxKeysPerUser: number;
    /** Requests per key per window unless the key has its own. @default 1000 per 60 s */
    rateLimit: { limit: number; windowSeconds: number };
    /** Failed key checks per client address per window before 429. @default 20 per 60 s */
    failedAuth: { limit: number; windowSeconds: number };
  };
  /**
   * At most this many proxies in front of Keyscope are trusted to write X-Forwarded-For; alone it
   * trusts any peer, with `trustedProxies` only those. @default 0 (socket address)
   */
  trustProxyHops: number;
  /**
   * Addresses and CIDR ranges (or `loopback`, `linklocal`, `private`) of the proxies whose
   * X-Forwarded-For entries count; from any other peer the header is ignored. @default []
   */
  trustedProxies: readonly string[];
  /**
   * Apollo and its plugins see the request without the key (its header, cookie, query parameter
   * and `extensions.apiKey`), as Kong's hide_credentials. @default true
   */
  hideCredentials: boolean;
  http: HttpLimits;
  /** Bounds on each PostgreSQL round trip, so that an unreachable database means a prompt 503. */
  databaseTimeouts: {
    /** Connecting (TCP and the start-up handshake). @default 3000 */
    connectMs: number;
    /** One statement, lock waits included (PostgreSQL's statement_timeout). @default 5000 */
    statementMs: number;
  };
  /** How often usage counts are written. @default 5 */
  usageFlushSeconds: number;
  /** @default !production */
  introspection: boolean;
  /** Prometheus metrics (`GET /metrics`). @default true */
  metricsEnabled: boolean;
  /** Serve /metrics on this port instead of the public one. @default undefined (the public port) */
  metricsPort: number | undefined;
  /** Serve the key console at /console. @default true */
  console: boolean;
  /**
   * What runs operations after Apollo has parsed and validated them: graphql-js (Apollo's own),
   * or graphql-jit, which compiles each operation once (graphql/jit-executor.ts). @default "graphql-js"
   */
  executor: "graphql-js" | "graphql-jit";
}

/** Where a key may arrive besides `X-API-Key` and `Authorization` (SPEC §3); all off by default. */
export interface KeySources {
  queryParam: string | undefined;
  cookie: string | undefined;
  /** Extra header names, lower case. */
  headers: readonly string[];
  /** `extensions.apiKey` in the GraphQL request body. */
  extensions: boolean;
}

/** node:http's limits on connections (slow clients, idle sockets, too many of them). */
export interface HttpLimits {
  /** Time to receive a request's headers (node's headersTimeout). @default 10000 */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (node's requestTimeout). @default 30000 */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. @default 5000 */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed at once. @default 10000 */
  maxConnections: number;
}

export interface QueryLimits {
  /** @default 102400 */
  maxBodyBytes: number;
  /** @default 12 */
  maxDepth: number;
  /** @default 15 */
  maxAliases: number;
  /** @default 1000 */
  maxTokens: number;
  /**
   * The most one operation may cost: each object counts 1, times the sizes of the lists it is
   * in (graphql/query-cost.ts). Refused with 400 before anything runs. @default 5000
   */
  maxCost: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const defaultConfig: KeyscopeConfig = Object.freeze({
  production: false,
  port: 4000,
  host: undefined,
  databaseUrl: undefined,
  dataDir: "./data",
  redisUrl: undefined,
  hashSecret: undefined,
  keyPrefix: "ks",
  logLevel: "info",
  keySources: Object.freeze({ queryParam: undefined, cookie: undefined, headers: [], extensions: false }),
  cache: Object.freeze({ ttlSeconds: 30, maxEntries: 10_000 }),
  limits: Object.freeze({
    maxBodyBytes: 102_400, maxDepth: 12, maxAliases: 15, maxTokens: 1000, maxCost: 5000, maxKeysPerUser: 100,
    rateLimit: Object.freeze({ limit: 1000, windowSeconds: 60 }),
    failedAuth: Object.freeze({ limit: 20, windowSeconds: 60 }),
  }),
  trustProxyHops: 0,
  trustedProxies: Object.freeze([]),
  hideCredentials: true,
  http: Object.freeze({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000, maxConnections: 10_000 }),
  databaseTimeouts: Object.freeze({ connectMs: 3000, statementMs: 5000 }),
  usageFlushSeconds: 5,
  introspection: true,
  metricsEnabled: true,
  metricsPort: undefined,
  console: true,
  executor: "graphql-js",
});

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** Headers with a meaning of their own; as extra key headers they would read "Bearer …" as a key. */
const RESERVED_HEADERS = ["x-api-key", "authorization", "cookie"];

const integer = (min: number, max: number) =>
  z.string().regex(/^\d+$/, `must be a whole number from ${min} to ${max}`).transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const flag = z.enum(["true", "false", "1", "0"], "must be true or false").transform((v) => v === "true" || v === "1");
const url = (schemes: string[]) =>
  z.string().refine((v) => schemes.some((s) => v.startsWith(`${s}://`)) && URL.canParse(v), `must be a ${schemes.join(":// or ")}:// URL`);

/** Each variable, its check, and where its value goes. Values are never echoed: some are secrets. */
const variables = {
  NODE_ENV: z.string(),
  PORT: integer(0, 65535),
  HOST: z.string().min(1, "must not be empty"),
  DATABASE_URL: url(["postgres", "postgresql"]),
  KEYSCOPE_DATA_DIR: z.string().min(1, "must not be empty"),
  REDIS_URL: url(["redis", "rediss"]),
  KEYSCOPE_HASH_SECRET: z.string().min(32, "must be at least 32 characters"),
  KEYSCOPE_KEY_PREFIX: z.string().regex(KEY_PREFIX_PATTERN, "must match [a-z][a-z0-9]{0,15}"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "must be one of fatal, error, warn, info, debug, trace, silent"),
  KEYSCOPE_KEY_QUERY_PARAM: z.string().regex(NAME, "must be a parameter name of letters, digits, '.', '_' or '-'"),
  KEYSCOPE_KEY_COOKIE: z.string().regex(NAME, "must be a cookie name of letters, digits, '.', '_' or '-'"),
  KEYSCOPE_KEY_HEADERS: z.string().transform((v) => v.split(",").map((h) => h.trim().toLowerCase()))
    .pipe(z.array(z.string().regex(HEADER_NAME, "must be a comma-separated list of header names")
      .refine((h) => !RESERVED_HEADERS.includes(h), "must not name x-api-key, authorization or cookie (they are read already)")).min(1)),
  KEYSCOPE_KEY_IN_EXTENSIONS: flag,
  KEYSCOPE_CACHE_TTL_SECONDS: integer(1, 3600),
  KEYSCOPE_CACHE_MAX_ENTRIES: integer(1, 10_000_000),
  KEYSCOPE_MAX_KEYS_PER_USER: integer(1, 100_000),
  KEYSCOPE_INTROSPECTION: flag,
  KEYSCOPE_MAX_BODY_BYTES: integer(1024, 100 * 1024 * 1024),
  KEYSCOPE_MAX_DEPTH: integer(1, 1000),
  KEYSCOPE_MAX_ALIASES: integer(0, 10_000),
  KEYSCOPE_MAX_TOKENS: integer(10, 1_000_000),
  KEYSCOPE_MAX_QUERY_COST: integer(1, 1_000_000_000),
  KEYSCOPE_RATE_LIMIT_REQUESTS: integer(1, 1_000_000_000),
  KEYSCOPE_RATE_LIMIT_WINDOW_SECONDS: integer(1, 86_400),
  KEYSCOPE_FAILED_AUTH_LIMIT: integer(1, 1_000_000),
  KEYSCOPE_FAILED_AUTH_WINDOW_SECONDS: integer(1, 86_400),
  KEYSCOPE_TRUST_PROXY_HOPS: integer(0, 10),
  KEYSCOPE_TRUSTED_PROXIES: z.string().transform((v) => v.split(",").map((entry) => entry.trim()))
    .superRefine((entries, ctx) => {
      const problem = trustedProxiesProblem(entries);
      if (problem) ctx.addIssue({ code: "custom", message: `must be a comma-separated list of ${TRUSTED_PROXY_FORMAT} (${problem})` });
    }),
  KEYSCOPE_HIDE_CREDENTIALS: flag,
  KEYSCOPE_HEADERS_TIMEOUT_MS: integer(100, 3_600_000),
  KEYSCOPE_REQUEST_TIMEOUT_MS: integer(100, 3_600_000),
  KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS: integer(100, 3_600_000),
  KEYSCOPE_MAX_CONNECTIONS: integer(1, 1_000_000),
  KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS: integer(100, 600_000),
  KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000),
  KEYSCOPE_USAGE_FLUSH_SECONDS: integer(1, 60),
  KEYSCOPE_METRICS: flag,
  KEYSCOPE_METRICS_PORT: integer(0, 65535),
  KEYSCOPE_CONSOLE: flag,
  KEYSCOPE_EXECUTOR: z.enum(["graphql-js", "graphql-jit"], "must be graphql-js or graphql-jit"),
} satisfies Record<string, z.ZodType<unknown, string>>;

export type EnvVariable = keyof typeof variables;
/** The variables Keyscope reads, for the README and for tests. */
export const envVariables = Object.keys(variables) as EnvVariable[];

/**
 * Reads and checks the environment. Unset or empty variables take their defaults; a bad value
 * throws a ConfigError naming the variable and what it must be. The result is frozen.
 */
export function loadConfig(env: Record<string, string | undefined>): KeyscopeConfig {
  const v = parseVariables(env);
  const production = v.NODE_ENV === "production";
  const d = defaultConfig;
  if ((v.KEYSCOPE_HEADERS_TIMEOUT_MS ?? d.http.headersTimeoutMs) > (v.KEYSCOPE_REQUEST_TIMEOUT_MS ?? d.http.requestTimeoutMs)) {
    throw new ConfigError("Invalid configuration: KEYSCOPE_HEADERS_TIMEOUT_MS must not be longer than KEYSCOPE_REQUEST_TIMEOUT_MS (the request includes its headers).");
  }
  return deepFreeze({
    production,
    port: v.PORT ?? d.port,
    host: v.HOST ?? d.host,
    databaseUrl: v.DATABASE_URL,
    dataDir: v.KEYSCOPE_DATA_DIR ?? d.dataDir,
    redisUrl: v.REDIS_URL,
    hashSecret: v.KEYSCOPE_HASH_SECRET,
    keyPrefix: v.KEYSCOPE_KEY_PREFIX ?? d.keyPrefix,
    logLevel: v.LOG_LEVEL ?? d.logLevel,
    keySources: {
      queryParam: v.KEYSCOPE_KEY_QUERY_PARAM,
      cookie: v.KEYSCOPE_KEY_COOKIE,
      headers: v.KEYSCOPE_KEY_HEADERS ?? [],
      extensions: v.KEYSCOPE_KEY_IN_EXTENSIONS ?? false,
    },
    cache: {
      ttlSeconds: v.KEYSCOPE_CACHE_TTL_SECONDS ?? d.cache.ttlSeconds,
      maxEntries: v.KEYSCOPE_CACHE_MAX_ENTRIES ?? d.cache.maxEntries,
    },
    limits: {
      maxKeysPerUser: v.KEYSCOPE_MAX_KEYS_PER_USER ?? d.limits.maxKeysPerUser,
      maxBodyBytes: v.KEYSCOPE_MAX_BODY_BYTES ?? d.limits.maxBodyBytes,
      maxDepth: v.KEYSCOPE_MAX_DEPTH ?? d.limits.maxDepth,
      maxAliases: v.KEYSCOPE_MAX_ALIASES ?? d.limits.maxAliases,
      maxTokens: v.KEYSCOPE_MAX_TOKENS ?? d.limits.maxTokens,
      maxCost: v.KEYSCOPE_MAX_QUERY_COST ?? d.limits.maxCost,
      rateLimit: {
        limit: v.KEYSCOPE_RATE_LIMIT_REQUESTS ?? d.limits.rateLimit.limit,
        windowSeconds: v.KEYSCOPE_RATE_LIMIT_WINDOW_SECONDS ?? d.limits.rateLimit.windowSeconds,
      },
      failedAuth: {
        limit: v.KEYSCOPE_FAILED_AUTH_LIMIT ?? d.limits.failedAuth.limit,
        windowSeconds: v.KEYSCOPE_FAILED_AUTH_WINDOW_SECONDS ?? d.limits.failedAuth.windowSeconds,
      },
    },
    trustProxyHops: v.KEYSCOPE_TRUST_PROXY_HOPS ?? d.trustProxyHops,
    trustedProxies: v.KEYSCOPE_TRUSTED_PROXIES ?? d.trustedProxies,
    hideCredentials: v.KEYSCOPE_HIDE_CREDENTIALS ?? d.hideCredentials,
    http: {
      headersTimeoutMs: v.KEYSCOPE_HEADERS_TIMEOUT_MS ?? d.http.headersTimeoutMs,
      requestTimeoutMs: v.KEYSCOPE_REQUEST_TIMEOUT_MS ?? d.http.requestTimeoutMs,
      keepAliveTimeoutMs: v.KEYSCOPE_KEEP_ALIVE_TIMEOUT_MS ?? d.http.keepAliveTimeoutMs,
      maxConnections: v.KEYSCOPE_MAX_CONNECTIONS ?? d.http.maxConnections,
    },
    databaseTimeouts: {
      connectMs: v.KEYSCOPE_DATABASE_CONNECT_TIMEOUT_MS ?? d.databaseTimeouts.connectMs,
      statementMs: v.KEYSCOPE_DATABASE_STATEMENT_TIMEOUT_MS ?? d.databaseTimeouts.statementMs,
    },
    usageFlushSeconds: v.KEYSCOPE_USAGE_FLUSH_SECONDS ?? d.usageFlushSeconds,
    introspection: v.KEYSCOPE_INTROSPECTION ?? !production,
    metricsEnabled: v.KEYSCOPE_METRICS ?? d.metricsEnabled,
    metricsPort: v.KEYSCOPE_METRICS_PORT,
    console: v.KEYSCOPE_CONSOLE ?? d.console,
    executor: v.KEYSCOPE_EXECUTOR ?? d.executor,
  });
}

type Parsed = { [K in EnvVariable]?: z.output<(typeof variables)[K]> };

function parseVariables(env: Record<string, string | undefined>): Parsed {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of envVariables) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const result = variables[name].safeParse(raw);
    if (result.success) parsed[name] = result.data;
    else problems.push(`${name} ${result.error.issues[0]?.message ?? "is invalid"}`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join("; ")}.`);
  return parsed as Parsed;
}

/** What is wrong with a trusted-proxy list (which entry), or undefined. */
function trustedProxiesProblem(entries: readonly string[]): string | undefined {
  try {
    parseTrustedProxies(entries);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/ is not one of .*/, " is not");
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Library options: any part of the configuration; the rest takes the defaults. */
export type KeyscopeConfigInput = Partial<Omit<KeyscopeConfig, "keySources" | "cache" | "limits" | "http" | "databaseTimeouts">> & {
  keySources?: Partial<KeySources>;
  cache?: Partial<KeyscopeConfig["cache"]>;
  limits?: Partial<KeyscopeConfig["limits"]>;
  http?: Partial<HttpLimits>;
  databaseTimeouts?: Partial<KeyscopeConfig["databaseTimeouts"]>;
};

/** Merges library options with the defaults once, at creation, and checks what could break. */
export function resolveConfig(input: KeyscopeConfigInput): KeyscopeConfig {
  const production = input.production ?? false;
  // Only known keys: library options also carry typeDefs, a logger… which must not be frozen.
  const known = Object.fromEntries(Object.keys(defaultConfig).map((k) => [k, input[k as keyof KeyscopeConfigInput]]));
  const config: KeyscopeConfig = {
    ...defaultConfig,
    introspection: !production,
    ...stripUndefined(known),
    keySources: withDefaults(defaultConfig.keySources, input.keySources),
    cache: withDefaults(defaultConfig.cache, input.cache),
    limits: withDefaults(defaultConfig.limits, input.limits),
    http: withDefaults(defaultConfig.http, input.http),
    databaseTimeouts: withDefaults(defaultConfig.databaseTimeouts, input.databaseTimeouts),
  };
  if (!KEY_PREFIX_PATTERN.test(config.keyPrefix)) throw new ConfigError("keyPrefix must match [a-z][a-z0-9]{0,15}.");
  // Incoming header names are compared in lower case.
  const headers = config.keySources.headers.map((h) => h.toLowerCase());
  const reserved = headers.find((h) => RESERVED_HEADERS.includes(h) || !HEADER_NAME.test(h));
  if (reserved !== undefined) throw new ConfigError(`keySources.headers: ${JSON.stringify(reserved)} cannot be an extra key header.`);
  config.keySources = { ...config.keySources, headers };
  if (config.hashSecret !== undefined && config.hashSecret.length < 32) throw new ConfigError("hashSecret must be at least 32 characters.");
  const proxies = trustedProxiesProblem(config.trustedProxies);
  if (proxies) throw new ConfigError(`trustedProxies: ${proxies}; each must be one of ${TRUSTED_PROXY_FORMAT}.`);
  config.trustedProxies = [...config.trustedProxies];
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) throw new ConfigError("http.headersTimeoutMs must not be longer than http.requestTimeoutMs.");
  if (config.metricsPort !== undefined && config.metricsPort !== 0 && config.metricsPort === config.port) {
    throw new ConfigError("KEYSCOPE_METRICS_PORT must differ from PORT (leave it unset to serve /metrics on the public port).");
  }
  return deepFreeze(config);
}

/** `given` over `defaults`, where an undefined value counts as not given. */
export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  return { ...defaults, ...stripUndefined(given ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
