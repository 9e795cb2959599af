import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { IResolvers, TypeSource } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import { createAuditService, type AuditService } from "./audit/audit-service.ts";
import { Redis } from "ioredis";
import { createAuthResolver, finishRequest, type Auth, type KeyRequest, type KeyscopeContext } from "./auth/context.ts";
import { createFailedAuthThrottle } from "./limits/failed-auth-throttle.ts";
import { createKeyRateLimiter } from "./limits/rate-limit.ts";
import { createUsageRecorder, type UsageRecorder } from "./limits/usage-recorder.ts";
import { followCacheChanges } from "./auth/cache-invalidation.ts";
import { KeyCache } from "./auth/key-cache.ts";
import { createKeyVerifier, type KeyVerifier } from "./auth/verify-key.ts";
import { systemClock, type Clock } from "./clock.ts";
import { resolveConfig, type KeyscopeConfig, type KeyscopeConfigInput } from "./config.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { lockDataDir, type ReleaseLock } from "./db/data-dir-lock.ts";
import { buildKeyscopeSchema } from "./graphql/build-schema.ts";
import { createErrorFormatter } from "./graphql/format-error.ts";
import { createManagementResolvers } from "./graphql/management-resolvers.ts";
import { createConsoleRoute } from "./http/console-route.ts";
import { createHttpServer } from "./http/server.ts";
import { createKeyService, type KeyService } from "./keys/key-service.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createUserService, type UserService } from "./users/user-service.ts";

export interface KeyscopeServerOptions extends KeyscopeConfigInput {
  /** Your SDL, using @requiresKey; merged with the management schema. */
  typeDefs?: TypeSource;
  resolvers?: IResolvers | IResolvers[];
  /** Adds your own fields to the context; `auth` is Keyscope's. */
  context?: (args: { request: KeyRequest; auth: Auth }) => object | Promise<object>;
  /** @default a pino JSON logger at `logLevel` */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
}

export interface KeyscopeServer {
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; port: number }>;
  /** Stops accepting requests, finishes those in flight, closes the database. */
  close(): Promise<void>;
  readonly config: KeyscopeConfig;
  readonly schema: GraphQLSchema;
  readonly apollo: ApolloServer<KeyscopeContext>;
  readonly httpServer: Server;
  readonly database: Database;
  readonly keys: KeyService;
  readonly users: UserService;
  readonly audit: AuditService;
  readonly cache: KeyCache;
  readonly verifier: KeyVerifier;
  readonly usage: UsageRecorder;
  readonly redis: Redis | undefined;
  readonly logger: Logger;
}

/**
 * Opens (and migrates) the database, builds the schema with your typeDefs and the management
 * schema, and returns a server ready to listen. The embedded data directory is locked meanwhile.
 */
export async function createKeyscopeServer(options: KeyscopeServerOptions = {}): Promise<KeyscopeServer> {
  const config = resolveConfig(options);
  // A bad @requiresKey stops start-up before the database is opened or migrated.
  buildKeyscopeSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers, managementResolvers: {} });
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const embeddedOnDisk = !config.databaseUrl && config.dataDir !== "memory://";
  const releaseLock: ReleaseLock = embeddedOnDisk ? lockDataDir(config.dataDir, "server") : () => {};
  let database: Database | undefined;
  try {
    database = await openDatabase(config);
    await database.migrate();
    return await assemble(options, config, logger, clock, database, releaseLock);
  } catch (error) {
    await database?.close().catch(() => {});
    releaseLock();
    throw error;
  }
}

async function assemble(
  options: KeyscopeServerOptions,
  config: KeyscopeConfig,
  logger: Logger,
  clock: Clock,
  database: Database,
  releaseLock: ReleaseLock,
): Promise<KeyscopeServer> {
  const { db } = database;
  const cache = new KeyCache({ ...config.cache, clock });
  const verifier = createKeyVerifier({ db, cache, clock, keyPrefix: config.keyPrefix, hashSecret: config.hashSecret, cacheTtlSeconds: config.cache.ttlSeconds });
  const keys = createKeyService({
    db, cache, clock, verifier, keyPrefix: config.keyPrefix, hashSecret: config.hashSecret, maxKeysPerUser: config.limits.maxKeysPerUser,
  });
  const users = createUserService({ db, cache, clock });
  const audit = createAuditService({ db });
  const schema = buildKeyscopeSchema({
    typeDefs: options.typeDefs,
    resolvers: options.resolvers,
    managementResolvers: createManagementResolvers({ db, clock, keys, users, audit }),
  });

  const stopFollowing = await followCacheChanges(database, cache, verifier, logger);
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  const usage = createUsageRecorder({ db, clock, logger, flushSeconds: config.usageFlushSeconds });
  usage.start();
  const resolveAuth = createAuthResolver({
    verifier,
    keySources: config.keySources,
    rateLimiter: createKeyRateLimiter({ redis, defaultPolicy: config.limits.rateLimit }),
    throttle: createFailedAuthThrottle({ redis, policy: config.limits.failedAuth }),
    usage,
  });
  const extend = options.context;
  const context = async (request: KeyRequest): Promise<KeyscopeContext> => {
    const auth = await resolveAuth(request);
    return extend ? { ...(await extend({ request, auth })), auth } : { auth };
  };

  const apollo = createApollo(config, logger, schema);
  await apollo.start();
  const httpServer = createHttpServer({
    apollo,
    context,
    finish: (ctx, addHeader) => finishRequest(ctx?.auth, addHeader, usage),
    checkReady: database.ping,
    maxBodyBytes: config.limits.maxBodyBytes,
    trustProxyHops: config.trustProxyHops,
    logger,
    routes: config.console ? [createConsoleRoute()] : [],
  });

  let closing: Promise<void> | undefined;
  return {
    config, schema, apollo, httpServer, database, keys, users, audit, cache, verifier, usage, redis, logger,
    listen: ({ port = config.port, host = config.host } = {}) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          const shownHost = host && host !== "0.0.0.0" && host !== "::" ? host : "localhost";
          resolve({ url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${address.port}/graphql`, port: address.port });
        });
      }),
    close: () =>
      (closing ??= (async () => {
        await drain(httpServer);
        await apollo.stop();
        await usage.stop(); // every count of the drained requests
        await stopFollowing().catch(() => {});
        await redis?.quit().catch(() => redis.disconnect());
        await database.close();
        releaseLock();
      })()),
  };
}

/**
 * Redis for shared rate limits. Commands fail fast while it is down (no offline queue), and the
 * limiters then fall back to per-instance memory, so requests neither fail nor hang.
 */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported) logger.warn({ err: { message: error.message } }, "Redis unreachable: rate limits fall back to this instance's memory");
    reported = true;
  });
  redis.on("ready", () => {
    if (reported) logger.info("Redis reachable again: rate limits are shared");
    reported = false;
  });
  return redis;
}

/** Stops accepting, lets requests in flight finish (10 s at most), then resolves. */
function drain(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function createApollo(config: KeyscopeConfig, logger: Logger, schema: GraphQLSchema) {
  const armor = new ApolloArmor({
    // Fragments are not levels: without flattening, every spread adds two to the depth.
    maxDepth: { n: config.limits.maxDepth, flattenFragments: true },
    maxAliases: { n: config.limits.maxAliases },
    // Counted by graphql-js's own parser (parseOptions below): armor's Apollo plugin throws from a
    // hook, which turns every syntax error and every refused query into an HTTP 500.
    maxTokens: { enabled: false },
    // Suggestions ("Did you mean …?") reveal the schema; hidden in production by formatError, which
    // also catches the enum-value hints that armor's pattern misses.
    blockFieldSuggestion: { enabled: false },
    costLimit: { enabled: false },
  }).protect();
  return new ApolloServer<KeyscopeContext>({
    schema,
    introspection: config.introspection,
    // Expected refusals need no stack, and unexpected errors are masked (format-error.ts).
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // Whoever owns the process stops the server (main.ts on SIGTERM). Apollo's own handler would
    // re-raise the signal once Apollo alone has stopped, killing the process mid-drain (exit 143).
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: armor.validationRules,
    // graphql-armor's typings come from Apollo's CJS build; the plugins are the same objects.
    plugins: armor.plugins as unknown as ApolloServerPlugin<KeyscopeContext>[],
    formatError: createErrorFormatter(logger, { hideSuggestions: config.production }),
    logger: logger.child({ component: "apollo" }) as never,
    nodeEnv: config.production ? "production" : "development",
  });
}
