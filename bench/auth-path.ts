// Keyscope's own per-request work, without HTTP: the auth resolver and the finish step (read the
// key, verify it, rate limit, RateLimit-* headers, usage count) timed in a loop, with a key and
// without, side by side. HTTP rounds on a shared 2-core machine swing by ±20%; this part
// doesn't involve the network, the load generator or Apollo, so it shows what the key itself costs.
import { CLI_PRINCIPAL } from "../src/auth/principal.ts";
import { createAuthResolver, finishRequest, type KeyRequest } from "../src/auth/context.ts";
import { KeyCache } from "../src/auth/key-cache.ts";
import { createKeyVerifier } from "../src/auth/verify-key.ts";
import { systemClock as clock } from "../src/clock.ts";
import { resolveConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { createKeyService } from "../src/keys/key-service.ts";
import { createFailedAuthThrottle } from "../src/limits/failed-auth-throttle.ts";
import { createKeyRateLimiter } from "../src/limits/rate-limit.ts";
import { createUsageRecorder } from "../src/limits/usage-recorder.ts";
import { createLogger } from "../src/logger.ts";
import { createUserService } from "../src/users/user-service.ts";
import { median } from "./stats.ts";

export interface AuthPathTimes {
  /** Median nanoseconds per request over the measured batches. */
  noKeyNs: number;
  withKeyNs: number;
}

const BATCH = 20_000;
const WARMUP_BATCHES = 5;
const MEASURED_BATCHES = 15;

export async function measureAuthPath(): Promise<AuthPathTimes> {
  const config = resolveConfig({ dataDir: "memory://" });
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const { db } = database;
    const cache = new KeyCache({ ...config.cache, clock });
    const common = { db, cache, clock, keyPrefix: config.keyPrefix, hashSecret: undefined };
    const verifier = createKeyVerifier({ ...common, cacheTtlSeconds: config.cache.ttlSeconds });
    const keys = createKeyService({ ...common, verifier, maxKeysPerUser: config.limits.maxKeysPerUser });
    const user = await createUserService({ db, cache, clock }).createUser(CLI_PRINCIPAL, { email: "bench@example.com", clientTypes: ["mobile"] });
    // A limit the loop never reaches: the limiter still counts every request.
    const rateLimit = { limit: 1_000_000, windowSeconds: 60 };
    const { secret } = await keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "bench", clientType: "mobile", scopes: [], rateLimit });
    // Never started: counts stay in memory, as between two flushes.
    const usage = createUsageRecorder({ db, clock, logger: createLogger("silent"), flushSeconds: 5 });
    const resolveAuth = createAuthResolver({
      verifier,
      keySources: config.keySources,
      rateLimiter: createKeyRateLimiter({ defaultPolicy: config.limits.rateLimit }),
      throttle: createFailedAuthThrottle({ policy: config.limits.failedAuth }),
      usage,
    });

    // The headers autocannon sends, on one keep-alive connection.
    const connection = {};
    const request = (key?: string): KeyRequest => ({
      rawHeaders: ["Host", "127.0.0.1:3000", "Connection", "keep-alive", "content-type", "application/json", ...(key ? ["x-api-key", key] : []), "Content-Length", "26"],
      search: "",
      body: { query: "{ __typename }" },
      clientAddress: "127.0.0.1",
      connection,
    });
    const without = request();
    const withKey = request(secret);
    const headers: string[] = [];

    async function batch(req: KeyRequest): Promise<number> {
      const started = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) {
        const auth = await resolveAuth(req);
        headers.length = 0;
        finishRequest(auth, (name, value) => headers.push(name, value), usage);
      }
      return Number(process.hrtime.bigint() - started) / BATCH;
    }

    for (let i = 0; i < WARMUP_BATCHES; i++) await batch(without), await batch(withKey);
    if (headers.length !== 6) throw new Error("the with-key batch did not produce the RateLimit-* headers");
    const noKeyNs: number[] = [];
    const withKeyNs: number[] = [];
    // Alternating batches, order swapped each time, as in the HTTP rounds.
    for (let i = 0; i < MEASURED_BATCHES; i++) {
      if (i % 2) withKeyNs.push(await batch(withKey)), noKeyNs.push(await batch(without));
      else noKeyNs.push(await batch(without)), withKeyNs.push(await batch(withKey));
    }
    return { noKeyNs: median(noKeyNs), withKeyNs: median(withKeyNs) };
  } finally {
    await database.close();
  }
}
