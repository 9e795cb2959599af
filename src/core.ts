import type { Redis } from "ioredis";
import { createAuditService, type AuditService } from "./audit/audit-service.ts";
import { followCacheChanges } from "./auth/cache-invalidation.ts";
import { createAdmission, throwingRefusals, type Admission, type Auth, type KeyRequest } from "./auth/context.ts";
import { KeyCache } from "./auth/key-cache.ts";
import { createKeyVerifier, type KeyVerifier } from "./auth/verify-key.ts";
import { systemClock, type Clock } from "./clock.ts";
import { resolveConfig, type KeyscopeConfig, type KeyscopeConfigInput } from "./config.ts";
import type { Database, Db } from "./db/client.ts";
import { createKeyService, type IssuedKey, type KeyService } from "./keys/key-service.ts";
import { createFailedAuthThrottle } from "./limits/failed-auth-throttle.ts";
import { createKeyRateLimiter } from "./limits/rate-limit.ts";
import { connectRedis, disconnectRedis } from "./limits/redis.ts";
import { createUsageRecorder, type UsageRecorder } from "./limits/usage-recorder.ts";
import { createLogger, type Logger } from "./logger.ts";
import { noopMetrics, type Metrics } from "./metrics.ts";
import { bootstrapAdmin } from "./users/bootstrap-admin.ts";
import { adminExists } from "./users/user-repository.ts";
import { createUserService, type UserService } from "./users/user-service.ts";

export interface CoreOptions {
  /** Opened and migrated (db/open-migrated.ts); the core uses it and leaves closing it to you. */
  database: Database;
  /** Any part of the configuration; the rest takes the server's defaults. @default {} */
  config?: KeyscopeConfigInput;
  /** @default systemClock */
  clock?: Clock;
  /** @default a pino JSON logger at `config.logLevel` */
  logger?: Logger;
  /** @default noopMetrics */
  metrics?: Metrics;
  /**
   * Serving requests: follow other instances' changes (LISTEN), share rate limits in Redis, write
   * usage on a timer. The operator CLI needs the services alone. @default true
   */
  serving?: boolean;
}

/** Everything Keyscope is, but its doors (HTTP, GraphQL, CLI): built once, closed once. */
export interface Core {
  readonly config: KeyscopeConfig;
  readonly database: Database;
  /** `database.db`. */
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly cache: KeyCache;
  readonly verifier: KeyVerifier;
  readonly keys: KeyService;
  readonly users: UserService;
  readonly audit: AuditService;
  readonly usage: UsageRecorder;
  readonly redis: Redis | undefined;
  /** A request's auth from the key it presents, or why the request is refused (context.ts). */
  readonly admit: (request: KeyRequest) => Promise<Admission>;
  /** The same, a refusal thrown as the GraphQLError Apollo answers with its status. */
  readonly authenticate: (request: KeyRequest) => Promise<Auth>;
  /** Creates the first admin and a key for them; refuses while an enabled admin exists. */
  bootstrapAdmin(email: string): Promise<IssuedKey>;
  /** Whether an enabled admin exists (else bootstrap would create one). */
  hasEnabledAdmin(): Promise<boolean>;
  /** Stops what the core started, in reverse order; the database stays open. Safe to call twice. */
  close(): Promise<void>;
}

/** Builds the services on one database, one cache and one clock, and starts what serving needs. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const config = resolveConfig(options.config ?? {});
  const { database } = options;
  const { db } = database;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? noopMetrics;
  const serving = options.serving ?? true;
  const { keyPrefix, hashSecret } = config;

  const cache = new KeyCache({ ...config.cache, clock, metrics });
  const verifier = createKeyVerifier({ db, cache, clock, keyPrefix, hashSecret, metrics });
  const keys = createKeyService({
    db, cache, clock, verifier, keyPrefix, hashSecret, maxKeysPerUser: config.limits.maxKeysPerUser,
    defaultRateLimit: config.limits.rateLimit,
  });
  const users = createUserService({ db, cache, clock });
  const audit = createAuditService({ db });
  const usage = createUsageRecorder({ db, clock, logger, flushSeconds: config.usageFlushSeconds, metrics });
  metrics.observe({ cacheEntries: () => cache.size, usagePending: () => usage.pendingRequests() });

  // What is started is stopped in reverse order, also when a later start fails.
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  let redis: Redis | undefined;
  try {
    if (serving) {
      const stopFollowing = await followCacheChanges(database, cache, verifier, logger, metrics);
      stops.push(() => stopFollowing().catch(() => {}));
      if (config.redisUrl) {
        const connected = (redis = connectRedis(config.redisUrl, logger));
        stops.push(() => disconnectRedis(connected));
      }
      usage.start();
    }
    // Flushes the counts of every request served (a no-op when nothing was counted).
    stops.push(() => usage.stop());
  } catch (error) {
    await stopAll();
    throw error;
  }

  const admit = createAdmission({
    verifier,
    keySources: config.keySources,
    rateLimiter: createKeyRateLimiter({ redis, defaultPolicy: config.limits.rateLimit }),
    throttle: createFailedAuthThrottle({ redis, policy: config.limits.failedAuth }),
    usage,
    metrics,
  });
  const authenticate = throwingRefusals(admit);
  let closing: Promise<void> | undefined;
  return {
    config, database, db, clock, logger, metrics, cache, verifier, keys, users, audit, usage, redis, admit, authenticate,
    bootstrapAdmin: (email) => bootstrapAdmin({ db, clock, keyPrefix, hashSecret }, email),
    hasEnabledAdmin: () => adminExists(db),
    close: () => (closing ??= stopAll()),
  };
}
